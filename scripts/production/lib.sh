# shellcheck shell=bash
# Helpers of scripts/production/run.sh: Debian packages, a throwaway PostgreSQL cluster,
# a throwaway redis-server and a throwaway three-master Redis Cluster, each on 127.0.0.1
# and free ports, and their teardown.
# Sourced, not executed; every function reports on stderr with the [production] prefix.

log() { printf '[production] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "root or sudo is needed to run: $*"
  fi
}

pg_bindir() {
  # The newest installed major version (Debian 12 ships 15).
  find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

random_secret() {
  "$PY" -c 'import secrets; print(secrets.token_hex(16))'
}

missing_packages() {
  local bindir missing=()
  bindir=$(pg_bindir)
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then missing+=(postgresql); fi
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  echo "${missing[*]}"
}

install_packages() {
  local missing rc=0 policy=/usr/sbin/policy-rc.d created=0
  missing=$(missing_packages)
  if [ -z "$missing" ]; then
    log "postgresql, redis-server and chromium are installed"
    return 0
  fi
  log "installing Debian packages: $missing"
  # The packages' maintainer scripts would start system-wide services on the default
  # ports; this profile runs its own throwaway instances, so forbid service starts.
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    created=1
  fi
  # shellcheck disable=SC2086  # $missing is a space-separated package list
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
  if [ "$rc" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends $missing || rc=$?
  fi
  if [ "$created" -eq 1 ]; then as_root rm -f "$policy"; fi
  [ "$rc" -eq 0 ] || die "apt-get failed (exit $rc) installing: $missing"
  [ -z "$(missing_packages)" ] || die "still missing after install: $(missing_packages)"
}

as_postgres() {
  # The server refuses to run as root, so as root the cluster belongs to 'postgres'.
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  # Sets PG_DIR PG_PORT PG_USER PG_PASSWORD; creates the databases 'dagster' and 'mlflow'.
  local bindir
  bindir=$(pg_bindir)
  PG_DIR="$WORK/postgres"
  PG_PORT=$(free_port)
  PG_USER=gbrec
  PG_PASSWORD=$(random_secret)
  mkdir -p "$PG_DIR"
  printf '%s\n' "$PG_PASSWORD" >"$PG_DIR/pwfile"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$PG_DIR"; fi
  chmod 700 "$PG_DIR"
  log "initdb $PG_DIR/data ($bindir)"
  as_postgres "$bindir/initdb" -D "$PG_DIR/data" -U "$PG_USER" --pwfile="$PG_DIR/pwfile" \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 --encoding=UTF8 --no-sync \
    >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; die "initdb failed"; }
  rm -f "$PG_DIR/pwfile"
  as_postgres "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$PG_DIR" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; die "PostgreSQL did not start"; }
  PG_STARTED=1
  local db
  for db in dagster mlflow; do
    PGPASSWORD="$PG_PASSWORD" "$bindir/createdb" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$db" \
      || die "createdb $db failed"
  done
  log "PostgreSQL on 127.0.0.1:$PG_PORT (databases dagster, mlflow)"
}

stop_postgres() {
  [ "${PG_STARTED:-0}" -eq 1 ] || return 0
  as_postgres "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
    || log "pg_ctl stop failed; see $PG_DIR/server.log"
  PG_STARTED=0
}

start_redis() {
  # Sets REDIS_DIR REDIS_PORT REDIS_PID: TCP on loopback, AOF fsynced every second.
  REDIS_DIR="$WORK/redis"
  REDIS_PORT=$(free_port)
  mkdir -p "$REDIS_DIR"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
    --appendonly yes --appendfsync everysec --save '' --daemonize no \
    --logfile "$REDIS_DIR/redis.log" &
  REDIS_PID=$!
  local i
  for i in $(seq 1 100); do
    if "$PY" -c "import redis, sys; sys.exit(0 if redis.Redis(port=$REDIS_PORT).ping() else 1)" \
      2>/dev/null; then
      log "redis-server on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID, appendonly everysec)"
      return 0
    fi
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$REDIS_DIR/redis.log" >&2 || true
  die "redis-server did not answer on port $REDIS_PORT (attempt $i)"
}

