#!/usr/bin/env bash
# The scale-out rig (docs/scale-out.md; not CI): one PostgreSQL 15 on loopback with durable
# defaults, three `logbook serve` nodes on it (each with its own LMDB replica), CLIENTS clients
# spread over the nodes posting single durable events for SECONDS; at KILL_AT seconds one node is
# killed with SIGKILL and restarted. Then: every acknowledged event present at its exact
# (job, version) in every replica, the replicas' exports identical; and, in the same run,
# PostgreSQL's own pgbench with the same number of durable clients inserting the same rows.
#
#   Tools/scale-out/run.sh [SECONDS]      # CLIENTS=64 KILL_AT=20; needs postgresql-15, python3
#
# The last line is one JSON object. Exits 0 only when nothing acknowledged was lost and the
# replicas are identical.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-60}
CLIENTS=${CLIENTS:-64}
KILL_AT=${KILL_AT:-20}
PGBIN=/usr/lib/postgresql/15/bin
PGPORT=${PGPORT:-55432}
BASE=${PORT:-18300}
[ -x "$PGBIN/pg_ctl" ] || { apt-get update && apt-get install -y postgresql-15; }
swift build -c release --product logbook >/dev/null
BIN=$PWD/.build/release/logbook
DIR=$(mktemp -d /tmp/logbook-scale-out.XXXXXX)
AS=()
if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; AS=(runuser -u postgres --); fi
NODES=()
cleanup() {
  for pid in "${NODES[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/pg" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

"${AS[@]}" "$PGBIN/initdb" -D "$DIR/pg" -U postgres --auth=trust -E UTF8 >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w \
  -o "-p $PGPORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start </dev/null >/dev/null
URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
echo "== PostgreSQL 15 on 127.0.0.1:$PGPORT (fsync on, synchronous_commit on); $(nproc) CPUs"

start_node() {  # index
  "$BIN" --postgres "$URL" --journal "$DIR/node-$1.journal" serve --port $((BASE + $1)) --lease 1h \
    >>"$DIR/node-$1.log" 2>&1 &
  NODES[$1]=$!
  for _ in $(seq 300); do curl -sf "127.0.0.1:$((BASE + $1))/healthz" >/dev/null && return; sleep 0.1; done
  echo "node $1 did not start"; cat "$DIR/node-$1.log"; exit 1
}
for i in 0 1 2; do start_node $i; done
echo "== 3 nodes on ports $BASE-$((BASE + 2)); $CLIENTS clients for ${SECONDS_}s; node 1 killed with SIGKILL at ${KILL_AT}s and restarted"
python3 Tools/scale-out/load.py "$DIR/load.json" "$SECONDS_" "$CLIENTS" $BASE $((BASE + 1)) $((BASE + 2)) &
LOAD=$!
sleep "$KILL_AT"
kill -9 "${NODES[1]}"; wait "${NODES[1]}" 2>/dev/null || true
KILLED=$(date +%s.%N)
start_node 1
echo "   node 1 back after $(python3 -c "import time; print(round(time.time() - $KILLED, 2))") s"
wait $LOAD

# Every node caught up with the same last seq, then stopped gracefully.
for _ in $(seq 600); do
  seqs=$(for i in 0 1 2; do curl -sf "127.0.0.1:$((BASE + i))/healthz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["lastSeq"])'; done | sort -u | wc -l)
  [ "$seqs" = 1 ] && break; sleep 0.1
done
for i in 0 1 2; do kill -TERM "${NODES[$i]}"; wait "${NODES[$i]}" 2>/dev/null || true; done
NODES=()
for i in 0 1 2; do "$BIN" --journal "$DIR/node-$i.journal" export >"$DIR/node-$i.jsonl"; done
"$BIN" --journal "$DIR/node-1.journal" verify >/dev/null
CHECK=$(python3 Tools/scale-out/check.py "$DIR/load.json" "$DIR/node-0.jsonl" "$DIR/node-1.jsonl" "$DIR/node-2.jsonl")

# The peer, in the same run: pgbench's durable clients inserting the same rows, one per commit.
"${AS[@]}" "$PGBIN/psql" -q -h "$DIR" -p "$PGPORT" -U postgres -c "
  CREATE TABLE pgbench_events (position bigint GENERATED ALWAYS AS IDENTITY, tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
    job bytea NOT NULL, version bigint NOT NULL, type smallint NOT NULL, record bytea NOT NULL, event_id uuid NOT NULL UNIQUE,
    UNIQUE (job, version));
  CREATE INDEX ON pgbench_events (tx, position); CREATE SEQUENCE pgbench_version;" >/dev/null
RECORD=$(python3 -c "print('\\\\x' + '00' * 88)")  # a heartbeat's record is about 90 bytes
cat >"$DIR/insert.sql" <<SQL
\set job random(1, 1000)
INSERT INTO pgbench_events (job, version, type, record, event_id)
VALUES (convert_to('c' || :job, 'UTF8'), nextval('pgbench_version'), 4, '$RECORD'::bytea, gen_random_uuid());
SQL
chmod a+r "$DIR/insert.sql"
PG_TPS=$("${AS[@]}" "$PGBIN/pgbench" -n -h "$DIR" -p "$PGPORT" -U postgres -c "$CLIENTS" -j 2 -T "$SECONDS_" -f "$DIR/insert.sql" postgres \
  | awk '/^tps = / { print $3 }')
PG_LAT=$("${AS[@]}" "$PGBIN/pgbench" -n -h "$DIR" -p "$PGPORT" -U postgres -c "$CLIENTS" -j 2 -T 10 -f "$DIR/insert.sql" postgres \
  | awk '/latency average/ { print $4 }')

python3 - "$DIR/load.json" "$CHECK" "$PG_TPS" "$PG_LAT" <<'PY'
import json, sys
load = json.load(open(sys.argv[1])); check = json.loads(sys.argv[2]); pg = float(sys.argv[3]); pg_lat = sys.argv[4]
eps = load["events_per_second"]
print(f"== Logbook, 3 nodes: {load['acknowledged']} events acknowledged in {load['seconds']:.1f} s = {eps:.0f}/s; "
      f"p50 {load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms; follower lag p99 {load['follower_lag_p99_ms']:.1f} ms "
      f"({load['lag_samples']} samples); {load['connection_errors']} requests failed while node 1 was down")
print(f"== pgbench, {sys.argv[3] and 'same clients'}: {pg:.0f} inserts/s (a 10 s run: latency average {pg_lat} ms)")
print(f"== ratio Logbook / pgbench: {eps / pg:.2f}x; lost acknowledged events: {check['lost']}; "
      f"replicas identical: {check['replicas_identical']} ({check['events']} events each)")
summary = {k: load[k] for k in ("acknowledged", "events_per_second", "p50_ms", "p99_ms", "follower_lag_p99_ms")}
summary.update(lost=check["lost"], replicas_identical=check["replicas_identical"], pgbench_tps=pg, ratio=eps / pg)
print(json.dumps(summary))
sys.exit(0 if check["lost"] == 0 and check["replicas_identical"] else 1)
PY
