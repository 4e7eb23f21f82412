#!/usr/bin/env python3
"""Checks of the HA rig (Tools/ha/run.sh). TRUTH is the export of a fresh replica caught up from
the cluster's primary after the run (what PostgreSQL holds); NODE exports are the service nodes'
replicas. Prints one JSON object:

- lost: acknowledged events not in TRUTH at their exact (job, version) with their index;
- lost_in_replicas: the same, for the worst node replica;
- doubled: events stored more than once (same job and index) in TRUTH;
- replicas_identical: every node's export byte-identical to TRUTH's;
- kills: for each kill, seconds from it to the first acknowledgement of a request sent after it,
  and the longest time without acknowledgements in the 30 s after it (for a Logbook node's kill,
  of requests sent to that node); `seconds` is the larger, and failover_seconds the largest;
- events_per_second, p50_ms, p99_ms (acknowledged requests), follower_lag_p99_ms.

usage: check.py LOAD_JSON KILLS_JSON TRUTH_EXPORT NODE_EXPORT [NODE_EXPORT ...]
"""
import hashlib, json, sys

load = json.load(open(sys.argv[1]))
kills = json.load(open(sys.argv[2]))
truth_path, node_paths = sys.argv[3], sys.argv[4:]


def read(path):
    data = open(path, "rb").read()
    versions, stored, seen, doubled = {}, {}, set(), 0
    for line in data.splitlines():
        e = json.loads(line)
        v = versions[e["job"]] = versions.get(e["job"], 0) + 1
        i = (e.get("data") or {}).get("i")
        stored[(e["job"], v)] = i
        doubled += (e["job"], i) in seen
        seen.add((e["job"], i))
    return hashlib.sha256(data).hexdigest(), stored, doubled, len(data.splitlines())


acked = load["acked"]
def missing(stored):
    return sum(1 for job, version, index, *_ in acked if stored.get((job, version)) != index)

truth_digest, truth, doubled, events = read(truth_path)
lost = missing(truth)
node_digests, lost_in_replicas = [], 0
for path in node_paths:
    digest, stored, _, _ = read(path)
    node_digests.append(digest)
    lost_in_replicas = max(lost_in_replicas, missing(stored))

# Requests, not events: a batch's events share one latency.
requests = {}
for job, version, index, sent, ack, node in acked:
    requests[(sent, node)] = ack - sent
latencies = sorted(requests.values())
def pct(values, p):
    return values[min(len(values) - 1, int(len(values) * p))] if values else None

timed = []
for kill in kills:
    mine = [(sent, ack) for job, version, index, sent, ack, node in acked if kill.get("node") is None or node == kill["node"]]
    after = [ack for sent, ack in mine if sent > kill["at"]]
    first = min(after) - kill["at"] if after else None
    # The longest time without any acknowledgement in the 30 s after it (a switchover's pause
    # comes some time after the command that asks for it).
    acks = sorted({ack for sent, ack in mine if kill["at"] <= ack <= kill["at"] + 30})
    stall = max(b - a for a, b in zip([kill["at"]] + acks, acks)) if acks else None
    seconds = None if first is None or stall is None else round(max(first, stall), 3)
    # Requests refused or unanswered from it to the next event (or the end).
    later = [k["at"] for k in kills if k["at"] > kill["at"]]
    until = min(later) if later else float("inf")
    failures = [f for f in load.get("failed", []) if kill["at"] <= f[0] < until and (kill.get("node") is None or f[1] == kill["node"])]
    timed.append({"what": kill["what"], "first_ack_seconds": None if first is None else round(first, 3),
                  "longest_stall_seconds": None if stall is None else round(stall, 3), "seconds": seconds,
                  "refused": sum(1 for f in failures if f[2]), "unanswered": sum(1 for f in failures if not f[2])})

lags = sorted(load["follower_lags"])
print(json.dumps({
    "acknowledged": len(acked),
    "lost": lost,
    "lost_in_replicas": lost_in_replicas,
    "doubled": doubled,
    "replicas_identical": all(d == truth_digest for d in node_digests),
    "events": events,
    "kills": timed,
    "failover_seconds": None if any(k["seconds"] is None for k in timed) or not timed else max(k["seconds"] for k in timed),
    "events_per_second": round(len(acked) / load["seconds"], 1),
    "p50_ms": round(pct(latencies, 0.50) * 1000, 1) if latencies else None,
    "p99_ms": round(pct(latencies, 0.99) * 1000, 1) if latencies else None,
    "follower_lag_p99_ms": round(pct(lags, 0.99) * 1000, 1) if lags else None,
    "connection_errors": load["connection_errors"],
    "refused": load["refused"],
}))
