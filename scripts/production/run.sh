#!/usr/bin/env bash
# The production profile without docker (`make test-production`):
#   1. installs Debian's postgresql, redis-server and chromium when missing (apt-get);
#   2. starts a throwaway PostgreSQL cluster (Dagster storage + MLflow backend) and a
#      throwaway redis-server over TCP with AOF (appendfsync everysec), both on
#      127.0.0.1 and free ports, under one temporary folder;
#   3. exports the GBREC_*/DAGSTER_* environment and runs tests/production (two API
#      processes sharing them);
#   4. starts a three-master Redis Cluster (three redis-server --cluster-enabled yes,
#      redis-cli --cluster create) and runs the experiment, key, audit, delivery,
#      monitoring, privacy and backup tests against it (GBREC_TEST_REDIS_URL);
#   5. runs the Chromium dashboard test on embedded engines and the README screenshots'
#      structure check (scripts/screenshots.sh --check);
#   6. always stops every server and deletes the folder (GBREC_PRODUCTION_KEEP=1 keeps it).
# Extra arguments go to the tests/production pytest run, e.g. `bash scripts/production/run.sh -k deploy`.
# GBREC_PRODUCTION_STEPS picks steps (default "production cluster dashboard screenshots"),
# e.g. GBREC_PRODUCTION_STEPS=cluster runs the Redis Cluster pass alone.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${GBREC_PYTHON:-$ROOT/.venv/bin/python}"
cd "$ROOT"
# shellcheck source=scripts/production/lib.sh
source "$HERE/lib.sh"

[ -x "$PY" ] || die "$PY not found; run 'make' first (it creates .venv)"

WORK=
CHILD=
run_child() {
  # In the background + wait, so a signal reaches our trap at once instead of after
  # pytest finishes (bash defers traps while a foreground command runs).
  "$@" &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=
  return "$rc"
}

stop_child() {
  [ -n "$CHILD" ] || return 0
  # SIGINT, not SIGTERM: pytest turns it into KeyboardInterrupt and runs fixture
  # teardown, which stops the API processes it started.
  kill -INT "$CHILD" 2>/dev/null || true
  local i
  for i in $(seq 1 60); do
    kill -0 "$CHILD" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL "$CHILD" 2>/dev/null || true
  wait "$CHILD" 2>/dev/null || true
  CHILD=
}

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  stop_child
  stop_redis_cluster
  stop_redis
  stop_postgres
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "${GBREC_PRODUCTION_KEEP:-0}" = 1 ]; then
      log "kept $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

STEPS=" ${GBREC_PRODUCTION_STEPS:-production cluster dashboard screenshots} "
wants() { [[ "$STEPS" == *" $1 "* ]]; }

# Test modules run again on the Redis Cluster, in two pytest runs. The API modules go
# in this order: each builds an API whose background tasks write to Redis until the
# API's fixture ends, and the cluster, unlike a test's embedded server, is shared; the
# module-scoped APIs of test_privacy and test_admin_cli end with their module, the
# session-scoped one of test_auth only with the run, so it comes last. Left out:
# tests/core/delivery/test_delivery_start.py (45 s of MLflow and training around one
# experiment create, which the experiment tests cover) and test_cluster_url.py (URL
# parsing, the same with or without a cluster). test_redis_cluster.py starts a cluster
# of its own, which kills a master: it runs here because the profile guarantees
# `redis-server`, which `make test` may not have.
CLUSTER_CORE_TESTS=(tests/core/experiments tests/core/access tests/core/delivery/test_loop.py
  tests/core/delivery/test_notify.py tests/core/monitoring tests/core/backup
  tests/core/store/test_declared_keys.py tests/core/store/test_redis_cluster.py)
CLUSTER_API_TESTS=(tests/graphql/test_privacy.py tests/graphql/test_admin_cli.py
  tests/graphql/test_auth.py)

install_packages
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gbrec-production.XXXXXX")"
# PostgreSQL runs as 'postgres' and must traverse this folder to reach its own.
chmod 755 "$WORK"
log "work folder $WORK"
if wants production; then
  start_postgres
  start_redis
  write_dagster_home
  export_profile_env
fi

# Background jobs of a script start with SIGINT ignored, and Python then never installs its
# KeyboardInterrupt handler; restore it so stop_child's SIGINT runs fixture teardown.
PYTEST=("$PY" -c 'import signal, sys, pytest
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.exit(pytest.main(sys.argv[1:]))')

# `env` without any GBREC_*/DAGSTER_* setting: the suite's own defaults.
read -r -a NO_PROFILE_ENV <<<"env $(compgen -e | grep -E '^(GBREC_|DAGSTER_)' | sed 's/^/-u /' | tr '\n' ' ')"

cluster_pass() {
  # The same test modules as in `make test`, on the cluster; every test empties it first.
  local rc=0 started=$SECONDS
  start_redis_cluster
  local on_cluster=("${NO_PROFILE_ENV[@]}" GBREC_TEST_REDIS_URL="$REDIS_CLUSTER_URL")
  run_child "${on_cluster[@]}" "${PYTEST[@]}" "${CLUSTER_CORE_TESTS[@]}" -p no:cacheprovider \
    --timeout 900 -q || rc=$?
  run_child "${on_cluster[@]}" "${PYTEST[@]}" "${CLUSTER_API_TESTS[@]}" -p no:cacheprovider \
    --timeout 900 -q || rc=$?
  stop_redis_cluster
  log "Redis Cluster pass: $((SECONDS - started)) s (exit $rc)"
  return "$rc"
}

rc=0
if wants production; then
  log "running the production tests"
  run_child "${PYTEST[@]}" tests/production -p no:cacheprovider --timeout 900 -v "$@" || rc=$?
fi
if wants cluster; then
  log "running the Redis Cluster pass (experiments, keys, audit, delivery, monitoring, privacy, backup)"
  cluster_pass || rc=$?
fi
# The dashboard's Chromium test is built for the embedded engines (its own fresh registry
# and Redis); it runs here because this profile guarantees `chromium` is installed.
if wants dashboard; then
  log "running the dashboard browser test (embedded engines, Chromium)"
  run_child "${NO_PROFILE_ENV[@]}" "${PYTEST[@]}" tests/e2e/test_dashboard.py \
    -p no:cacheprovider --timeout 900 -v || rc=$?
fi
# The README's screenshots: a demo (embedded engines, tiny scale) whose three pages must
# still show what the pictures show (structure, not pixels); the pictures are not rewritten.
if wants screenshots; then
  log "checking the README screenshots' pages (gbrec demo, Chromium)"
  run_child "${NO_PROFILE_ENV[@]}" GBREC_PYTHON="$PY" bash scripts/screenshots.sh --check \
    || rc=$?
fi
exit "$rc"
