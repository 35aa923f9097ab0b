#!/usr/bin/env bash
# Runs once, on the first start of an empty Postgres volume (docker-entrypoint-initdb.d):
# one role and one database each for Dagster's instance storage and MLflow's backend
# store, so neither can touch the other's tables. Idempotent: re-running it is a no-op.
set -euo pipefail

create_database() {
    local db="$1" user="$2" password="$3"
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --dbname "${POSTGRES_DB:-postgres}" \
        -v db="${db}" -v usr="${user}" -v pw="${password}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'usr', :'pw')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'usr') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'usr')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'db') \gexec
SQL
    echo "init-databases: database ${db} owned by ${user} is ready"
}

create_database "${DAGSTER_POSTGRES_DB:?}" "${DAGSTER_POSTGRES_USER:?}" "${DAGSTER_POSTGRES_PASSWORD:?}"
create_database "${MLFLOW_POSTGRES_DB:?}" "${MLFLOW_POSTGRES_USER:?}" "${MLFLOW_POSTGRES_PASSWORD:?}"
