#!/usr/bin/env bash
# Opens each seed incident's HTML timeline (logbook timeline JOB --html), and the same jobs' pages
# of a running `logbook serve` (/ui/ and /ui/jobs/JOB), in headless Chromium and checks what a
# browser makes of them: no console errors, the anomaly count on the page equal to
# `status --json`'s, and a hostile job id shown as text (no element made from it). Saves a
# screenshot per page in OUT (default: a temp dir; docs/images holds the ones the docs show).
# Usage: Tools/timeline/chromium-check.sh [path/to/logbook] [OUT]   (needs `apt-get install chromium`)
set -euo pipefail
bin=$(realpath "${1:-.build/debug/logbook}")
out=${2:-$(mktemp -d)}
mkdir -p "$out"
command -v chromium >/dev/null || { echo "chromium is not installed: apt-get install chromium" >&2; exit 2; }
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
journal="$work/demo.journal"
"$bin" --journal "$journal" demo >/dev/null
evil='<img src=x onerror=alert(1)>'
"$bin" --journal "$journal" append --job "$evil" --type started --node '"><script>alert(2)</script>' --attempt 1 >/dev/null
"$bin" --journal "$journal" append --job "$evil" --type cancelled --reason '</td><iframe src=//x>' >/dev/null
"$bin" --journal "$journal" append --job "$evil" --type heartbeat --attempt 1 >/dev/null
status=0
# Elements a browser built from journal text: any img, script or iframe, or an on* attribute.
injected_elements() {
  python3 - "$1" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    bad = 0
    def handle_starttag(self, tag, attrs):
        if tag in ("img", "script", "iframe") or any(k.startswith("on") for k, _ in attrs): self.bad += 1
p = P(); p.feed(open(sys.argv[1]).read()); print(p.bad)
PY
}
chrome() { timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars "$@"; }
for job in scan-3 task-42 crawl-hc-6 download-7 "$evil"; do
  name=$(printf '%s' "$job" | tr -c 'a-zA-Z0-9-' '_')
  page="$work/$name.html"
  "$bin" --journal "$journal" timeline "$job" --html "$page" >/dev/null
  chrome --enable-logging=stderr --v=0 --dump-dom "file://$page" > "$work/$name.dom" 2> "$work/$name.log" || true
  chrome --screenshot="$out/timeline-$name.png" --window-size=1150,1000 "file://$page" >/dev/null 2>&1 || true
  errors=$(grep -c 'CONSOLE\|Uncaught' "$work/$name.log" || true)
  want=$("$bin" --journal "$journal" status "$job" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["anomalyCount"])')
  shown=$(python3 - "$work/$name.dom" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
m = re.search(r"<dd>\d+, (\d+) ignored by the fold</dd>", dom)
print(m.group(1) if m else "missing")
PY
)
  injected=$(injected_elements "$work/$name.dom")
  verdict=ok
  if [ "$errors" != 0 ] || [ "$shown" != "$want" ] || [ "$injected" != 0 ] || [ ! -s "$out/timeline-$name.png" ]; then verdict=FAILED; status=1; fi
  echo "$verdict  $name: console errors $errors, anomalies on page $shown (status --json: $want), injected elements $injected, screenshot $out/timeline-$name.png"
done

# The service's pages: the same checks on /ui/jobs/JOB, and the list page.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" --journal "$journal" serve --port "$port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
for job in "" scan-3 task-42 crawl-hc-6 download-7 "$evil"; do
  if [ -z "$job" ]; then name=list; url="http://127.0.0.1:$port/ui/"; else
    name=page-$(printf '%s' "$job" | tr -c 'a-zA-Z0-9-' '_'); url="http://127.0.0.1:$port/ui/jobs/$(urlencode "$job")"; fi
  chrome --enable-logging=stderr --v=0 --dump-dom "$url" > "$work/$name.dom" 2> "$work/$name.log" || true
  chrome --screenshot="$out/ui-$name.png" --window-size=1150,1000 "$url" >/dev/null 2>&1 || true
  errors=$(grep -c 'CONSOLE\|Uncaught' "$work/$name.log" || true)
  injected=$(injected_elements "$work/$name.dom")
  counted=ok
  if [ -n "$job" ]; then
    want=$("$bin" --journal "$journal" status "$job" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["anomalyCount"])')
    shown=$(grep -o '<dd>[0-9]*, [0-9]* ignored by the fold</dd>' "$work/$name.dom" | sed 's/.*, \([0-9]*\) ignored.*/\1/')
    [ "$shown" = "$want" ] || counted="anomalies on page '$shown', status --json $want"
  fi
  verdict=ok
  if [ "$errors" != 0 ] || [ "$injected" != 0 ] || [ "$counted" != ok ] || [ ! -s "$out/ui-$name.png" ]; then verdict=FAILED; status=1; fi
  echo "$verdict  ui $name: console errors $errors, injected elements $injected, count $counted, screenshot $out/ui-$name.png"
done
exit $status
