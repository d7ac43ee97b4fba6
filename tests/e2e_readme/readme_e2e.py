#!/usr/bin/python3
"""The README's walkthrough, scripted: the commands are taken from README.md itself (with the
API port 8080 and the worker ports 9100.. moved to free ones), the node runs the shipped
aether.toml (warm-up and cooldown shortened), and the load is the Makefile's demo-load pattern
replayed faster. Each claim the README makes about what happens is checked.

usage: readme_e2e.py --source REPO --bin DIR_WITH_aether-node_aether-worker_aether-load
Exit 0 pass, 1 fail, 77 skipped (curl missing)."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from e2e_lib import CREATED_DIRS, Failure, Node, check, port_block, run_case  # noqa: E402

ARGS = None
# The day of demo-load is replayed in this many seconds (the README: 300, `make demo-load`).
DAY_SECONDS = int(os.environ.get("AETHER_README_DAY_S", "60"))


def section(text, title):
    """The README's section under the heading starting with title."""
    start = text.index("\n## " + title)
    end = text.find("\n## ", start + 4)
    return text[start:end if end > 0 else len(text)]


def readme_line(sect, pattern):
    """The first line of sect matching pattern (the README must still say it)."""
    m = re.search(pattern, sect, re.M)
    check(m, "the README no longer has a line matching /%s/" % pattern)
    return m.group(0).strip()


def makefile_default(name):
    with open(os.path.join(ARGS.source, "Makefile")) as f:
        m = re.search(r"^%s\s*\?=\s*(\S+)" % name, f.read(), re.M)
    check(m, "Makefile: no default for %s" % name)
    return m.group(1)


class ReadmeNode(Node):
    """aether-node started as `make run` does (build/bin/aether-node --config aether.toml from
    the repository root), in a scratch root holding build/bin, models and training."""

    def __init__(self):
        super().__init__(os.path.join(ARGS.bin, "aether-node"))
        self.binary = "build/bin/aether-node"
        os.makedirs(os.path.join(self.dir, "build"))
        os.symlink(os.path.abspath(ARGS.bin), os.path.join(self.dir, "build", "bin"))
        for d in ["models", "training"]:
            os.symlink(os.path.join(ARGS.source, d), os.path.join(self.dir, d))
        self.worker_base = port_block(8)
        with open(os.path.join(ARGS.source, "aether.toml")) as f:
            text = f.read()
        for old, new in [('bind = "127.0.0.1:8080"', 'bind = "127.0.0.1:%d"' % self.port),
                         ("port_base = 9100", "port_base = %d" % self.worker_base),
                         ("warm_up_period_ms = 30000", "warm_up_period_ms = 3000"),
                         ("slice_cooldown_ms = 10000", "slice_cooldown_ms = 2000")]:
            check(old in text, "aether.toml no longer has %r" % old)
            text = text.replace(old, new)
        self.toml = text

    def write_config(self):
        self.config = "aether.toml"
        with open(os.path.join(self.dir, self.config), "w") as f:
            f.write(self.toml)

    def shell(self, command, timeout=30):
        """A README command line with its ports moved; returns its stdout."""
        command = command.replace("localhost:8080", "localhost:%d" % self.port)
        command = command.replace("--port 9101", "--port %d" % (self.worker_base + 1))
        p = subprocess.run(command, shell=True, cwd=self.dir, capture_output=True, text=True,
                           timeout=timeout)
        return p.stdout

    def demo(self):
        for b in self.get_json("/api/blueprints"):
            if b["name"] == "demo":
                return b
        raise Failure("no blueprint demo in /api/blueprints")


def demo_trace(node, path, duration):
    """The Makefile's demo-trace: training/generate_synthetic.py with its defaults."""
    subprocess.run(["/usr/bin/python3", "training/generate_synthetic.py", "--pattern",
                    makefile_default("PATTERN"), "--duration", duration, "--base-load",
                    makefile_default("LOAD_BASE"), "--seed", makefile_default("LOAD_SEED"),
                    "--output", path], cwd=node.dir, check=True, capture_output=True)


def workers_running(node):
    p = subprocess.run(["pgrep", "-f", "aether-worker --port %d" % node.worker_base],
                       capture_output=True)
    return p.returncode == 0


