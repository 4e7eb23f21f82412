#!/usr/bin/env bash
# Draws each seed incident's timeline in a real terminal under tmux at 80 and 160 columns and
# prints what tmux shows (capture-pane), checking that no line is wider than the terminal and that
# colour is on. Usage: Tools/timeline/tmux-check.sh [path/to/logbook]   (default .build/debug/logbook)
set -euo pipefail
bin=$(realpath "${1:-.build/debug/logbook}")
work=$(mktemp -d)
trap 'tmux -L logbook-check kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" --journal "$work/demo.journal" demo >/dev/null
status=0
for cols in 80 160; do
  for job in scan-3 task-42 crawl-hc-6 download-7; do
    tmux -L logbook-check -f /dev/null new-session -d -s "t$cols$job" -x "$cols" -y 60 \
      "env -u NO_COLOR -u COLUMNS '$bin' --journal '$work/demo.journal' timeline $job; touch '$work/done-$cols-$job'; sleep 60"
    for _ in $(seq 1 300); do [ -e "$work/done-$cols-$job" ] && break; sleep 0.05; done
    screen=$(tmux -L logbook-check capture-pane -p -e -t "t$cols$job")
    plain=$(printf '%s\n' "$screen" | sed 's/\x1b\[[0-9;]*m//g')
    widest=$(printf '%s\n' "$plain" | LC_ALL=C.UTF-8 wc -L)
    colour=$(printf '%s' "$screen" | grep -c $'\x1b\[' || true)
    echo "== $job at $cols columns: widest line $widest, lines with colour $colour"
    printf '%s\n' "$plain" | sed '/^$/N;/^\n$/D'
    if [ "$widest" -gt "$cols" ] || [ "$colour" -eq 0 ]; then status=1; echo "!! FAILED"; fi
    tmux -L logbook-check kill-session -t "t$cols$job"
  done
done
exit $status
