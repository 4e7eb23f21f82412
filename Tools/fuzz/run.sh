#!/usr/bin/env bash
# Builds Logbook's libFuzzer targets and runs them.
#   [JOBS=N] Tools/fuzz/run.sh [SECONDS] [TARGET...]    default: 1800 s each, all four, two at a time
# Targets: fuzz-record fuzz-json-line fuzz-snapshot fuzz-event-body. Seed inputs are committed in
# seeds/<name>; the corpus libFuzzer grows goes to corpus/<name> and crashes to artifacts/ (both
# ignored by git). Each target's log is artifacts/<target>.log.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-1800}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz-record fuzz-json-line fuzz-snapshot fuzz-event-body)
swift build -c release --sanitize=fuzzer >/dev/null
bin=$(swift build -c release --sanitize=fuzzer --show-bin-path)
mkdir -p artifacts
run_one() {
    local t=$1 dir=${1#fuzz-}
    mkdir -p "corpus/$dir"
    "$bin/$t" "corpus/$dir" "seeds/$dir" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="artifacts/$t-" -print_final_stats=1 >"artifacts/$t.log" 2>&1 || {
        echo "$t: FOUND A PROBLEM (see artifacts/$t.log)"; return 1; }
    echo "$t: $(grep -E 'stat::number_of_executed_units' "artifacts/$t.log" | awk '{print $2}') executions, no crash"
}
# JOBS targets run at once (default 2, one per core of the benchmark machine).
jobs=${JOBS:-2}
status=0
pids=()
for t in "${targets[@]}"; do
    run_one "$t" & pids+=($!)
    if [ ${#pids[@]} -ge "$jobs" ]; then wait "${pids[0]}" || status=1; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
