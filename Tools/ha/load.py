#!/usr/bin/env python3
"""Load for the HA rig (Tools/ha/run.sh): CLIENTS threads spread over the Logbook nodes for SECONDS.
Each client posts single durable events to its own job (a new job every 200 events) and, every
fourth request, one atomic batch over three side jobs of its own (POST /events). A client whose
node is down (killed by run.sh) reconnects and carries on; a refused append (503 while no primary
answers) is counted and tried again as a new request.

Every acknowledged (201) event is recorded as [job, version, index, sent, acked] (wall-clock
seconds), so the checks can find it at its exact (job, version) and time each kill to the first
acknowledgement of a request sent after it. Each node's follower lag is sampled from /metrics every
100 ms. One JSON summary is written to OUT.

usage: load.py OUT SECONDS CLIENTS HOST:PORT [HOST:PORT ...]
"""
import http.client, json, os, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from lag import sample_follower_lag  # noqa: E402

out, seconds, clients = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
nodes = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in sys.argv[4:]]
acked = []          # [job, version, index, sent, acked, node]
failed = []         # [time, node, HTTP status, or 0 for no answer]
errors = {"connection": 0, "refused": 0}
lags = []
lock = threading.Lock()
deadline = time.monotonic() + seconds


def client(n):
    node = n % len(nodes)
    host, port = nodes[node]
    conn, mine, index, singles, batches = None, [], 0, 0, 0
    while time.monotonic() < deadline:
        if conn is None:
            conn = http.client.HTTPConnection(host, port, timeout=60)
        if (singles + batches) % 4 == 3:
            # One atomic batch: a heartbeat on each of three side jobs (started on their first batch).
            group = batches // 100
            kind = {"type": "started", "node": f"node-{node}"} if batches % 100 == 0 else {"type": "heartbeat", "attempt": 1}
            events = [dict(kind, job=f"c{n}-side{k}-{group}", data={"i": index + k}) for k in range(3)]
            path, body = "/events", json.dumps(events)
        else:
            job = f"c{n}-{singles // 200}"
            kind = {"type": "started", "node": f"node-{node}"} if singles % 200 == 0 else {"type": "heartbeat", "attempt": 1}
            events = [dict(kind, job=job, data={"i": index})]
            path, body = f"/jobs/{job}/events", json.dumps(events[0])
        sent = time.time()
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
        except Exception:
            # No answer: the events may be stored or not. The next request carries new indexes (a
            # client without an idempotency key sends new events), so "doubled" in the checks counts
            # only events Logbook itself stored twice.
            conn.close(); conn = None
            index += len(events)
            with lock: errors["connection"] += 1; failed.append([time.time(), node, 0])
            time.sleep(0.05)  # the node is down: try again shortly
            continue
        if r.status != 201:
            with lock: errors["refused"] += 1; failed.append([time.time(), node, r.status])
            index += len(events)  # as below: a new request is new events
            time.sleep(0.05)
            continue
        now = time.time()
        answer = json.loads(data)
        states = answer["states"] if "states" in answer else [answer["state"]]
        versions = {s["job"]: s["version"] for s in states}
        for k, e in enumerate(events):
            mine.append([e["job"], versions[e["job"]], index + k, sent, now, node])
        index += len(events)
        if path == "/events": batches += 1
        else: singles += 1
    with lock:
        acked.extend(mine)


def sampler():
    sample_follower_lag(nodes, deadline, lags)


threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)] + [threading.Thread(target=sampler)]
began = time.time()
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.time() - began

json.dump({
    "began": began, "seconds": elapsed, "acked": acked, "failed": failed, "follower_lags": lags,
    "connection_errors": errors["connection"], "refused": errors["refused"],
}, open(out, "w"))
