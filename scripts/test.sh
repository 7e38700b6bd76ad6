#!/usr/bin/env bash
# Runs the whole test suite against real components (as root): installs what it needs, starts
# Redis and PostgreSQL if they are not running, then lint, types, unit, integration and e2e.
#   scripts/test.sh                 # everything
#   scripts/test.sh -m unit         # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test

# Redis: the one on 6379 if it answers, else one of our own.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    mkdir -p var/redis var/log
    redis-server --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir "$PWD/var/redis" --daemonize yes --logfile "$PWD/var/log/redis-test.log"
    for _ in $(seq 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# PostgreSQL: a cluster on 5432 and a role that may create the tests' throw-away databases.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
    [ -n "$cluster" ] || { pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -1)" main >/dev/null; cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}'); }
    pg_ctlcluster --skip-systemctl-redirect $cluster start
    for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.1; done
fi
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='hotline_test'" 2>/dev/null | grep -q 1 \
    || runuser -u postgres -- psql -qc "CREATE ROLE hotline_test LOGIN SUPERUSER PASSWORD 'hotline_test'" >/dev/null
export PG_TEST_URL="postgresql://hotline_test:hotline_test@127.0.0.1:5432/postgres"

.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/pytest "$@"
