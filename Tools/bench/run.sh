#!/usr/bin/env bash
# Runs `logbook bench` beside its peers in one run, on one machine, and prints every figure plus the
# ratios docs/performance.md reports. Not part of CI (release builds, minutes of disk I/O).
#
#   Tools/bench/run.sh [EVENTS]          # default 1,000,000
#   LOGBOOK_ANCHORS=/path/to/anchors Tools/bench/run.sh 10000000
#
# Peers: the SQLite peer (Tools/SQLitePeer, GRDB, WAL) always; the raw-LMDB C anchor programs
# (lmdb_limit.c, index_designs.c) when LOGBOOK_ANCHORS names the folder that holds them.
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS=${1:-1000000}
DIR=${BENCH_DIR:-/tmp}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

swift build -c release --product logbook >/dev/null
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
fi

echo "== logbook bench"
.build/release/logbook bench --events "$EVENTS" --dir "$DIR" --json | tee "$OUT/logbook.json"
echo
echo "== SQLite peer (GRDB, WAL)"
Tools/SQLitePeer/.build/release/SQLitePeer --events "$EVENTS" --dir "$DIR" | tee "$OUT/sqlite.json"
echo

python3 - "$OUT" <<'PY'
import json, re, sys, os
out = sys.argv[1]
lb = json.load(open(f"{out}/logbook.json"))
sq = json.load(open(f"{out}/sqlite.json"))
print("== ratios")
for key in ["append_batched_eps", "scan_eps", "append_durable_single_eps", "append_durable_concurrent_eps"]:
    print(f"  Logbook / SQLite  {key:32s} {lb[key] / sq[key]:6.2f}x")
print(f"  group commit gain (concurrent / single durable)      {lb['append_durable_concurrent_eps'] / lb['append_durable_single_eps']:6.1f}x")
path = f"{out}/anchor.txt"
if os.path.exists(path):
    text = open(path).read()
    def fig(pattern):
        m = re.search(pattern + r":\s*([0-9]+)", text)
        return float(m.group(1)) if m else None
    anchors = {
        "append_batched_eps": fig(r"dupsort job->version\+seq \(12 bytes\), batch sorted"),
        "scan_eps": fig(r"scan with sse4.2 crc32c"),
        "append_durable_single_eps": fig(r"append durable batch=1 \(commits/s\)"),
    }
    for key, value in anchors.items():
        if value:
            print(f"  Logbook / C anchor {key:31s} {lb[key] / value:6.2f}x   (anchor {value:,.0f})")
PY
