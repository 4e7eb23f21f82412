"""Checks and summarises Tools/soak/run.sh's windows; optionally draws size and p99 over time (SVG).

usage: report.py WINDOWS.csv EVENTS_IN_JOURNAL PRUNED_TOTAL [PLOT.svg]
"""
import csv
import json
import statistics
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
events, pruned = int(sys.argv[2]), int(float(sys.argv[3]))
plot = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
for r in rows:
    for k in r:
        r[k] = float(r[k])
# A window during which retention removed something had a run in it.
for prev, r in zip([None] + rows[:-1], rows):
    r["pruning"] = prev is not None and r["pruned_total"] > prev["pruned_total"]
acked = sum(r["requests"] - r["non2xx"] for r in rows)
third = rows[len(rows) * 2 // 3:]
size_growth = (third[-1]["file_bytes"] - third[0]["file_bytes"]) / third[-1]["file_bytes"]
rss_growth = (third[-1]["heap_kib"] - third[0]["heap_kib"]) / third[-1]["heap_kib"]
with_prune = [r["p99_ms"] for r in rows if r["pruning"]]
without = [r["p99_ms"] for r in rows if not r["pruning"]]
p99_with = statistics.median(with_prune) if with_prune else None
p99_without = statistics.median(without) if without else None
# Every acknowledged heartbeat is stored or was removed as superseded (64 starts came first). A
# window's last requests may be stored without wrk counting their answers (it stops the clock and
# closes its 64 connections), so stored may exceed acknowledged, by at most 64 a window.
stored = events + pruned - 64
accounted = acked <= stored <= acked + 64 * len(rows)
checks = {
    "accounted": accounted,
    "no_refusals": all(r["non2xx"] == 0 for r in rows),
    "size_plateau": size_growth <= 0.05,
    "heap_flat": rss_growth <= 0.10,
    "p99_within_2x": p99_with is not None and p99_without is not None and p99_with <= 2 * p99_without,
}
summary = {
    "minutes": round(rows[-1]["seconds"] / 60, 1), "windows": len(rows), "acknowledged": int(acked),
    "stored": stored, "events_in_journal": events, "pruned": pruned, "file_mib_end": round(rows[-1]["file_bytes"] / 2**20, 1),
    "size_growth_last_third": round(size_growth, 4), "heap_mib_end": round(rows[-1]["heap_kib"] / 1024, 1),
    "heap_growth_last_third": round(rss_growth, 4), "requests_per_s": round(acked / rows[-1]["seconds"]),
    "p50_ms_median": statistics.median(r["p50_ms"] for r in rows),
    "p99_ms_median_without_prune": p99_without, "p99_ms_median_with_prune": p99_with,
    "checks": checks, "ok": all(checks.values()),
}

if plot:
    w, h, pad = 720, 300, 50
    t_max = rows[-1]["seconds"] or 1
    s_max = max(r["file_bytes"] for r in rows) / 2**20 * 1.1
    p_max = max(r["p99_ms"] for r in rows) * 1.1
    def x(t): return pad + (w - 2 * pad) * t / t_max
    def y(v, top): return h - pad - (h - 2 * pad) * v / top
    size_line = " ".join(f"{x(r['seconds']):.1f},{y(r['file_bytes'] / 2**20, s_max):.1f}" for r in rows)
    p99_line = " ".join(f"{x(r['seconds']):.1f},{y(r['p99_ms'], p_max):.1f}" for r in rows)
    marks = "".join(f'<line x1="{x(r["seconds"]):.1f}" y1="{pad}" x2="{x(r["seconds"]):.1f}" y2="{h - pad}" stroke="#ddd"/>'
                    for r in rows if r["pruning"])
    svg = f'''<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">
<rect width="{w}" height="{h}" fill="white"/>{marks}
<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="black"/>
<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="black"/>
<line x1="{w - pad}" y1="{pad}" x2="{w - pad}" y2="{h - pad}" stroke="black"/>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{size_line}"/>
<polyline fill="none" stroke="#d62728" stroke-width="1.5" points="{p99_line}"/>
<text x="{pad}" y="{pad - 8}" fill="#1f77b4">journal file, MiB (0–{s_max:.0f})</text>
<text x="{w - pad}" y="{pad - 8}" fill="#d62728" text-anchor="end">append p99 per 10 s window, ms (0–{p_max:.1f})</text>
<text x="{w / 2}" y="{h - 15}" text-anchor="middle">minutes (0–{t_max / 60:.0f}); grey: windows with a retention run</text>
</svg>
'''
    open(plot, "w").write(svg)

print(json.dumps(summary))
sys.exit(0 if summary["ok"] else 1)
