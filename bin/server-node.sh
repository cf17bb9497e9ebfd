# shellcheck shell=bash
# Sourced by the server wrappers (gnocchi-api, gnocchi-metricd, gnocchi-statsd):
# `exec_server NAME ARGS...` runs src/cli/NAME.ts on the repository's pinned Node with a
# server's runtime settings (docs/configuration.md, "Node.js flags").
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"

exec_server() {
  local name="$1"
  shift
  # V8 heap flags: a smaller young generation and a larger initial old generation. With V8's
  # defaults a busy API ran a full mark-compact every few dozen milliseconds.
  exec "$ROOT/node_modules/.bin/node" --max-semi-space-size=8 --initial-old-space-size=128 \
    "$ROOT/src/cli/$name.ts" "$@"
}
