#!/usr/bin/env bash
# Soak of `logbook serve` with retention (not CI; docs/operations.md, "Retention without downtime").
# A heartbeat-heavy load from wrk (64 connections, one durable heartbeat per request, the 64 jobs of
# a worker fleet) for MINUTES, in 10-second windows, while the service drops superseded heartbeats
# every minute (--drop-superseded-heartbeats-every 60s). Each window records the journal file's size,
# the service's resident heap (RssAnon), wrk's p50/p99 and requests, and whether a retention run fell in it.
# At the end: every acknowledged heartbeat is accounted for (stored, or removed by retention as
# superseded), `verify` is sound, the file's growth over the last third is at most 5 % of its size,
# resident memory is flat (at most 10 % growth over the last third), and the p99 of windows with a
# retention run is at most twice that of windows without. Exits 0 only if every check holds; the
# last line is one JSON object. Writes the windows to $OUT (default /tmp/soak.csv) and, with
# --plot FILE, an SVG of size and p99 over time.
#
#   Tools/soak/run.sh [MINUTES] [--plot docs/soak.svg]     # needs wrk and python3
set -euo pipefail
cd "$(dirname "$0")/../.."
MINUTES=${1:-10}
PLOT=
if [ "${2:-}" = "--plot" ]; then PLOT=${3:?--plot needs a file}; fi
PORT=${PORT:-18183}
OUT=${OUT:-/tmp/soak.csv}
DIR=$(mktemp -d)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DIR"' EXIT
command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
swift build -c release --product logbook >/dev/null
BIN=.build/release/logbook
JOURNAL="$DIR/soak.journal"
$BIN --journal "$JOURNAL" serve --port "$PORT" --drop-superseded-heartbeats-every 60s >"$DIR/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "localhost:$PORT/healthz" >/dev/null && break; sleep 0.1; done
kill -0 $SERVER 2>/dev/null || { echo "the server did not start:"; cat "$DIR/server.log"; exit 1; }
for n in $(seq 0 63); do
  curl -sf -X POST "localhost:$PORT/jobs/worker-$n/events" -d '{"type":"started","node":"load"}' >/dev/null
done
echo "window,seconds,file_bytes,heap_kib,requests,non2xx,p50_ms,p99_ms,pruned_total" >"$OUT"
windows=$((MINUTES * 6))
to_ms() { python3 -c "import sys; v=sys.argv[1]; print(float(v[:-2]) if v.endswith('ms') else float(v[:-2])/1000 if v.endswith('us') else float(v[:-1])*1000)" "$1"; }
start=$(date +%s)
for w in $(seq 1 "$windows"); do
  wrk -t2 -c64 -d10s --latency -s Tools/loadtest/post.lua "http://127.0.0.1:$PORT" >"$DIR/wrk.txt" || true
  requests=$(awk '/requests in/ {print $1}' "$DIR/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$DIR/wrk.txt")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$DIR/wrk.txt")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$DIR/wrk.txt")")
  size=$(stat -c %s "$JOURNAL")
  rss=$(awk '/RssAnon/ {print $2}' /proc/$SERVER/status)  # the heap: the journal's mapped pages are not it
  pruned=$(curl -s "localhost:$PORT/metrics" | awk '/^logbook_pruned_events_total/ {print $2}')
  echo "$w,$(( $(date +%s) - start )),$size,$rss,$requests,${non2xx:-0},$p50,$p99,${pruned:-0}" >>"$OUT"
done
kill -TERM $SERVER; wait $SERVER || true
SERVER=
# Every run's count, from the log (a run in progress at the end finishes before the service exits).
pruned=$(grep 'retention: dropped superseded heartbeats' "$DIR/server.log" | grep -o 'dropped=[0-9]*' | cut -d= -f2 | paste -sd+ | bc)
verify=$($BIN --journal "$JOURNAL" verify 2>&1) || { echo "verify failed: $verify"; exit 1; }
events=$($BIN --journal "$JOURNAL" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
python3 Tools/soak/report.py "$OUT" "$events" "${pruned:-0}" "$PLOT"
