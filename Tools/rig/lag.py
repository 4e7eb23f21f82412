"""Shared by the scale-out and HA rigs' load scripts."""
import http.client, re, time

_LAG = re.compile(rb"^logbook_follower_lag_seconds (\S+)$", re.M)


def sample_follower_lag(nodes, deadline, lags):
    """Appends each node's logbook_follower_lag_seconds (from /metrics) to `lags` every 100 ms until
    time.monotonic() passes `deadline`. `nodes`: (host, port) pairs; a node that does not answer
    (it is down) is skipped."""
    while time.monotonic() < deadline:
        for host, port in nodes:
            try:
                c = http.client.HTTPConnection(host, port, timeout=1)
                c.request("GET", "/metrics")
                m = _LAG.search(c.getresponse().read())
                if m:
                    lags.append(float(m.group(1)))
            except Exception:
                pass
        time.sleep(0.1)
