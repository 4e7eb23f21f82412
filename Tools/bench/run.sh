#!/usr/bin/env bash
# Runs `logbook-bench` beside its peers in one run, on one machine, and prints every figure plus the
# ratios docs/performance.md reports. Not part of CI (release builds, minutes of disk I/O).
#
#   Tools/bench/run.sh [EVENTS]          # default 1,000,000
#   LOGBOOK_ANCHORS=/path/to/anchors Tools/bench/run.sh 10000000
#
# Peers: the SQLite peer (Tools/SQLitePeer, GRDB, WAL) always; the raw-LMDB C anchor programs
# (lmdb_limit.c, index_designs.c) and the PostgreSQL 15 peer (pg_peer.sh, durable defaults) when
# LOGBOOK_ANCHORS names the folder that holds them. WITH_LOADTEST=SECONDS also runs the service
# under wrk (Tools/loadtest/run.sh) and compares it with PostgreSQL's 64 durable pgbench clients.
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS=${1:-1000000}
DIR=${BENCH_DIR:-/tmp}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

swift build -c release --product logbook >/dev/null
swift build -c release --product logbook-bench >/dev/null
(cd Tools/SQLitePeer && swift build -c release >/dev/null)

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "events:  $EVENTS"
echo

if [ -n "${LOGBOOK_ANCHORS:-}" ]; then
  gcc -O2 -msse4.2 -o "$OUT/lmdb_limit" "$LOGBOOK_ANCHORS/lmdb_limit.c" -llmdb
  gcc -O2 -o "$OUT/index_designs" "$LOGBOOK_ANCHORS/index_designs.c" -llmdb
  echo "== raw LMDB in C (anchor)"
  "$OUT/lmdb_limit" "$DIR/anchor-limit" "$EVENTS" | tee "$OUT/anchor.txt"
  "$OUT/index_designs" "$DIR/anchor-index" "$EVENTS" | tee -a "$OUT/anchor.txt"
  rm -rf "$DIR/anchor-limit" "$DIR/anchor-index"
  echo
  if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    echo "== PostgreSQL peer (durable defaults)"
    bash "$LOGBOOK_ANCHORS/pg_peer.sh" "$EVENTS" | tee "$OUT/pg.txt"
    echo
  else
    echo "(no PostgreSQL server binaries: apt-get install postgresql-15 for the PostgreSQL peer)"
  fi
fi

echo "== logbook-bench"
.build/release/logbook-bench --events "$EVENTS" --dir "$DIR" --json | tee "$OUT/logbook.json"
echo
echo "== SQLite peer (GRDB, WAL)"
Tools/SQLitePeer/.build/release/SQLitePeer --events "$EVENTS" --dir "$DIR" | tee "$OUT/sqlite.json"
echo

if [ -n "${WITH_LOADTEST:-}" ]; then
  echo "== service under load (Tools/loadtest/run.sh $WITH_LOADTEST)"
  Tools/loadtest/run.sh "$WITH_LOADTEST" | tee "$OUT/load.txt"
  echo
fi

python3 - "$OUT" <<'PY'
import json, re, sys, os
out = sys.argv[1]
lb = json.load(open(f"{out}/logbook.json"))
sq = json.load(open(f"{out}/sqlite.json"))
def figures(name):
    path = f"{out}/{name}"
    return open(path).read() if os.path.exists(path) else ""
def fig(text, pattern):
    m = re.search(pattern + r":\s*([0-9.]+)", text)
    return float(m.group(1)) if m else None
print("== ratios")
for key in ["append_batched_eps", "scan_eps", "append_durable_single_eps", "append_durable_concurrent_eps"]:
    print(f"  Logbook / SQLite     {key:32s} {lb[key] / sq[key]:7.2f}x")
print(f"  group commit gain (concurrent / single durable)         {lb['append_durable_concurrent_eps'] / lb['append_durable_single_eps']:7.1f}x")
for key in ["verify_eps", "verify_with_snapshot_eps", "export_eps"]:
    print(f"  {key + ' / scan_eps':55s}{lb[key] / lb['scan_eps']:7.2f}x")
anchor = figures("anchor.txt")
pg = figures("pg.txt")
peers = [
    ("scan_eps", "C scan + SSE4.2 CRC32C", fig(anchor, r"scan with sse4.2 crc32c")),
    ("replay_eps", "C plain cursor scan (warm)", fig(anchor, r"scan again \(warm\)")),
    ("append_batched_eps", "C log + naive DUPSORT index", fig(anchor, r"append nosync batch=10000 with job index")),
    ("append_batched_eps", "C log + sorted 12-byte DUPSORT index", fig(anchor, r"dupsort job->version\+seq \(12 bytes\), batch sorted")),
    ("append_durable_single_eps", "C durable commit of one event", fig(anchor, r"append durable batch=1 \(commits/s\)")),
    ("append_batched_eps", "PostgreSQL COPY, 10k per txn", fig(pg, r"pg copy batch=10000")),
    ("scan_eps", "PostgreSQL full scan", fig(pg, r"pg scan")),
    ("append_durable_single_eps", "PostgreSQL one insert per commit", fig(pg, r"pg durable single")),
    ("append_durable_concurrent_eps", "PostgreSQL 64 pgbench clients", fig(pg, r"pg durable concurrent 64")),
]
for key, peer, value in peers:
    if value:
        print(f"  Logbook {key:30s} / {peer:38s} {lb[key] / value:7.2f}x   (peer {value:,.0f})")
load = figures("load.txt")
m = re.search(r"Requests/sec:\s*([0-9.]+)", load)
p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)", load)
if m:
    rps = float(m.group(1))
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    line = f"  service (wrk, 64 connections) {rps:,.0f} ev/s"
    if p99: line += f", p99 {float(p99.group(1)) * scale[p99.group(2)]:.1f} ms"
    pg64 = fig(pg, r"pg durable concurrent 64")
    if pg64: line += f"; / PostgreSQL 64 pgbench clients {rps / pg64:.2f}x"
    print(line)
PY
