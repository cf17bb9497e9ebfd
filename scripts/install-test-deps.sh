#!/usr/bin/env bash
# Installs and starts what the full test suite needs on Debian/Ubuntu (run as root, or with sudo):
# upstream Gnocchi and its client for the cross-checks, gabbi for the conformance suite,
# Prometheus, and the PostgreSQL, MariaDB and Redis servers; then checks that the tests can
# reach them as they expect (postgres@127.0.0.1:5432 and root@127.0.0.1:3306 without password,
# Redis on 127.0.0.1:${GNOCCHI_TEST_REDIS_PORT:-6379}). .ci/run calls it before `npm test`.
# The conformance data (../shared or GNOCCHI_SHARED_DIR) is not a package: see README "Tests".
set -euo pipefail

log() { printf '[test-deps] %s\n' "$*"; }

# The Debian packages the tests use (keep src/testing/test-tools.ts's hints in step).
DEB_PACKAGES=(
  python3-gabbi python3-yaml                             # conformance harness
  python3-gnocchi python3-lz4 python3-redis python3-tooz # upstream: differential, golden, mixed deployment
  python3-gnocchiclient                                  # the `gnocchi` CLI against our server
  python3-ceilometer python3-aodh                        # Ceilometer's publisher, Aodh's evaluators (keystone mode)
  python3-webtest python3-testscenarios python3-keystonemiddleware # upstream's test_rest.py (keystone mode)
  prometheus                                             # a real remote-write client
  keystone uwsgi uwsgi-plugin-python3 python3-keystoneclient python3-openstackclient memcached # auth_mode = keystone
  postgresql postgresql-client mariadb-server mariadb-client redis-server redis-tools
  chromium                                               # web console browser tests (playwright-core)
  swift swift-proxy swift-object swift-container swift-account python3-swiftclient python3-boto3 # s3/swift drivers
  python3-keystonemiddleware                            # Swift with Keystone auth (authtoken in its proxy)
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then log "run as root (sudo $0) to install: ${missing[*]}"; exit 1; fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Services: start any that is down (no systemd in containers), then wait for it.
REDIS_PORT="${GNOCCHI_TEST_REDIS_PORT:-6379}"
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
maria_up() { mariadb-admin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; }
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

pg_up || { log "starting PostgreSQL"; pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true; }
maria_up || { log "starting MariaDB"; start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true; }
redis_up || {
  log "starting Redis on port $REDIS_PORT"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/test-deps.log || true
}
for svc in pg maria redis; do
  for _ in $(seq 1 60); do "${svc}_up" && break; sleep 1; done
  "${svc}_up" || { log "ERROR: service $svc is not reachable"; exit 1; }
done

# --- Access as the tests connect (GNOCCHI_TEST_PG_URL / GNOCCHI_TEST_MYSQL_URL choose others).
ok=true
if ! psql -h 127.0.0.1 -U postgres -d postgres -qc 'SELECT 1' >/dev/null 2>&1; then
  ok=false
  log "PostgreSQL refuses postgres@127.0.0.1: on a test machine add 'host all postgres 127.0.0.1/32 trust'"
  log "  to the top of pg_hba.conf and reload, or set GNOCCHI_TEST_PG_URL"
fi
if ! mariadb -h 127.0.0.1 -u root -e 'SELECT 1' >/dev/null 2>&1; then
  ok=false
  log "MariaDB refuses root@127.0.0.1 without password: on a test machine run"
  log "  mariadb -e \"ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('')\""
  log "  or set GNOCCHI_TEST_MYSQL_URL"
fi
$ok || exit 1
# Keystone on 127.0.0.1:5000 (SQLite, ~40 s the first time, ~3 s after); the keystone tests need it.
"$(dirname "$0")/services/keystone/start.sh" || { log "ERROR: Keystone did not start"; exit 1; }
# OpenStack Swift with the S3 API on 127.0.0.1:8080 (~10 s); the s3 and swift driver tests need it.
"$(dirname "$0")/services/swift/start.sh" || { log "ERROR: Swift did not start"; exit 1; }
log "ready: Debian packages installed; PostgreSQL, MariaDB, Redis (port $REDIS_PORT), Keystone and Swift reachable"
