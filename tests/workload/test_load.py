#!/usr/bin/python3
"""aether-load against a real aether-worker on loopback: the request count follows the trace
(rates kept, time compressed), only loopback targets are accepted, a broken trace is reported
with its file and line.

usage: test_load.py AETHER_LOAD AETHER_WORKER
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requests_total(port):
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    return float(re.search(r"^http_requests_total (\S+)$", body, re.M).group(1))


def main():
    load_bin, worker_bin = sys.argv[1], sys.argv[2]
    failures = []
    tmp = tempfile.mkdtemp(prefix="aether-load-test-")
    trace = os.path.join(tmp, "trace.csv")
    # minute index, requests per minute: 10/s, 20/s, 20/s, then 0
    with open(trace, "w") as f:
        f.write("minute,requests\n0,600\n1,1200\n2,1200\n3,0\n")
    port = free_port()
    worker = subprocess.Popen([worker_bin, "--port", str(port), "--work-us", "100"],
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                requests_total(port)
                break
            except OSError:
                time.sleep(0.1)
        before = requests_total(port)
        run = subprocess.run([load_bin, "--trace", trace, "--time-column", "minute",
                              "--value-column", "requests", "--time-scale", "60",
                              "--url", f"http://127.0.0.1:{port}/work", "--quiet"],
                             capture_output=True, text=True, timeout=30)
        sent = requests_total(port) - before
        print(run.stderr.strip())
        print(run.stdout.strip())
        print(f"worker counted {sent:.0f} requests (trace asks for about 50)")
        if run.returncode != 0:
            failures.append(f"aether-load exited {run.returncode}")
        if not 35 <= sent <= 65:
            failures.append(f"expected about 50 requests, the worker counted {sent:.0f}")
    finally:
        worker.terminate()
        if worker.wait(timeout=10) != 0:
            failures.append(f"aether-worker did not stop cleanly on SIGTERM: {worker.returncode}")

    # --from/--to: only minutes 1..2 (20/s each): about 40 requests in 2 s.
    worker = subprocess.Popen([worker_bin, "--port", str(port), "--work-us", "100"],
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                before = requests_total(port)
                break
            except OSError:
                time.sleep(0.1)
        run = subprocess.run([load_bin, "--trace", trace, "--time-column", "minute",
                              "--value-column", "requests", "--time-scale", "60", "--from", "1",
                              "--to", "3", "--url", f"http://127.0.0.1:{port}/work", "--quiet"],
                             capture_output=True, text=True, timeout=30)
        sent = requests_total(port) - before
        print(f"window 1..3: worker counted {sent:.0f} requests (about 40 asked)")
        if run.returncode != 0 or not 28 <= sent <= 52:
            failures.append(f"--from/--to: exit {run.returncode}, {sent:.0f} requests: "
                            f"{run.stderr!r}")
    finally:
        worker.terminate()
        worker.wait(timeout=10)

    run = subprocess.run([load_bin, "--trace", trace, "--time-column", "minute",
                          "--value-column", "requests", "--url", "http://192.0.2.1/work"],
                         capture_output=True, text=True, timeout=10)
    if run.returncode != 2 or "loopback" not in run.stderr:
        failures.append(f"a non-loopback URL was not refused: {run.returncode} {run.stderr!r}")

    # Nothing listens on port 1: every request sent gets no answer and counts as failed; the
    # counters are explained on stderr.
    run = subprocess.run([load_bin, "--trace", trace, "--time-column", "minute",
                          "--value-column", "requests", "--time-scale", "120", "--duration", "1",
                          "--url", "http://127.0.0.1:1/", "--quiet"],
                         capture_output=True, text=True, timeout=30)
    done = re.search(r"done: sent (\d+), ok (\d+), HTTP errors \d+, failed (\d+) \(no answer\),"
                     r" skipped \d+ \(not sent", run.stdout)
    if (run.returncode != 0 or not done or int(done.group(1)) == 0 or done.group(2) != "0"
            or done.group(3) != done.group(1)):
        failures.append(f"requests to a closed port are not all counted as failed: {run.stdout!r}")
    if "failed = no answer" not in run.stderr or "skipped = due by the trace" not in run.stderr:
        failures.append(f"the counters are not explained: {run.stderr!r}")

    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("minute,requests\n0,600\n1,lots\n")
    run = subprocess.run([load_bin, "--trace", bad, "--time-column", "minute",
                          "--value-column", "requests", "--url", "http://127.0.0.1:1/"],
                         capture_output=True, text=True, timeout=10)
    if run.returncode != 1 or "bad.csv:3" not in run.stderr:
        failures.append(f"a broken trace was not reported with file:line: {run.stderr!r}")

    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
