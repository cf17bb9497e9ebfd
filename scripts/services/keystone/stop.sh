#!/bin/bash
# Stops the Keystone of start.sh (same KEYSTONE_DIR).
D=${KEYSTONE_DIR:-/tmp/gnocchi-ts-keystone}
PIDF=$D/run/keystone.pid
if [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; then
  P=$(cat "$PIDF"); kill -TERM "$P"
  for _ in $(seq 1 50); do kill -0 "$P" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$P" 2>/dev/null && kill -KILL "$P"
  echo "keystone stopped"
else
  echo "keystone not running"
fi
rm -f "$PIDF"
