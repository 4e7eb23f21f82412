#!/usr/bin/env python3
"""Stalled SSE followers beside a steady append load: does `logbook serve` keep its memory flat?

    python3 Tools/loadtest/sse_stall.py BINARY [CLIENTS] [SECONDS]

Starts the service on a temporary journal (loopback), opens CLIENTS connections to /events?after=0
that never read a byte (tiny receive buffers), posts batches of 50 events steadily for SECONDS, and
samples the service's resident memory (VmRSS, and RssAnon: memory that is not the journal's map) every 5 s. Prints the samples, the events appended
and how many stalled followers the service disconnected. Bounded in time; cleans up after itself.
"""
import json, os, shutil, socket, subprocess, sys, tempfile, threading, time, urllib.request

binary = sys.argv[1]
clients = int(sys.argv[2]) if len(sys.argv) > 2 else 100
seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 60
tmp = tempfile.mkdtemp()
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
server = subprocess.Popen([binary, "--journal", f"{tmp}/stall.journal", "serve", "--port", str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"

def rss_mib():
    """(total, anonymous) resident MiB. File-backed pages are mostly the journal's map, which grows
    with the events appended whatever the followers do; anonymous memory is what followers could grow."""
    fields = {}
    with open(f"/proc/{server.pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon"):
                fields[key] = int(line.split()[1]) / 1024
    return fields["VmRSS"], fields["RssAnon"]

def post(batch):
    req = urllib.request.Request(f"{base}/jobs/stall-{batch % 64}/events", method="POST",
                                 data=json.dumps([{"type": "heartbeat", "reason": "x" * 100}] * 50).encode())
    urllib.request.urlopen(req, timeout=30).read()

try:
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).read(); break
        except Exception:
            time.sleep(0.1)
    stalled = []
    for _ in range(clients):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.connect(("127.0.0.1", port))
        c.sendall(b"GET /events?after=0 HTTP/1.1\r\nHost: x\r\n\r\n")
        stalled.append(c)  # never read
    samples, batches, start = [], 0, time.time()
    next_sample = start
    while time.time() - start < seconds:
        post(batches); batches += 1
        if time.time() >= next_sample:
            samples.append((round(time.time() - start), rss_mib())); next_sample += 5
    samples.append((round(time.time() - start), rss_mib()))
    metrics = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    dropped = [l for l in metrics.splitlines() if l.startswith("logbook_sse_followers_disconnected_total")]
    print(f"{clients} stalled SSE clients, {batches * 50} events appended in {seconds} s")
    print("t (s)  RSS (MiB)  anonymous (MiB)")
    for t, (r, a) in samples:
        print(f"{t:5d}  {r:9.1f}  {a:15.1f}")
    print(dropped[0] if dropped else "logbook_sse_followers_disconnected_total: not reported")
    print(f"server alive: {server.poll() is None}")
finally:
    server.kill(); server.wait()
    shutil.rmtree(tmp, ignore_errors=True)
