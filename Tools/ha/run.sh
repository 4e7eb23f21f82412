#!/usr/bin/env bash
# The HA rig (docs/scale-out.md, "High availability"; not CI). On loopback: 3 etcd members, 3
# PostgreSQL 15 members under Patroni in synchronous mode, 3 `logbook serve` nodes on
# 127.0.0.1-3:18400 given all three members. CLIENTS clients spread over the nodes post single
# events and small multi-job batches for SECONDS. At 20 s the primary's PostgreSQL is killed with
# SIGKILL; at 50 s a Logbook node is killed with SIGKILL and restarted; at 70 s the new primary is
# stopped gracefully (a Patroni switchover).
#
# Checks: every acknowledged event at its exact (job, version) in PostgreSQL (read through a fresh
# replica) and in every node's replica; nothing stored twice; per-job versions contiguous in
# PostgreSQL; every replica's export identical; `verify` of every replica (projections equal a fold
# from scratch); each kill to the first acknowledged append after it within FAILOVER_LIMIT seconds.
#
# Then the negative control: the same load on a cluster with asynchronous replication, whose
# primary is killed at 20 s after its standbys' WAL receivers were held for CONTROL_LAG seconds (a
# congested network); the same checks must be able to flag acknowledged events missing, and the
# rig reports what they found.
#
#   Tools/ha/run.sh [SECONDS]    # 90; CLIENTS=32 FAILOVER_LIMIT=5 CONTROL=1 CONTROL_SECONDS=40 CONTROL_LAG=1
#                                # KEEP=1 keeps the logs, exports and load records in /tmp
#
# Needs postgresql-15, patroni and etcd-server (installed with apt when missing), python3, and
# root (PostgreSQL runs as the postgres user). Cleans up after itself. The last line is one JSON
# object; exits 0 only when every check of the synchronous run holds.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-90}
CLIENTS=${CLIENTS:-32}
FAILOVER_LIMIT=${FAILOVER_LIMIT:-5}
CONTROL=${CONTROL:-1}
CONTROL_SECONDS=${CONTROL_SECONDS:-40}
CONTROL_LAG=${CONTROL_LAG:-1}
source Tools/ha/lib.sh

echo "== $(nproc) CPUs; PostgreSQL 15, $(patroni --version), etcd $(etcd --version | head -1 | awk '{print $3}')"

