#!/bin/bash
# Stops what start.sh started (by pid file).
R=${SWIFT_STATE_DIR:-/tmp/gnocchi-ts-swift}/run
for n in proxy proxy-keystone object container account memcached; do
  f=$R/$n.pid; [ -f "$f" ] || continue
  P=$(cat "$f")
  if kill -0 "$P" 2>/dev/null; then
    kill -TERM "$P"
    for _ in $(seq 1 50); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$P" 2>/dev/null && kill -KILL "$P"
    echo "stopped $n ($P)"
  fi
  rm -f "$f"
done
