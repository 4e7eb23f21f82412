#!/usr/bin/env bash
# The cost of event ids in the service (not CI): 64 connections posting single durable heartbeats,
# alternately without ids (post.lua) and with a time-ordered id on every event (post_ids.lua), each
# on a fresh journal, ROUNDS times; prints requests/s and p99 per run.
#
#   Tools/loadtest/ids.sh [SECONDS] [ROUNDS]    # needs wrk
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-20}
ROUNDS=${2:-3}
PORT=${PORT:-18182}
DIR=$(mktemp -d)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
swift build -c release --product logbook >/dev/null
BIN=.build/release/logbook
run() {  # $1: script, $2: label
  rm -f "$DIR"/load.journal*
  $BIN --journal "$DIR/load.journal" serve --port "$PORT" >"$DIR/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "localhost:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  kill -0 $SERVER 2>/dev/null || { echo "the server did not start:"; cat "$DIR/server.log"; exit 1; }
  for n in $(seq 0 63); do
    curl -sf -X POST "localhost:$PORT/jobs/worker-$n/events" -d '{"type":"started","node":"load"}' >/dev/null
  done
  wrk -t2 -c64 -d"${SECONDS_}s" --latency -s "Tools/loadtest/$1" "http://127.0.0.1:$PORT" >"$DIR/wrk.txt"
  local rps p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$DIR/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$DIR/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$DIR/wrk.txt")
  echo "$2 requests/s $rps p99 $p99 non-2xx ${non2xx:-0}"
  kill -TERM $SERVER; wait $SERVER || true
}
for _ in $(seq "$ROUNDS"); do
  run post.lua "without-ids"
  run post_ids.lua "with-ids"
done
