#!/usr/bin/env python3
"""One phase of the scale-out rig: sums the wrk processes' requests/s and CPU, takes the worst
p50 and p99 of them. Prints "requests_per_second p50_ms p99_ms wrk_cpu_seconds errors unrecorded".

usage: wrk_summary.py DIR PHASE COUNT
"""
import re, sys

d, phase, count = sys.argv[1], sys.argv[2], int(sys.argv[3])

def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

rate = p50 = p99 = cpu = 0.0
errors = unrecorded = 0
for n in range(count):
    out = open(f"{d}/wrk-{phase}-{n}.txt").read()
    rate += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = max(p50, ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)))
    p99 = max(p99, ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)))
    for m in re.finditer(r"Non-2xx or 3xx responses: (\d+)", out): errors += int(m.group(1))
    for m in re.finditer(r"acknowledged but not recorded: (\d+)", out): unrecorded += int(m.group(1))
    for m in re.finditer(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())
    user, system = open(f"{d}/wrk-{phase}-{n}.cpu").read().split()[-2:]
    cpu += float(user) + float(system)
print(f"{rate:.1f} {p50:.2f} {p99:.2f} {cpu:.2f} {errors} {unrecorded}")
