#!/usr/bin/env bash
# The scale-out rig (docs/scale-out.md, "Measured per core"; not CI). One PostgreSQL 15 on loopback
# with durable defaults and pg_stat_statements, NODES `logbook serve --postgres` nodes on it (each
# with its own LMDB replica), and in the same run, one phase after the other on the same machine:
#
#   1. nodes, saturated: wrk (Tools/scale-out/post.lua) with CLIENTS connections spread over the
#      nodes posting single durable events for SECONDS;
#   2. pgbench: CLIENTS durable clients inserting the same rows one per commit, for SECONDS, the
#      nodes still running (idle);
#   3. nodes at about half the saturated rate (wrk's per-connection delay), SECONDS/2: latency;
#   4. with 3 nodes or more, nodes saturated again for SECONDS/2, node 1 killed with SIGKILL at
#      KILL_AT seconds into the phase and restarted (KILL_AT=0: no such phase): its acknowledged
#      events are checked like the others (a phase of its own, so that the throughput of phase 1
#      does not count the clients' reconnection storm while a node is down);
#   5. the embedded service (`logbook serve`, no PostgreSQL), saturated, SECONDS/2: its CPU per event;
#   6. a new node with an empty replica catching up with everything: CPU per applied event.
#
# For each phase: events (or inserts) per second, p50/p99, and CPU-seconds per 1,000 events for each
# role (each node's utime+stime from /proc/PID/stat; PostgreSQL: the postmaster and every backend,
# the exited ones through the postmaster's cumulative fields; the load generator reported apart),
# statements and WAL bytes per event (pg_stat_statements, pg_current_wal_lsn()), and the saturated
# phase's commits: events per commit, the share placed, follower reads per commit. Then every
# acknowledged event must be in every replica at its exact (job, version), and the replicas'
# exports identical.
#
#   NODES=3 Tools/scale-out/run.sh [SECONDS]     # CLIENTS=64 KILL_AT=10; needs postgresql-15, wrk, python3
#   LOGBOOK_BIN=/path/to/logbook …               # another build (a before/after comparison)
#
# The last line is one JSON object. Exits 0 only when nothing acknowledged was lost and the
# replicas are identical.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-60}
NODES=${NODES:-3}
CLIENTS=${CLIENTS:-64}
KILL_AT=${KILL_AT:-10}
[ "$NODES" -ge 3 ] || KILL_AT=0
[ "$KILL_AT" -lt $((SECONDS_ / 2)) ] || KILL_AT=$((SECONDS_ / 6 > 0 ? SECONDS_ / 6 : 1))
PGPORT=${PGPORT:-55432}
BASE=${PORT:-18300}
PGOPTS="-c shared_preload_libraries=pg_stat_statements"
source Tools/scale-out/lib.sh scale-out
psql "CREATE EXTENSION pg_stat_statements" >/dev/null
echo "== PostgreSQL 15 on 127.0.0.1:$PGPORT (fsync on, synchronous_commit on); $(nproc) CPUs; $NODES node(s), $CLIENTS connections"

wal() { psql "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"; }
statements() { psql "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"; }

start_node() {  # index [journal]
  local journal=${2:-$DIR/node-$1.journal}
  "$BIN" --postgres "$URL" --journal "$journal" serve --port $((BASE + $1)) --lease 1h >>"$DIR/node-$1.log" 2>&1 &
  PIDS[$1]=$!
  for _ in $(seq 300); do curl -sf "127.0.0.1:$((BASE + $1))/healthz" >/dev/null && return; sleep 0.1; done
  echo "node $1 did not start"; cat "$DIR/node-$1.log"; exit 1
}
# Commits placed, summed over the nodes' /metrics (empty from a build without the gauge).
placed_total() {
  for i in $(seq 0 $((NODES - 1))); do curl -sf "127.0.0.1:$((BASE + i))/metrics" || true; done |
    awk '/^logbook_shared_log_placed_commits / { t += $2; seen = 1 } END { if (seen) printf "%d\n", t }'
}
node_cpu_total() { local t=0; for i in $(seq 0 $((NODES - 1))); do t=$(echo "$t + $(cpu "${PIDS[$i]}")" | bc); done; printf "%.3f\n" "$t"; }

