#!/usr/bin/env bash
# The failure modes of docs/scale-out.md's HA chapter that Tools/ha/run.sh does not cover, on the
# same cluster (3 etcd, 3 PostgreSQL under Patroni in synchronous mode, 3 Logbook nodes; node 2
# reaches PostgreSQL through Tools/ha/proxy.py, which stands for its network). CLIENTS clients post
# for 100 s while, in turn:
#
#   15 s  etcd loses quorum (2 of its 3 members stopped with SIGSTOP)   35 s  quorum back
#   55 s  the synchronous standby's PostgreSQL killed with SIGKILL
#   70 s  Logbook node 2 cut off from PostgreSQL (a partition)           85 s  healed
#
# Then the same checks as run.sh (nothing acknowledged lost or doubled, replicas identical and
# sound), and for each event the requests refused or unanswered until the next one and the time to
# the first acknowledgement after it. Exits 0 when the checks hold and appends resumed after each
# event; the last line is one JSON object.
#
#   Tools/ha/failure-modes.sh        # CLIENTS=16; about 3 minutes; as root
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${CLIENTS:-16}
source Tools/ha/lib.sh
PROXIED=postgresql://postgres@127.0.0.1:56440/postgres,postgresql://postgres@127.0.0.1:56441/postgres,postgresql://postgres@127.0.0.1:56442/postgres

cluster_up sync
echo "== cluster: $(members)"
python3 Tools/ha/proxy.py 56440:55440 56441:55441 56442:55442 >"$DIR/proxy.log" 2>&1 &
PROXY=$!
disown
trap 'kill -9 $PROXY 2>/dev/null || true; cleanup' EXIT
start_node 0
start_node 1
start_node 2 "$PROXIED"
echo "== 3 nodes (node 2 through the relay); $CLIENTS clients for 100 s"
python3 Tools/ha/load.py "$DIR/load.json" 100 "$CLIENTS" 127.0.0.1:$NODE_PORT 127.0.0.2:$NODE_PORT 127.0.0.3:$NODE_PORT &
LOAD=$!
BEGAN=$(now)
EVENTS="["
event() {  # what [node]
  EVENTS+="{\"what\": \"$1\", \"at\": $(now)${2:+, \"node\": $2}},"
  echo "   $(python3 -c "print(round(__import__('time').time() - $BEGAN))") s: $1; cluster: $(members)"
}
ETCD_STOPPED=$(pgrep -f "etcd --name e[12] " | tr "\n" " ")

at 15
kill -STOP $ETCD_STOPPED
event "etcd quorum lost (2 of 3 members stopped)"
at 35
kill -CONT $ETCD_STOPPED
event "etcd quorum back"
at 55
SYNC=$(members | tr " " "\n" | awk -F: '$2 == "sync_standby" { sub("pg", "", $1); print $1 }')
kill_postgres "$SYNC"
event "synchronous standby pg$SYNC killed (SIGKILL)"
at 70
kill -USR1 $PROXY
event "Logbook node 2 cut off from PostgreSQL" 2
at 85
kill -USR2 $PROXY
event "Logbook node 2 reaches PostgreSQL again" 2
echo "${EVENTS%,}]" >"$DIR/kills.json"
wait $LOAD
finish sync
CHECK=$(python3 Tools/ha/check.py "$DIR/load.json" "$DIR/kills.json" "$DIR/truth.jsonl" "$DIR"/node-{0,1,2}.jsonl)

python3 - "$CHECK" "$VERIFIED" "$GAPS" <<'PY'
import json, sys
check, verified, gaps = json.loads(sys.argv[1]), sys.argv[2] == "true", int(sys.argv[3])
print(f"== {check['acknowledged']} events acknowledged, {check['events_per_second']:.0f}/s; p99 {check['p99_ms']} ms")
for k in check["kills"]:
    print(f"   {k['what']}: first acknowledged append sent after it {k['first_ack_seconds']} s later; "
          f"until the next event {k['refused']} requests refused (503), {k['unanswered']} unanswered")
print(f"== lost: {check['lost']} in PostgreSQL, {check['lost_in_replicas']} in the worst replica; doubled: {check['doubled']}; "
      f"jobs with non-contiguous versions: {gaps}; replicas identical: {check['replicas_identical']}; "
      f"verify: {'all sound' if verified else 'FAILED'}")
resumed = all(k["first_ack_seconds"] is not None for k in check["kills"])
ok = (check["lost"] == 0 and check["lost_in_replicas"] == 0 and check["doubled"] == 0 and check["replicas_identical"]
      and verified and gaps == 0 and resumed)
print(json.dumps({k: check[k] for k in ("acknowledged", "lost", "lost_in_replicas", "doubled", "replicas_identical", "kills")}
                 | {"verified": verified, "non_contiguous_jobs": gaps, "ok": ok}))
sys.exit(0 if ok else 1)
PY