def walkthrough(node, text):
    walk = section(text, "Walkthrough")
    check("make run" in walk and "watch -n1" in walk, "walkthrough steps missing")
    watch = readme_line(walk, r"watch -n1 '(.*)'")
    watch = re.search(r"'(.*)'", watch).group(1)
    grep = readme_line(walk, r"^\s*curl -s localhost:8080/metrics \| grep .*$")
    kill = re.search(r"`(pkill -9 -f '[^`]*')`", walk)
    check(kill, "the README no longer says how to kill a worker")
    readme_line(walk, r"make demo-load PATTERN=diurnal")

    node.start()
    node.wait_log(r"blueprint demo: process actuator, 1 instance\(s\) to start")
    node.wait_log(r"listening on 127\.0\.0\.1:%d" % node.worker_base)
    # Step 2: the watch command's body answers with the fields the README names.
    b = node.wait_for(lambda: json.loads(node.shell(watch) or "[]"), 10, "the watch command")
    for key in ["requested", "starting", "ready", "cpuUsage", "lastDecision"]:
        check(key in b[0], "/api/blueprints has no %s: %r" % (key, b[0]))
    code, _, _ = node.request("GET", "/")
    check(code == 200, "the dashboard at / answers %d" % code)

    # Step 3: the day of load, faster than the README's five minutes.
    trace = os.path.join(node.dir, "build", "demo-load.csv")
    demo_trace(node, trace, makefile_default("LOAD_DURATION"))
    load = subprocess.Popen(["build/bin/aether-load", "--trace", trace, "--time-column",
                             "timestamp", "--value-column", "invocations", "--time-scale",
                             str(86400 // DAY_SECONDS), "--ports", "%d-%d" % (
                                 node.worker_base, node.worker_base + 7), "--path", "/work",
                             "--quiet"], cwd=node.dir, stdout=subprocess.DEVNULL)
    try:
        # Step 4: the morning load takes it to 2; step 5: a killed worker is restarted.
        node.wait_for(lambda: node.demo()["ready"] >= 2, DAY_SECONDS, "ready 2 as the load rises")
        node.shell(kill.group(1))
        node.wait_log(r"killed by signal 9", 10)
        node.wait_log(r"recovered: .*killed by signal 9", 40)
        # The night trough, as the README says: back to 1, or, once the forecast tier has sized
        # the fleet (at a day of five minutes it always has; in this faster one it may not have
        # yet), 2 held by its scale-in window. Replayed in a minute the evening lasts seconds,
        # and on a busy machine the last change may come just after the day ends: 30 s are
        # allowed.
        readme_line(walk, r"scale-in held: target 2 within the last 45")

        def trough():
            b = node.demo()
            reason = (b.get("lastDecision") or {}).get("reason", "")
            return b["ready"] == 1 or (b["ready"] == 2 and "scale-in held: target 2" in reason)

        seen = []
        while load.poll() is None:
            seen.append(node.demo()["ready"])
            time.sleep(0.5)
        if 1 not in seen[len(seen) // 2:]:
            node.wait_for(trough, 30,
                          "ready back to 1, or 2 held by the scale-in window, in the night "
                          "trough (during the day: %r; now %r)" % (seen, node.demo()))
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    check(load.returncode == 0, "aether-load exit %r" % load.returncode)
    decisions = node.get_json("/api/decisions")
    check(any(d["action"] == "scale_up" for d in decisions), "no scale_up in /api/decisions")
    lines = node.shell(grep).splitlines()
    check(lines and all('blueprint="demo"' in ln for ln in lines),
          "the README's metrics grep prints nothing: %r" % lines[:3])
    check(any(ln.startswith("aether_decisions_total{") for ln in lines),
          "no aether_decisions_total for demo in: %r" % lines)
    node.stop(signal.SIGINT)  # Ctrl-C
    check(not workers_running(node), "workers left behind after Ctrl-C")


def demo(node, text):
    """`make demo`: the day imported with --shift-to-now, then a forecast at once."""
    tier = section(text, "The forecast tier")
    readme_line(tier, r"^make demo\b")
    status = readme_line(tier, r"curl -s localhost:8080/api/ttm/status")
    status = re.search(r"curl -s localhost:8080/api/ttm/status", status).group(0)
    count = re.search(r"`(curl -s localhost:8080/metrics \| grep ttm_predictions_count_total)`",
                      tier.replace("\n", " "))
    check(count, "the README no longer shows the ttm_predictions_count_total grep")
    history = os.path.join(node.dir, "build", "demo-history.csv")
    demo_trace(node, history, "24h")
    p = subprocess.run([node.binary, "import-history", history, "--config", "aether.toml",
                        "--shift-to-now"], cwd=node.dir, capture_output=True, text=True)
    check(p.returncode == 0 and "imported 1440 minutes of blueprint demo" in p.stdout,
          "import-history: %s%s" % (p.stdout, p.stderr))
    node.start()
    s = node.wait_for(lambda: json.loads(node.shell(status) or "{}").get("hasForecast") and
                      json.loads(node.shell(status)), 15, "hasForecast seconds after start")
    check(s["state"] == "RUNNING", "TTM state %s" % s["state"])
    out = node.shell(count.group(1))
    m = re.search(r"^ttm_predictions_count_total (\d+)", out, re.M)
    check(m and int(m.group(1)) >= 1, "ttm_predictions_count_total: %r" % out)
    node.stop(signal.SIGINT)


def case_walkthrough():
    with open(os.path.join(ARGS.source, "README.md")) as f:
        text = f.read()
    node = ReadmeNode()
    try:
        walkthrough(node, text)
        demo(node, text)
    finally:
        if node.proc:
            node.stop()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--source", required=True)
    p.add_argument("--bin", required=True)
    ARGS = p.parse_args()
    if not shutil.which("curl"):
        print("SKIP: the README's commands need curl (scripts/install-deps installs it)")
        return 77
    return run_case("walkthrough", globals())


if __name__ == "__main__":
    sys.exit(main())
