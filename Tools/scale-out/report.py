#!/usr/bin/env python3
"""The scale-out rig's report (Tools/scale-out/run.sh): reads the measurements as one JSON object on
stdin, prints what they mean, then one JSON line. Exits 1 when an acknowledged event was lost or
the replicas differ.
"""
import json, sys

m = json.load(sys.stdin)
def phase(text):
    rate, p50, p99, cpu, errors, unrecorded = text.split()
    return {"rate": float(rate), "p50_ms": float(p50), "p99_ms": float(p99), "wrk_cpu": float(cpu), "errors": int(errors),
            "unrecorded": int(unrecorded)}
sat, half, emb = phase(m["sat"]), phase(m["half"]), phase(m["emb"])
kill = phase(m["kill"]) if m.get("kill") else None
secs = m["seconds"]
acked = max(1, m["acked_sat"])
pg_events = max(1.0, m["pgbench_tps"] * secs)
per_k = lambda cpu, n: 1000 * cpu / max(1, n)
node_cpu_k = per_k(m["node_cpu"][1] - m["node_cpu"][0], acked)
pg_cpu_k = per_k(m["pg_cpu"][1] - m["pg_cpu"][0], acked)
pgbench_cpu_k = per_k(m["pg_cpu"][3] - m["pg_cpu"][2], pg_events)
emb_cpu_k = per_k(m["emb_cpu"][1] - m["emb_cpu"][0], m["acked_emb"])
user, system = (float(x) for x in m["catchup_cpu"].split()[-2:])
events = m["check"]["events"]
apply_us = 1e6 * (user + system) / max(1, events)
wal_event = (m["wal"][1] - m["wal"][0]) / acked
wal_pgbench = (m["wal"][3] - m["wal"][2]) / pg_events
stmt_event = (m["statements"][1] - m["statements"][0]) / acked
stmt_pgbench = m["statements"][2] / pg_events
eps = m["acked_sat"] / secs
n = m["nodes"]
commits, placed, reads = (int(x) for x in m["kinds"].split())
print(f"== {n} node(s), saturated: {eps:.0f} events/s acknowledged, p50 {sat['p50_ms']:.1f} ms, p99 {sat['p99_ms']:.1f} ms "
      f"({sat['errors']} requests failed or could not connect; {sat['unrecorded']} acknowledged but not recorded)")
print(f"   at about half ({half['rate']:.0f} requests/s): p50 {half['p50_ms']:.1f} ms, p99 {half['p99_ms']:.1f} ms")
if kill:
    print(f"   with node 1 killed and restarted (back after {m['kill_back_seconds']} s): {m['acked_kill'] / (secs / 2):.0f} events/s, "
          f"p99 {kill['p99_ms']:.1f} ms, {kill['errors']} requests failed or could not connect, {kill['unrecorded']} acknowledged but not recorded")
print(f"== pgbench, {m['clients']} durable clients: {m['pgbench_tps']:.0f} inserts/s (latency average {m['pgbench_latency_ms']} ms)")
print(f"== embedded service (no PostgreSQL): {emb['rate']:.0f} events/s, p99 {emb['p99_ms']:.1f} ms")
print(f"== CPU-seconds per 1,000 acknowledged events: nodes {node_cpu_k:.3f}, PostgreSQL {pg_cpu_k:.3f} "
      f"(pgbench's inserts: {pgbench_cpu_k:.3f}), embedded service {emb_cpu_k:.3f}; load generator {1000 * sat['wrk_cpu'] / acked:.3f} (not counted)")
print(f"== applying a foreign event (a new node catching up {events} events): {apply_us:.1f} µs of CPU "
      f"({m['catchup_seconds']:.1f} s wall)")
print(f"== per event: {stmt_event:.2f} statements and {wal_event:.0f} WAL bytes (pgbench: {stmt_pgbench:.2f}, {wal_pgbench:.0f})")
print(f"== saturated: {commits} commits, {acked / max(1, commits):.1f} events each, {100 * placed / max(1, commits):.1f} % placed; "
      f"{reads / max(1, commits):.2f} follower reads per commit")
print(f"== ratios: nodes / pgbench {eps / max(1, m['pgbench_tps']):.2f}x; node CPU per event / embedded {node_cpu_k / max(1e-9, emb_cpu_k) / n:.2f}x "
      f"(per node: each node's share)")
check = m["check"]
print(f"== lost acknowledged events: {check['lost']}; replicas identical: {check['replicas_identical']} ({events} events each)")
summary = {
    "nodes": n, "events_per_second": round(eps, 1), "p50_ms": sat["p50_ms"], "p99_ms": sat["p99_ms"],
    "half_rate": half["rate"], "half_p50_ms": half["p50_ms"], "half_p99_ms": half["p99_ms"],
    "pgbench_tps": m["pgbench_tps"], "ratio_pgbench": round(eps / max(1, m["pgbench_tps"]), 3),
    "embedded_eps": emb["rate"], "node_cpu_per_1000": round(node_cpu_k, 4), "pg_cpu_per_1000": round(pg_cpu_k, 4),
    "pgbench_pg_cpu_per_1000": round(pgbench_cpu_k, 4), "embedded_cpu_per_1000": round(emb_cpu_k, 4),
    "wrk_cpu_per_1000": round(1000 * sat["wrk_cpu"] / acked, 4), "apply_us_per_event": round(apply_us, 2),
    "statements_per_event": round(stmt_event, 3), "events_per_commit": round(acked / max(1, commits), 1),
    "placed_share": round(placed / max(1, commits), 3), "reads_per_commit": round(reads / max(1, commits), 3), "wal_bytes_per_event": round(wal_event), "pgbench_wal_bytes_per_insert": round(wal_pgbench),
    "kill_events_per_second": round(m["acked_kill"] / (secs / 2), 1) if kill else None,
    "kill_back_seconds": m["kill_back_seconds"] if kill else None,
    "lost": check["lost"], "replicas_identical": check["replicas_identical"], "acknowledged": check["acknowledged"],
}
print(json.dumps(summary))
ok = check["lost"] == 0 and check["replicas_identical"] and check["acknowledged"] > 0 and sat["unrecorded"] == 0 and half["unrecorded"] == 0 and (kill is None or kill["unrecorded"] == 0)
sys.exit(0 if ok else 1)
