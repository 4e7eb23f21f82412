#!/usr/bin/env python3
"""Checks of the scale-out rig: every acknowledged event is in every replica at its exact
(job, version) with its data.i, and the replicas' exports are identical.

usage: check.py ACKED EXPORT [EXPORT ...]    (ACKED: lines "job version i"; prints one JSON object)
"""
import hashlib, json, sys

acked = [line.split() for line in open(sys.argv[1]) if line.strip()]
digests, lost, events = [], 0, 0
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    digests.append(hashlib.sha256(data).hexdigest())
    versions, stored = {}, {}
    for line in data.splitlines():
        e = json.loads(line)
        v = versions[e["job"]] = versions.get(e["job"], 0) + 1
        stored[(e["job"], v)] = str((e.get("data") or {}).get("i"))
    lost = max(lost, sum(1 for job, version, i in acked if stored.get((job, int(version))) != i))
    events = len(data.splitlines())
print(json.dumps({"replicas_identical": len(set(digests)) == 1, "lost": lost, "events": events, "acknowledged": len(acked)}))
