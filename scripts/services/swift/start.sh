#!/bin/bash
# Single-node OpenStack Swift (Debian packages, 1 replica) with tempauth and the S3 API (s3api)
# on 127.0.0.1:${SWIFT_PORT:-8080}, for the tests of the s3 and swift drivers.
# State, logs and pids live in ${SWIFT_STATE_DIR:-/tmp/gnocchi-ts-swift}; RESET=1 wipes it first.
# Users (tempauth): test:tester / testing (S3: access key test:tester, secret testing).
# Keystone auth as well (keystoneauth, accounts KEY_<project id>) when SWIFT_KEYSTONE=1, or by
# default (auto) when Keystone answers at $SWIFT_KEYSTONE_URL (http://127.0.0.1:5000/v3, i.e.
# scripts/services/keystone/start.sh, started first): a second proxy on the same rings, port
# ${SWIFT_KEYSTONE_PORT:-PORT+1}, with authtoken + keystoneauth, and the object-store service and
# its endpoints registered in Keystone on it (keystone-endpoint.py). A second proxy rather than
# both auths in one pipeline: there, authtoken asks Keystone about every tempauth token (404,
# then a new service token: ~0.5 s a request under load). SWIFT_KEYSTONE=0: tempauth only.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
D=${SWIFT_STATE_DIR:-/tmp/gnocchi-ts-swift}
PORT=${SWIFT_PORT:-8080}
# Backend ports: proxy port + 1..3 would collide with defaults; derive from PORT to allow two instances.
OBJ=$((PORT - 1880)); CONT=$((PORT - 1879)); ACC=$((PORT - 1878)); MC=$((PORT + 3231))
E=$D/etc; R=$D/run; L=$D/log
KEYSTONE=${SWIFT_KEYSTONE_URL:-http://127.0.0.1:5000/v3}
case "${SWIFT_KEYSTONE:-auto}" in
  0) WITH_KEYSTONE=0 ;;
  1) WITH_KEYSTONE=1 ;;
  *) if curl -sf -o /dev/null --max-time 5 "$KEYSTONE" && /usr/bin/python3 -c 'import keystonemiddleware' 2>/dev/null
     then WITH_KEYSTONE=1; else WITH_KEYSTONE=0; fi ;;
esac
KPORT=${SWIFT_KEYSTONE_PORT:-$((PORT + 1))}
if [ -f $R/proxy.pid ] && kill -0 "$(cat $R/proxy.pid)" 2>/dev/null; then
  echo "swift already running (proxy pid $(cat $R/proxy.pid))"; exit 0
fi
if [ "${RESET:-0}" = 1 ]; then rm -rf "$D"; fi
mkdir -p $D/srv/d1 $E $R $L
render() { # template, output, proxy port, auth middlewares
  sed -e "s#@STATE@#$D#g" -e "s#@PORT@#$3#g" -e "s#@OBJ@#$OBJ#g" -e "s#@CONT@#$CONT#g" \
    -e "s#@ACC@#$ACC#g" -e "s#@MC@#$MC#g" -e "s#@AUTH@#$4#g" -e "s#@KEYSTONE@#$KEYSTONE#g" \
    "$1" > "$2"
}
for f in "$HERE"/etc/*.conf; do render "$f" "$E/$(basename "$f")" "$PORT" "s3api tempauth"; done
if [ "$WITH_KEYSTONE" = 1 ]; then
  render "$HERE/etc/proxy-server.conf" "$E/proxy-keystone.conf" "$KPORT" "authtoken keystoneauth"
  # The catalog entry clients with swift_auth_version = 3 find the storage URL in.
  KEYSTONE_URL=$KEYSTONE SWIFT_PUBLIC_URL="http://127.0.0.1:$KPORT/v1/KEY_%(project_id)s" \
    /usr/bin/python3 "$HERE/keystone-endpoint.py" || { echo "registering swift in Keystone failed"; exit 1; }
fi
# swift.conf: hash suffix, read by every server (Debian's /etc/swift is not used).
printf '[swift-hash]\nswift_hash_path_suffix = gnocchi-ts-tests\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n' > $E/swift.conf
# Rings: part_power 10, 1 replica, min_part_hours 1.
for s in object:$OBJ container:$CONT account:$ACC; do
  n=${s%%:*}; p=${s##*:}
  if [ ! -f $E/$n.ring.gz ]; then
    swift-ring-builder $E/$n.builder create 10 1 1 >/dev/null
    swift-ring-builder $E/$n.builder add r1z1-127.0.0.1:$p/d1 100 >/dev/null
    swift-ring-builder $E/$n.builder rebalance >/dev/null || true
  fi
done
start() { # name, command...
  local n=$1; shift
  if [ -f $R/$n.pid ] && kill -0 "$(cat $R/$n.pid)" 2>/dev/null; then return; fi
  SWIFT_CONF_FILE=$E/swift.conf nohup "$@" > $L/$n.log 2>&1 &
  echo $! > $R/$n.pid
}
# tempauth keeps its tokens in memcached.
start memcached memcached -l 127.0.0.1 -p $MC -U 0 -m 64 -u nobody
for n in account container object; do start $n swift-$n-server $E/$n-server.conf -v; done
start proxy swift-proxy-server $E/proxy-server.conf -v
PORTS="$OBJ $CONT $ACC $PORT"
if [ "$WITH_KEYSTONE" = 1 ]; then
  start proxy-keystone swift-proxy-server $E/proxy-keystone.conf -v
  PORTS="$PORTS $KPORT"
fi
for p in $PORTS; do
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null http://127.0.0.1:$p/healthcheck && break
    sleep 0.1
  done
  curl -sf -o /dev/null http://127.0.0.1:$p/healthcheck || { echo "port $p not ready"; tail -n 20 $L/*.log; exit 1; }
done
if [ "$WITH_KEYSTONE" = 1 ]; then AUTH="tempauth and S3 on $PORT, Keystone on $KPORT"; else AUTH="tempauth and S3"; fi
echo "swift ready on http://127.0.0.1:$PORT ($AUTH; state $D)"
