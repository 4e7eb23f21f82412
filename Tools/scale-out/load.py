#!/usr/bin/env python3
"""Load for the scale-out rig (Tools/scale-out/run.sh): CLIENTS threads spread over the nodes post
single durable heartbeats, each client to its own jobs, for SECONDS; at KILL_AT one node is killed
with SIGKILL (by run.sh, which restarts it); its clients reconnect and carry on.

Records every acknowledged (201) event as (job, version, index) with its latency, samples each
node's follower lag from /metrics every 100 ms, and writes one JSON summary to OUT.

usage: load.py OUT SECONDS CLIENTS PORT [PORT ...]
"""
import http.client, json, os, sys, threading, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))
from lag import sample_follower_lag  # noqa: E402

out, seconds, clients, ports = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), [int(p) for p in sys.argv[4:]]
acked = []          # (job, version, index)
latencies = []      # seconds, acknowledged requests only
errors = {"refused": 0, "failed": 0}
lags = []           # seconds, sampled
lock = threading.Lock()
deadline = time.monotonic() + seconds

def client(n):
    port = ports[n % len(ports)]
    conn, mine, lat, index, job_round = None, [], [], 0, 0
    while time.monotonic() < deadline:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        job = f"c{n}-{index // 200}"  # a new job every 200 events: histories stay short
        # Each job's first event starts its attempt on the node; the rest are its heartbeats.
        kind = {"type": "started", "node": f"node-{port}"} if index % 200 == 0 else {"type": "heartbeat", "attempt": 1}
        body = json.dumps(dict(kind, data={"i": index}))
        start = time.monotonic()
        try:
            conn.request("POST", f"/jobs/{job}/events", body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
        except Exception:
            conn.close(); conn = None
            with lock: errors["refused"] += 1
            time.sleep(0.05)  # the node is down: try again shortly
            continue
        if r.status == 201:
            version = json.loads(data)["state"]["version"]
            mine.append((job, version, index))
            lat.append(time.monotonic() - start)
            index += 1
        else:
            with lock: errors["failed"] += 1
            time.sleep(0.01)
    with lock:
        acked.extend(mine); latencies.extend(lat)

def sampler():
    sample_follower_lag([("127.0.0.1", p) for p in ports], deadline, lags)

threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)] + [threading.Thread(target=sampler)]
began = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.monotonic() - began

def pct(values, p):
    if not values: return None
    s = sorted(values); return s[min(len(s) - 1, int(len(s) * p))]

json.dump({
    "acknowledged": len(acked), "seconds": elapsed, "events_per_second": len(acked) / elapsed,
    "p50_ms": pct(latencies, 0.50) * 1000 if latencies else None, "p99_ms": pct(latencies, 0.99) * 1000 if latencies else None,
    "follower_lag_p99_ms": pct(lags, 0.99) * 1000 if lags else None, "lag_samples": len(lags),
    "connection_errors": errors["refused"], "refused": errors["failed"],
    "acked": acked,
}, open(out, "w"))
