#!/usr/bin/env python3
"""Kill -9 the server mid-load and check that every acknowledged (201) event survived.

64 client threads post single events (each to its own job) as fast as the server acknowledges them,
recording the seq of every 201. The server is killed with SIGKILL mid-load, restarted on the same
journal, and every recorded seq is looked up in its job's timeline.

usage: kill_check.py LOGBOOK_BINARY JOURNAL PORT [SECONDS_BEFORE_KILL]
"""
import http.client, json, os, signal, subprocess, sys, threading, time

binary, journal, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
before_kill = float(sys.argv[4]) if len(sys.argv) > 4 else 3.0

def start():
    p = subprocess.Popen([binary, "--journal", journal, "serve", "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if p.poll() is not None:  # e.g. the port is taken (a server left running would answer /healthz)
            sys.exit(f"server exited with status {p.returncode} at start (port {port} in use?)")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1); c.request("GET", "/healthz")
            if c.getresponse().status == 200: return p
        except OSError: time.sleep(0.05)
    p.kill()
    sys.exit("server did not start")

server = start()
acked = {}          # job -> list of seqs acknowledged with 201
lock = threading.Lock()
stop = threading.Event()

def client(n):
    job = f"kill-{n}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while not stop.is_set():
        try:
            conn.request("POST", f"/jobs/{job}/events", body='{"type":"heartbeat"}',
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse(); body = r.read()
            if r.status == 201:
                with lock: acked.setdefault(job, []).extend(json.loads(body)["seqs"])
        except Exception:
            return  # the server died: stop this client
threads = [threading.Thread(target=client, args=(n,)) for n in range(64)]
for t in threads: t.start()
time.sleep(before_kill)
os.kill(server.pid, signal.SIGKILL); server.wait()
stop.set()
for t in threads: t.join()
total = sum(len(v) for v in acked.values())
def stored_seqs(job):
    """Every seq of the job's timeline, page by page (`next` is null on the last)."""
    seqs, after = set(), 0
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while after is not None:
        c.request("GET", f"/jobs/{job}/timeline?after={after}&limit=5000")
        page = json.loads(c.getresponse().read())
        seqs.update(e["event"]["seq"] for e in page["entries"])
        after = page["next"]
    return seqs
server = start()
missing = 0
try:
    for job, seqs in acked.items():
        present = stored_seqs(job)
        missing += sum(1 for s in seqs if s not in present)
finally:
    server.send_signal(signal.SIGTERM); server.wait()
print(json.dumps({"acknowledged_before_kill": total, "lost": missing}))
sys.exit(1 if missing else 0)