# One wrk per port, CONNS connections in all; writes the acknowledged events to $DIR/acked-PHASE-*.
# Prints: requests/s, p50 ms, p99 ms, wrk's CPU-seconds.
load() {  # phase seconds delay_ms port...
  local phase=$1 secs=$2 delay=$3; shift 3
  local per=$(( (CLIENTS + $# - 1) / $# )) n=0 pids=()
  for port in "$@"; do
    ACKED="$DIR/acked-$phase-$n" PREFIX="$phase$n-" DELAY_MS="$delay" \
      /usr/bin/time -f "%U %S" -o "$DIR/wrk-$phase-$n.cpu" \
      wrk -t"$per" -c"$per" -d"${secs}s" --timeout 30s --latency -s Tools/scale-out/post.lua "http://127.0.0.1:$port" \
      >"$DIR/wrk-$phase-$n.txt" 2>&1 &
    pids+=($!); n=$((n + 1))
  done
  wait "${pids[@]}" || true
  python3 Tools/scale-out/wrk_summary.py "$DIR" "$phase" "$n"
}

for i in $(seq 0 $((NODES - 1))); do start_node "$i"; done
PORTS=(); for i in $(seq 0 $((NODES - 1))); do PORTS+=($((BASE + i))); done
psql "SELECT pg_stat_statements_reset()" >/dev/null
W0=$(wal); S0=$(statements); P0=$(pg_cpu); N0=$(node_cpu_total); PL0=$(placed_total)

echo "== phase 1: $NODES node(s) saturated, ${SECONDS_}s"
SAT=$(load sat "$SECONDS_" 0 "${PORTS[@]}")
W1=$(wal); S1=$(statements); P1=$(pg_cpu); N1=$(node_cpu_total); PL1=$(placed_total)
# The statements by kind: commits, the placed ones (the nodes' gauge; from older builds, the
# `SELECT 1` that proves a placed one), and follower reads.
KINDS=$(psql "SELECT coalesce(sum(calls) FILTER (WHERE query LIKE '%_commit(%'), 0) || ' ' ||
  coalesce(sum(calls) FILTER (WHERE query = 'SELECT \$1'), 0) || ' ' ||
  coalesce(sum(calls) FILTER (WHERE query LIKE '%pg_control_system() s LEFT JOIN LATERAL%'), 0) FROM pg_stat_statements")
if [ -n "$PL1" ]; then KINDS=$(echo "$KINDS" | awk -v p=$((PL1 - ${PL0:-0})) '{ print $1, p, $3 }'); fi

echo "== phase 2: pgbench, $CLIENTS durable clients, ${SECONDS_}s (the nodes idle)"
psql "CREATE TABLE pgbench_events (position bigint GENERATED ALWAYS AS IDENTITY, tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
  job bytea NOT NULL, version bigint NOT NULL, type smallint NOT NULL, record bytea NOT NULL, event_id uuid NOT NULL UNIQUE,
  UNIQUE (job, version)); CREATE INDEX ON pgbench_events (tx, position); CREATE SEQUENCE pgbench_version;" >/dev/null
RECORD=$(python3 -c "print('\\\\x' + '00' * 88)")  # a heartbeat's record is about 90 bytes
cat >"$DIR/insert.sql" <<SQL
\set job random(1, 1000)
INSERT INTO pgbench_events (job, version, type, record, event_id)
VALUES (convert_to('c' || :job, 'UTF8'), nextval('pgbench_version'), 4, '$RECORD'::bytea, gen_random_uuid());
SQL
chmod a+r "$DIR/insert.sql"
psql "SELECT pg_stat_statements_reset()" >/dev/null
W2=$(wal); P2=$(pg_cpu)
"${AS[@]}" "$PGBIN/pgbench" -n -h "$DIR" -p "$PGPORT" -U postgres -c "$CLIENTS" -j 2 -T "$SECONDS_" -f "$DIR/insert.sql" postgres \
  >"$DIR/pgbench.txt" 2>&1
W3=$(wal); P3=$(pg_cpu); S3=$(statements)
PG_TPS=$(awk '/^tps = / { print $3 }' "$DIR/pgbench.txt")
PG_LAT=$(awk '/latency average/ { print $4 }' "$DIR/pgbench.txt")

SAT_RATE=$(echo "$SAT" | cut -d' ' -f1); SAT_P50=$(echo "$SAT" | cut -d' ' -f2)
PER=$(( (CLIENTS + NODES - 1) / NODES ))
DELAY=$(python3 -c "print(max(0, round($PER * $NODES * 1000 / ($SAT_RATE / 2) - $SAT_P50)))")
echo "== phase 3: $NODES node(s) at about half that rate (a ${DELAY} ms pause per connection), $((SECONDS_ / 2))s"
HALF=$(load half $((SECONDS_ / 2)) "$DELAY" "${PORTS[@]}")

KILL=""; BACK=0
if [ "$KILL_AT" -gt 0 ]; then
  echo "== phase 4: $NODES node(s) saturated, $((SECONDS_ / 2))s; node 1 killed with SIGKILL at ${KILL_AT}s and restarted"
  load kill $((SECONDS_ / 2)) 0 "${PORTS[@]}" >"$DIR/kill.summary" &
  LOADPID=$!
  sleep "$KILL_AT"
  kill -9 "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null || true
  KILLED=$(date +%s.%N)
  start_node 1
  BACK=$(python3 -c "import time; print(round(time.time() - $KILLED, 2))")
  echo "   node 1 back after $BACK s"
  wait "$LOADPID"
  KILL=$(cat "$DIR/kill.summary")
fi

echo "== phase 5: the embedded service (no PostgreSQL), saturated, $((SECONDS_ / 2))s"
"$BIN" --journal "$DIR/embedded.journal" serve --port $((BASE + 9)) --lease 1h >"$DIR/embedded.log" 2>&1 &
EMB_PID=$!; PIDS+=("$EMB_PID")
for _ in $(seq 300); do curl -sf "127.0.0.1:$((BASE + 9))/healthz" >/dev/null && break; sleep 0.1; done
E0=$(cpu "$EMB_PID")
EMB=$(load emb $((SECONDS_ / 2)) 0 $((BASE + 9)))
E1=$(cpu "$EMB_PID")
kill -TERM "$EMB_PID"; wait "$EMB_PID" 2>/dev/null || true

# Every node caught up with the same last seq, then stopped gracefully.
for _ in $(seq 600); do
  seqs=$(for i in $(seq 0 $((NODES - 1))); do curl -sf "127.0.0.1:$((BASE + i))/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lastSeq"])'; done | sort -u | wc -l)
  [ "$seqs" = 1 ] && break; sleep 0.1
done
for i in $(seq 0 $((NODES - 1))); do kill -TERM "${PIDS[$i]}"; wait "${PIDS[$i]}" 2>/dev/null || true; done

echo "== phase 6: a new node catching up from an empty replica"
C0=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$DIR/catchup.cpu" "$BIN" --postgres "$URL" --journal "$DIR/catchup.journal" status sat0-1-0 >/dev/null
C1=$(date +%s.%N)

for i in $(seq 0 $((NODES - 1))); do "$BIN" --journal "$DIR/node-$i.journal" export >"$DIR/node-$i.jsonl"; done
"$BIN" --journal "$DIR/catchup.journal" export >"$DIR/catchup.jsonl"
"$BIN" --journal "$DIR/node-0.journal" verify >/dev/null
cat "$DIR"/acked-sat-* "$DIR"/acked-half-* "$DIR"/acked-kill-* 2>/dev/null >"$DIR/acked.txt" || true
CHECK=$(python3 Tools/scale-out/check.py "$DIR/acked.txt" "$DIR"/node-*.jsonl "$DIR/catchup.jsonl")

tee "$DIR/measurements.json" <<EOF >/dev/null
{"nodes": $NODES, "clients": $CLIENTS, "seconds": $SECONDS_, "cpus": $(nproc),
 "sat": "$SAT", "half": "$HALF", "emb": "$EMB", "kill": "$KILL", "kill_back_seconds": $BACK, "kinds": "$KINDS",
 "wal": [$W0, $W1, $W2, $W3], "statements": [$S0, $S1, $S3], "pg_cpu": [$P0, $P1, $P2, $P3],
 "node_cpu": [$N0, $N1], "emb_cpu": [$E0, $E1], "pgbench_tps": ${PG_TPS:-0}, "pgbench_latency_ms": ${PG_LAT:-0},
 "catchup_cpu": "$(tail -1 "$DIR/catchup.cpu")", "catchup_seconds": $(printf "%.3f" "$(echo "$C1 - $C0" | bc)"),
 "acked_sat": $(cat "$DIR"/acked-sat-* | wc -l), "acked_half": $(cat "$DIR"/acked-half-* | wc -l),
 "acked_kill": $(cat "$DIR"/acked-kill-* 2>/dev/null | wc -l),
 "acked_emb": $(cat "$DIR"/acked-emb-* | wc -l), "check": $CHECK}
EOF
python3 Tools/scale-out/report.py <"$DIR/measurements.json" || { cp "$DIR/measurements.json" /tmp/scale-out-measurements.json; exit 1; }
