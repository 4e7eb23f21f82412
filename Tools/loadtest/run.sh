#!/usr/bin/env bash
# Load test of `logbook serve` on loopback (not CI): 64 concurrent clients posting single durable
# events for 30 s (wrk: acknowledged events/s, p50/p99 latency), then a kill -9 mid-load, a restart,
# and a check that every event that got a 201 is in the journal.
#
#   Tools/loadtest/run.sh [SECONDS]     # needs wrk (apt-get install wrk) and python3
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-30}
PORT=${PORT:-18181}
DIR=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
swift build -c release --product logbook >/dev/null
BIN=.build/release/logbook

$BIN --journal "$DIR/load.journal" serve --port "$PORT" >"$DIR/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "localhost:$PORT/healthz" >/dev/null && break; sleep 0.1; done
# Another server left on the port would answer /healthz: make sure this one is the one running.
kill -0 $SERVER 2>/dev/null || { echo "the server did not start:"; cat "$DIR/server.log"; exit 1; }
for n in $(seq 0 63); do
  curl -sf -X POST "localhost:$PORT/jobs/worker-$n/events" -d '{"type":"started","node":"load"}' >/dev/null
done
echo "== wrk: 64 connections, ${SECONDS_}s, one durable heartbeat per request"
wrk -t2 -c64 -d"${SECONDS_}s" --latency -s Tools/loadtest/post.lua "http://127.0.0.1:$PORT" | tee "$DIR/wrk.txt"
curl -s "localhost:$PORT/metrics" | grep -E '^logbook_group_commit_events_(sum|count)' || true
if ! kill -TERM $SERVER 2>/dev/null; then
  status=0; wait $SERVER || status=$?
  echo "the server exited during the load (status $status); its log ends:"; tail -30 "$DIR/server.log"
  exit 1
fi
wait $SERVER || true
echo "== kill -9 mid-load, restart, every 201 present?"
python3 Tools/loadtest/kill_check.py "$BIN" "$DIR/kill.journal" "$PORT" 3
