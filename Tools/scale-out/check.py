#!/usr/bin/env python3
"""Checks of the scale-out rig: every acknowledged event is in every replica at its seq with its
own time (`at`, unique per event), and the replicas' exports are identical. A replica's seqs are
1, 2, 3, … in the shared log's order, the same in every replica, so an export's line k is seq k.

usage: check.py ACKED EXPORT [EXPORT ...]    (ACKED: lines "seq at"; prints one JSON object)
"""
import hashlib, json, sys

acked = [line.split() for line in open(sys.argv[1]) if line.strip()]
digests, lost, events = [], 0, 0
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    digests.append(hashlib.sha256(data).hexdigest())
    stored = [json.loads(line).get("at") for line in data.splitlines()]
    lost = max(lost, sum(1 for seq, at in acked if int(seq) > len(stored) or stored[int(seq) - 1] != at))
    events = len(stored)
print(json.dumps({"replicas_identical": len(set(digests)) == 1, "lost": lost, "events": events, "acknowledged": len(acked)}))
