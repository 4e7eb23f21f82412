# Shared by the HA rig's scripts (Tools/ha/run.sh, Tools/ha/failure-modes.sh): sourced from the
# repository's root after `set -euo pipefail`. Installs what is missing, builds the release binary,
# and defines the cluster (3 etcd, 3 PostgreSQL under Patroni, 3 Logbook nodes) and its checks.
# Removes everything it started, and its directory, on exit (KEEP=1 keeps the directory).
PGBIN=/usr/lib/postgresql/15/bin
NODE_PORT=18400
[ "$(id -u)" = 0 ] || { echo "run as root (PostgreSQL members run as the postgres user)"; exit 2; }
missing=()
[ -x "$PGBIN/pg_ctl" ] || missing+=(postgresql-15)
command -v patroni >/dev/null || missing+=(patroni)
command -v etcd >/dev/null || missing+=(etcd-server etcd-client)
if [ ${#missing[@]} -gt 0 ]; then apt-get update && apt-get install -y "${missing[@]}"; fi
swift build -c release --product logbook >/dev/null
BIN=$PWD/.build/release/logbook
ROOT=$(mktemp -d /tmp/logbook-ha.XXXXXX)
chown postgres "$ROOT"
NODES=()
DIR=

stop_cluster() {  # everything started under $DIR: nodes, Patroni (first: it would restart PostgreSQL), PostgreSQL, etcd
  for pid in "${NODES[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  NODES=()
  [ -n "$DIR" ] || return 0
  pkill -9 -f "patroni $DIR/" 2>/dev/null || true
  for i in 0 1 2; do
    [ -f "$DIR/pg$i/postmaster.pid" ] && kill -9 "$(head -1 "$DIR/pg$i/postmaster.pid")" 2>/dev/null || true
  done
  pkill -9 -f "$DIR/" 2>/dev/null || true
  sleep 1
}
cleanup() { stop_cluster; if [ -n "${KEEP:-}" ]; then echo "kept $ROOT"; else rm -rf "$ROOT"; fi; }
trap cleanup EXIT

ETCD=127.0.0.1:23790,127.0.0.1:23792,127.0.0.1:23794
URLS=postgresql://postgres@127.0.0.1:55440/postgres,postgresql://postgres@127.0.0.1:55441/postgres,postgresql://postgres@127.0.0.1:55442/postgres
rest() { curl -s --max-time 2 "127.0.0.1:$((18008 + $1))$2"; }
# The cluster as Patroni's REST API has it: "name:role:state" per member, or nothing.
members() { for i in 0 1 2; do rest "$i" /cluster && break; done | python3 -c '
import json, sys
try: print(" ".join("%s:%s:%s" % (m["name"], m["role"], m["state"]) for m in json.load(sys.stdin)["members"]))
except Exception: pass'; }
leader() { members | tr " " "\n" | awk -F: '$2 == "leader" { sub("pg", "", $1); print $1 }'; }

cluster_up() {  # sync|async
  DIR=$ROOT/$1
  mkdir -p "$DIR" && chown postgres "$DIR"
  for i in 0 1 2; do
    etcd --name "e$i" --data-dir "$DIR/etcd$i" \
      --listen-client-urls "http://127.0.0.1:$((23790 + 2 * i))" --advertise-client-urls "http://127.0.0.1:$((23790 + 2 * i))" \
      --listen-peer-urls "http://127.0.0.1:$((23791 + 2 * i))" --initial-advertise-peer-urls "http://127.0.0.1:$((23791 + 2 * i))" \
      --initial-cluster e0=http://127.0.0.1:23791,e1=http://127.0.0.1:23793,e2=http://127.0.0.1:23795 \
      --initial-cluster-state new --initial-cluster-token "logbook-ha-$1" >"$DIR/etcd$i.log" 2>&1 &
    disown
  done
  local sync=true maxlag=1048576
  if [ "$1" = async ]; then sync=false; maxlag=1073741824; fi
  for i in 0 1 2; do
    sed -e "s|@I@|$i|g; s|@REST@|$((18008 + i))|g; s|@PORT@|$((55440 + i))|g; s|@DIR@|$DIR|g; s|@ETCD@|$ETCD|g" \
      -e "s|@SYNC@|$sync|; s|@MAXLAG@|$maxlag|" Tools/ha/patroni.yml.in >"$DIR/pg$i.yml"
    chown postgres "$DIR/pg$i.yml"
    runuser -u postgres -- patroni "$DIR/pg$i.yml" >"$DIR/patroni$i.log" 2>&1 &
    disown
    # The first member bootstraps the cluster; the others clone it.
    if [ "$i" = 0 ]; then for _ in $(seq 120); do [ -n "$(leader)" ] && break; sleep 0.5; done; fi
  done
  local want="leader:running sync_standby:running replica:running"
  [ "$1" = async ] && want="leader:running replica:running replica:running"
  for _ in $(seq 240); do
    [ "$(members | tr " " "\n" | cut -d: -f2- | sed 's/streaming/running/' | sort | tr "\n" " ")" = "$(echo "$want" | tr " " "\n" | sort | tr "\n" " ")" ] && return
    sleep 0.5
  done
  echo "the cluster did not come up: $(members)"; tail -n 20 "$DIR"/patroni*.log; exit 1
}

start_node() {  # index [URLs]
  "$BIN" --postgres "${2:-$URLS}" --journal "$DIR/node-$1.journal" serve --host "127.0.0.$(($1 + 1))" --port $NODE_PORT --lease 1h \
    >>"$DIR/node-$1.log" 2>&1 &
  NODES[$1]=$!
  disown
  for _ in $(seq 600); do curl -sf "127.0.0.$(($1 + 1)):$NODE_PORT/healthz" >/dev/null && return; sleep 0.1; done
  echo "node $1 did not start"; tail -n 20 "$DIR/node-$1.log"; exit 1
}
health() { curl -s --max-time 2 "127.0.0.$(($1 + 1)):$NODE_PORT/healthz"; }
now() { date +%s.%N; }
kill_postgres() {  # member: its postmaster and every process of it, with SIGKILL
  local pid; pid=$(head -1 "$DIR/pg$1/postmaster.pid")
  kill -9 $(pgrep -P "$pid") "$pid" 2>/dev/null || true
}

# Every node caught up with the same last seq (bounded), its /healthz kept, then stopped; each
# replica exported and verified; a fresh replica caught up from the primary is the truth.
finish() {  # label
  for _ in $(seq "${2:-600}"); do
    seqs=$(for i in 0 1 2; do health $i | python3 -c 'import json,sys; print(json.load(sys.stdin)["lastSeq"])' 2>/dev/null || echo x; done | sort -u | wc -l)
    [ "$seqs" = 1 ] && break; sleep 0.1
  done
  for i in 0 1 2; do health $i >"$DIR/health-$i.json" || true; done
  for i in 0 1 2; do kill -TERM "${NODES[$i]}" 2>/dev/null || true; done
  for i in 0 1 2; do timeout 20 tail --pid="${NODES[$i]}" -f /dev/null || kill -9 "${NODES[$i]}" 2>/dev/null || true; done
  NODES=()
  VERIFIED=true
  for i in 0 1 2; do
    "$BIN" --journal "$DIR/node-$i.journal" export >"$DIR/node-$i.jsonl"
    "$BIN" --journal "$DIR/node-$i.journal" verify >"$DIR/verify-$i.txt" 2>&1 || { VERIFIED=false; echo "   verify of node $i failed: $(tail -3 "$DIR/verify-$i.txt")"; }
  done
  timeout 120 "$BIN" --postgres "$URLS" --journal "$DIR/truth.journal" export >"$DIR/truth.jsonl"
  local l; l=$(leader)
  GAPS=$("$PGBIN/psql" -h 127.0.0.1 -p $((55440 + l)) -U postgres -Atc \
    "SELECT count(*) FROM (SELECT job FROM logbook_events GROUP BY job HAVING min(version) <> 1 OR max(version) <> count(*)) g")
}

at() {  # seconds after $BEGAN
  sleep "$(python3 -c "print(max(0, $BEGAN + $1 - __import__('time').time()))")"
}