stop_redis() {
  [ -n "${REDIS_PID:-}" ] || return 0
  kill "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=
}

cluster_ports() {
  # Three distinct free ports whose cluster bus ports (port + 10000) are free too
  # (the suite's own helper; run.sh runs from the repository root).
  "$PY" -c 'from tests.cluster_support import free_ports; print(*free_ports(3))'
}

start_redis_cluster() {
  # Sets CLUSTER_PORTS CLUSTER_PIDS REDIS_CLUSTER_URL: three masters (no replicas) on
  # loopback, AOF fsynced every second, joined by `redis-cli --cluster create`.
  local port dir i nodes=() ok
  CLUSTER_DIR="$WORK/redis-cluster"
  read -r -a CLUSTER_PORTS <<<"$(cluster_ports)"
  CLUSTER_PIDS=()
  for port in "${CLUSTER_PORTS[@]}"; do
    dir="$CLUSTER_DIR/$port"
    mkdir -p "$dir"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --cluster-enabled yes \
      --cluster-config-file nodes.conf --appendonly yes --appendfsync everysec --save '' \
      --daemonize no --logfile "$dir/redis.log" &
    CLUSTER_PIDS+=("$!")
    nodes+=("127.0.0.1:$port")
  done
  for port in "${CLUSTER_PORTS[@]}"; do
    for i in $(seq 1 100); do
      [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
      sleep 0.1
    done
    [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] \
      || die "cluster node on port $port did not answer; see $CLUSTER_DIR/$port/redis.log"
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
    >"$CLUSTER_DIR/create.log" 2>&1 || { cat "$CLUSTER_DIR/create.log" >&2; die "redis-cli --cluster create failed"; }
  for i in $(seq 1 300); do
    ok=0
    for port in "${CLUSTER_PORTS[@]}"; do
      redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && ok=$((ok + 1))
    done
    [ "$ok" -eq 3 ] && break
    sleep 0.1
  done
  [ "$ok" -eq 3 ] || die "the Redis Cluster did not reach cluster_state:ok"
  REDIS_CLUSTER_URL="redis+cluster://$(IFS=,; echo "${nodes[*]}")"
  log "Redis Cluster of 3 masters on ${nodes[*]} (appendonly everysec)"
}

stop_redis_cluster() {
  local pid
  for pid in "${CLUSTER_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${CLUSTER_PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
}

write_dagster_home() {
  DAGSTER_HOME="$WORK/dagster"
  mkdir -p "$DAGSTER_HOME"
  cp "$HERE/dagster.yaml" "$DAGSTER_HOME/dagster.yaml"
}

export_profile_env() {
  export GBREC_PRODUCTION_PROFILE=1
  export GBREC_ENV=production
  export GBREC_HOME="$WORK/home"
  # The API processes have homes of their own: they verify bundles with this shared key.
  GBREC_SIGNING_KEY="${GBREC_SIGNING_KEY:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}"
  export GBREC_SIGNING_KEY
  # ... and pseudonymise user ids with this one, so both count a user once in Redis.
  GBREC_PSEUDONYM_KEY="${GBREC_PSEUDONYM_KEY:-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')}"
  export GBREC_PSEUDONYM_KEY
  export GBREC_SYNTHETIC_SCALE=tiny
  export GBREC_MODEL_WATCH_INTERVAL=2
  export GBREC_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  # postgresql+psycopg2: SQLAlchemy 2.1 would pick psycopg 3, which is not installed.
  export GBREC_MLFLOW_TRACKING_URI="postgresql+psycopg2://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/mlflow"
  export GBREC_MLFLOW_ARTIFACT_ROOT="file://$WORK/mlartifacts"
  export DAGSTER_HOME
  export DAGSTER_POSTGRES_HOST=127.0.0.1
  export DAGSTER_POSTGRES_PORT="$PG_PORT"
  export DAGSTER_POSTGRES_DB=dagster
  export DAGSTER_POSTGRES_USER="$PG_USER"
  export DAGSTER_POSTGRES_PASSWORD="$PG_PASSWORD"
  mkdir -p "$GBREC_HOME" "$WORK/mlartifacts"
}
