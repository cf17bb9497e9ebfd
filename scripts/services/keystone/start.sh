#!/bin/bash
# A real Keystone (Debian's keystone + uwsgi, SQLite) for the tests, on 127.0.0.1:$KEYSTONE_PORT
# (default 5000), state under $KEYSTONE_DIR (default /tmp/gnocchi-ts-keystone). RESET=1 wipes
# the state first. Users and projects: seed.py. Tokens live $KEYSTONE_TOKEN_EXPIRATION s (20).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
D=${KEYSTONE_DIR:-/tmp/gnocchi-ts-keystone}
PORT=${KEYSTONE_PORT:-5000}
EXPIRATION=${KEYSTONE_TOKEN_EXPIRATION:-20}
PIDF=$D/run/keystone.pid
URL=http://127.0.0.1:$PORT/v3
if [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; then
  echo "keystone already running (pid $(cat "$PIDF")) on $URL"; exit 0
fi
[ "${RESET:-0}" = 1 ] && rm -rf "$D/data" "$D/fernet-keys" "$D/credential-keys" "$D/log"
mkdir -p "$D/data" "$D/log" "$D/run" "$D/fernet-keys" "$D/credential-keys"
chmod 700 "$D/fernet-keys" "$D/credential-keys"
sed -e "s|@DIR@|$D|g" -e "s|@EXPIRATION@|$EXPIRATION|g" "$HERE/keystone.conf.in" > "$D/keystone.conf"
# keystone-manage prints eventlet noise at exit: keep it in a log, show it only on failure.
KM() {
  keystone-manage --config-file "$D/keystone.conf" "$@" >> "$D/log/manage.log" 2>&1 ||
    { echo "keystone-manage $1 failed"; tail -n 30 "$D/log/manage.log"; exit 1; }
}
if [ ! -f "$D/data/.seeded" ]; then
  [ -f "$D/fernet-keys/0" ] || KM fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  [ -f "$D/credential-keys/0" ] || KM credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
  KM db_sync
  # WAL, or an open read transaction makes keystone's writes fail with "database is locked".
  /usr/bin/python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA journal_mode=WAL')" "$D/data/keystone.db"
  KM bootstrap --bootstrap-password admin --bootstrap-username admin \
    --bootstrap-project-name admin --bootstrap-role-name admin \
    --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$URL/" --bootstrap-internal-url "$URL/" --bootstrap-public-url "$URL/"
fi
# One process, one thread (SQLite); Connection: close, or uwsgi's http-socket resets reused
# connections.
nohup uwsgi --plugins python3 --http-socket "127.0.0.1:$PORT" \
  --wsgi-file /usr/bin/keystone-wsgi-public --env "OS_KEYSTONE_CONFIG_FILES=$D/keystone.conf" \
  --master --processes 1 --threads 1 --die-on-term --buffer-size 65535 --need-app \
  --add-header 'Connection: close' > "$D/log/uwsgi.log" 2>&1 &
echo $! > "$PIDF"
for _ in $(seq 1 300); do
  curl -sf -o /dev/null "$URL" && break
  kill -0 "$(cat "$PIDF")" 2>/dev/null || { echo "uwsgi died"; tail -n 30 "$D/log/uwsgi.log"; exit 1; }
  sleep 0.1
done
curl -sf -o /dev/null "$URL" || { echo "keystone not ready on $URL"; exit 1; }
if [ ! -f "$D/data/.seeded" ]; then
  KEYSTONE_URL=$URL /usr/bin/python3 "$HERE/seed.py" && touch "$D/data/.seeded"
fi
echo "keystone ready on $URL (pid $(cat "$PIDF"))"