# ---- the run: synchronous mode
cluster_up sync
echo "== cluster: $(members)"
for i in 0 1 2; do start_node $i; done
echo "== 3 nodes on 127.0.0.1-3:$NODE_PORT; $CLIENTS clients for ${SECONDS_}s"
python3 Tools/ha/load.py "$DIR/load.json" "$SECONDS_" "$CLIENTS" 127.0.0.1:$NODE_PORT 127.0.0.2:$NODE_PORT 127.0.0.3:$NODE_PORT &
LOAD=$!
BEGAN=$(now)
KILLS="["
at 20
M=$(leader); kill_postgres "$M"; T=$(now)
KILLS+="{\"what\": \"primary pg$M killed (SIGKILL)\", \"at\": $T},"
echo "   20 s: primary pg$M killed; cluster now: $(sleep 5; members)"
at 50
kill -9 "${NODES[1]}"; T=$(now); timeout 10 tail --pid="${NODES[1]}" -f /dev/null || true
KILLS+="{\"what\": \"Logbook node 1 killed (SIGKILL) and restarted\", \"at\": $T, \"node\": 1},"
start_node 1
echo "   50 s: node 1 killed and restarted ($(python3 -c "print(round(__import__('time').time() - $T, 2))") s)"
at 70
L=$(leader); T=$(now)
patronictl -c "$DIR/pg0.yml" switchover --leader "pg$L" --force >"$DIR/switchover.log" 2>&1 || { echo "switchover failed:"; cat "$DIR/switchover.log"; }
KILLS+="{\"what\": \"switchover: primary pg$L stopped gracefully\", \"at\": $T}]"
echo "   70 s: switchover from pg$L; cluster now: $(members)"
echo "$KILLS" >"$DIR/kills.json"
wait $LOAD
finish sync
CHECK=$(python3 Tools/ha/check.py "$DIR/load.json" "$DIR/kills.json" "$DIR/truth.jsonl" "$DIR"/node-{0,1,2}.jsonl)
HEALTH=$(python3 -c '
import json, sys
for p in sys.argv[1:]:
    s = json.load(open(p)).get("sharedLog", {})
    print("%s after %s failovers" % (s.get("primary"), s.get("failovers")), end="; ")' "$DIR"/health-{0,1,2}.json)
echo "== nodes at the end: $HEALTH"
SYNC_DIR=$DIR
SYNC_VERIFIED=$VERIFIED
SYNC_GAPS=$GAPS
stop_cluster

# ---- the negative control: asynchronous replication, standbys held back, primary killed
CONTROL_CHECK=null
if [ "$CONTROL" = 1 ]; then
  cluster_up async
  echo "== negative control: asynchronous replication; $(members)"
  for i in 0 1 2; do start_node $i; done
  python3 Tools/ha/load.py "$DIR/load.json" "$CONTROL_SECONDS" "$CLIENTS" 127.0.0.1:$NODE_PORT 127.0.0.2:$NODE_PORT 127.0.0.3:$NODE_PORT &
  LOAD=$!
  BEGAN=$(now)
  at 20
  # The primary's WAL senders are held (what a congested network does to asynchronous standbys),
  # so its commits of the last CONTROL_LAG seconds are on no standby when it dies.
  M=$(leader)
  SENDERS=$(pgrep -P "$(head -1 "$DIR/pg$M/postmaster.pid")" -f walsender | tr "\n" " ")
  kill -STOP $SENDERS 2>/dev/null || true
  sleep "$CONTROL_LAG"
  kill_postgres "$M"; T=$(now)
  echo "[{\"what\": \"primary pg$M killed (asynchronous, its WAL senders held ${CONTROL_LAG} s)\", \"at\": $T}]" >"$DIR/kills.json"
  echo "   20 s: WAL senders held ${CONTROL_LAG} s, primary pg$M killed; cluster now: $(sleep 5; members)"
  wait $LOAD
  finish async 150
  CONTROL_CHECK=$(python3 Tools/ha/check.py "$DIR/load.json" "$DIR/kills.json" "$DIR/truth.jsonl" "$DIR"/node-{0,1,2}.jsonl)
  # How many nodes found that their replica holds events the new primary lost, and stopped.
  DETECTED=$(python3 -c '
import json, sys
print(sum("no longer holds" in ((json.load(open(p)).get("sharedLog") or {}).get("error") or "") for p in sys.argv[1:]))' "$DIR"/health-{0,1,2}.json 2>/dev/null || echo 0)
  CONTROL_CHECK=$(python3 -c 'import json, sys; c = json.loads(sys.argv[1]); c["nodes_stopped_diverged"] = int(sys.argv[2]); print(json.dumps(c))' "$CONTROL_CHECK" "$DETECTED")
  stop_cluster
fi

python3 - "$CHECK" "$CONTROL_CHECK" "$SYNC_VERIFIED" "$SYNC_GAPS" "$FAILOVER_LIMIT" <<'PY'
import json, sys
check, control = json.loads(sys.argv[1]), json.loads(sys.argv[2])
verified, gaps, limit = sys.argv[3] == "true", int(sys.argv[4]), float(sys.argv[5])
print(f"== synchronous run: {check['acknowledged']} events acknowledged, {check['events_per_second']:.0f}/s; "
      f"p50 {check['p50_ms']} ms, p99 {check['p99_ms']} ms; follower lag p99 {check['follower_lag_p99_ms']} ms; "
      f"{check['refused']} appends refused (503) and {check['connection_errors']} connection errors while a node was down")
for k in check["kills"]:
    print(f"   {k['what']}: first acknowledged append sent after it {k['first_ack_seconds']} s later; "
          f"longest pause in acknowledgements {k['longest_stall_seconds']} s")
print(f"== lost: {check['lost']} in PostgreSQL, {check['lost_in_replicas']} in the worst replica; doubled: {check['doubled']}; "
      f"jobs with non-contiguous versions: {gaps}; replicas identical: {check['replicas_identical']} ({check['events']} events); "
      f"verify: {'all sound' if verified else 'FAILED'}")
if control:
    print(f"== negative control (asynchronous): {control['acknowledged']} acknowledged; lost {control['lost']} in PostgreSQL, "
          f"{control['lost_in_replicas']} in the worst replica; replicas identical: {control['replicas_identical']}; "
          f"nodes that found their replica ahead of the new primary and stopped: {control['nodes_stopped_diverged']} of 3"
          + ("" if control["lost"] else " (nothing was lost in this run)"))
ok = (check["lost"] == 0 and check["lost_in_replicas"] == 0 and check["doubled"] == 0 and check["replicas_identical"]
      and verified and gaps == 0 and check["failover_seconds"] is not None and check["failover_seconds"] <= limit)
summary = {k: check[k] for k in ("acknowledged", "lost", "lost_in_replicas", "doubled", "replicas_identical",
                                 "failover_seconds", "events_per_second", "p50_ms", "p99_ms", "follower_lag_p99_ms")}
summary.update(verified=verified, non_contiguous_jobs=gaps, kills=check["kills"], ok=ok,
               negative_control=None if not control else {k: control[k] for k in ("acknowledged", "lost", "lost_in_replicas", "replicas_identical", "nodes_stopped_diverged")})
print(json.dumps(summary))
sys.exit(0 if ok else 1)
PY
