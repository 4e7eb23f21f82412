#!/usr/bin/env python3
"""Checks of the scale-out rig: every acknowledged event is in every replica at its exact
(job, version) with its index, and the replicas' exports are identical.

usage: check.py LOAD_JSON EXPORT [EXPORT ...]    (prints one JSON object)
"""
import hashlib, json, sys

load = json.load(open(sys.argv[1]))
exports = sys.argv[2:]
digests, lost = [], 0
for path in exports:
    data = open(path, "rb").read()
    digests.append(hashlib.sha256(data).hexdigest())
    versions, stored = {}, {}
    for line in data.splitlines():
        e = json.loads(line)
        v = versions[e["job"]] = versions.get(e["job"], 0) + 1
        stored[(e["job"], v)] = (e.get("data") or {}).get("i")
    lost = max(lost, sum(1 for job, version, index in load["acked"] if stored.get((job, version)) != index))
print(json.dumps({"replicas_identical": len(set(digests)) == 1, "lost": lost, "events": len(data.splitlines())}))
