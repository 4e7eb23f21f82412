#!/usr/bin/env bash
# What one request costs a node on PostgreSQL and the embedded service, at several numbers of
# connections (docs/scale-out.md, "Where the time goes"; not CI). One PostgreSQL 15 on loopback
# with durable defaults, one `logbook serve --postgres` node and one embedded `logbook serve`, both
# running throughout; for each CONNS value, wrk (Tools/scale-out/post.lua: single durable events)
# drives the node, then the embedded service, for SECS seconds each. Per request it prints the
# process's CPU (utime+stime), PostgreSQL's CPU (the postmaster, its exited and its live backends)
# and the process's thread switches (voluntary and not, every thread, from /proc/PID/task/*/status).
# With one connection every request is a commit of its own, so the node's figures are per commit.
#
#   Tools/scale-out/per-request.sh            # CONNS="1 4 16 64" SECS=8; needs postgresql-15, wrk
#   LOGBOOK_BIN=/path/to/logbook …            # another build (a before/after comparison)
set -euo pipefail
cd "$(dirname "$0")/../.."
CONNS=${CONNS:-1 4 16 64}
SECS=${SECS:-8}
PGPORT=${PGPORT:-55433}
BASE=${PORT:-18500}
source Tools/scale-out/lib.sh per-request

switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s }'; }
start() {  # port, then logbook's global options
  local port=$1; shift
  "$BIN" "$@" serve --port "$port" --lease 1h >>"$DIR/serve-$port.log" 2>&1 &
  PIDS+=($!); STARTED=$!
  for _ in $(seq 300); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "logbook serve on $port did not start"; cat "$DIR/serve-$port.log"; exit 1
}
measure() {  # label pid port connections
  local c0 p0 s0 c1 p1 s1 rate
  c0=$(cpu "$2"); p0=$(pg_cpu); s0=$(switches "$2")
  ACKED="$DIR/acked" PREFIX="$1$4-" wrk -t"$4" -c"$4" -d"${SECS}s" --latency -s Tools/scale-out/post.lua "http://127.0.0.1:$3" >"$DIR/wrk.txt" 2>&1
  c1=$(cpu "$2"); p1=$(pg_cpu); s1=$(switches "$2")
  rate=$(awk '/^Requests\/sec/ { print $2 }' "$DIR/wrk.txt")
  python3 -c "
n = $rate * $SECS
print('%-9s %4d  %9.0f  %9.1f  %9.1f  %9.2f' % ('$1', $4, $rate, ($c1 - $c0) / n * 1e6, ($p1 - $p0) / n * 1e6, ($s1 - $s0) / n))"
}
start $((BASE + 1)) --postgres "$URL" --journal "$DIR/node.journal"; NODE=$STARTED
start $((BASE + 2)) --journal "$DIR/embedded.journal"; EMBEDDED=$STARTED
echo "== $(nproc) CPUs; PostgreSQL 15 on 127.0.0.1:$PGPORT (fsync on, synchronous_commit on); $SECS s per line"
echo "process   conns  requests/s  CPU µs/req  PG µs/req  switches/req"
for c in $CONNS; do
  measure node "$NODE" $((BASE + 1)) "$c"
  measure embedded "$EMBEDDED" $((BASE + 2)) "$c"
done
