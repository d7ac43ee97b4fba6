#!/usr/bin/env python3
"""Node benchmark: memory and control-loop lag of aether-node, idle and under HTTP load.

Starts the release node (build/bin/aether-node) with the default model (models/ttm-aether.onnx;
its window W and horizon H read by aether-model validate) and 4 blueprints whose W-minute windows
are pre-populated in the node's database, so every
TTM evaluation (every 10 s here) runs the model on a batch of 4. Then, in one run:
  1. idle: 60 s with nothing but the node's own work;
  2. loaded: 60 s while wrk drives GET /api/ttm/status as fast as it can.
The control loop ticks every 100 ms in this benchmark (controller.evaluation_interval_ms = 100)
so that each phase has 600 ticks, exactly the node's lag window: the p99 read from /metrics at
the end of a phase covers that phase only. RSS is read from /proc (VmRSS now, VmHWM peak).

For scale, a bare timer loop (a separate process that only sleeps to 100-ms deadlines and notes
how late it woke) runs beside the node in each phase: its p99 is what this machine's scheduler
alone costs at that moment, the floor under the node's own number.

usage: bench_node.py [--node build/bin/aether-node] [--model models/ttm-aether.onnx]
                     [--seconds 60] [--wrk-threads 2] [--wrk-connections 16]
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

GOAL_RSS_MB = 10.0
GOAL_LAG_MS = 5.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model_shape(engine, model):
    """(W, H) from the model's metadata, as `aether-model validate` prints it."""
    out = subprocess.run([engine, "validate", model], capture_output=True, text=True).stdout
    shape = {}
    for line in out.splitlines():
        m = re.match(r"\s*aether\.(window|horizon) = (\d+)$", line)
        if m:
            shape[m.group(1)] = int(m.group(2))
    if len(shape) != 2:
        sys.exit("bench_node: %s validate %s shows no aether.window/aether.horizon"
                 % (engine, model))
    return shape["window"], shape["horizon"]


def write_config(path, work, port, model, blueprints, window, horizon):
    lines = ["[node]", 'data_dir = "%s"' % os.path.join(work, "data"), 'log_level = "warn"', "",
             "[api]", 'bind = "127.0.0.1:%d"' % port, "",
             "[controller]", "evaluation_interval_ms = 100", "",
             "[ttm]", "enabled = true", 'model_path = "%s"' % model,
             "input_window_minutes = %d" % window, "prediction_horizon = %d" % horizon,
             "evaluation_interval_ms = 10000", ""]
    for bp in blueprints:
        lines += ["[[blueprint]]", 'name = "%s"' % bp, 'actuator = "exec"',
                  'scale_command = ["/bin/true"]', ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def populate(db, blueprints, minutes=60):
    """Closed minutes with a gentle daily-like wave, ending with the last closed minute."""
    end = int(time.time() // 60) * 60000 - 60000
    con = sqlite3.connect(db)
    for k, bp in enumerate(blueprints):
        for i in range(minutes):
            start = end - (minutes - 1 - i) * 60000
            load = 0.4 + 0.2 * ((i + 7 * k) % 30) / 30.0
            inv = 6000 * load / 0.4
            vals = [load, 0.3, 0.4, 12.0, inv, 0.0, 10.0, 20.0, 30.0, 0.001, inv]
            con.execute("INSERT OR REPLACE INTO minutes (blueprint, ts, %s, %s, samples, ready,"
                        " requested, estimated) VALUES (?,?,%s,%s,?,?,?,?)"
                        % (",".join("v%d" % i for i in range(11)),
                           ",".join("c%d" % i for i in range(11)), ",".join("?" * 11),
                           ",".join("?" * 11)),
                        [bp, start] + vals + [60] * 11 + [60, 1.0, 1.0, 0])
    con.commit()
    con.close()


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return r.read().decode()


def lag_quantiles(port):
    text = get(port, "/metrics")
    out = {}
    for q in ["0.5", "0.99", "1"]:
        m = re.search(r'^aether_control_loop_lag_seconds\{quantile="%s"\} (\S+)$' % re.escape(q),
                      text, re.M)
        out[q] = float(m.group(1)) * 1000.0
    m = re.search(r"^ttm_predictions_count_total (\S+)$", text, re.M)
    out["predictions"] = float(m.group(1))
    m = re.search(r"^aether_control_loop_nice (\S+)$", text, re.M)
    out["nice"] = int(float(m.group(1)))
    return out


BASELINE = r"""
import json, sys, time
n, period, late = int(sys.argv[1]), 0.1, []
deadline = time.monotonic() + period
for _ in range(n):
    time.sleep(max(0.0, deadline - time.monotonic()))
    late.append((time.monotonic() - deadline) * 1000.0)
    deadline += period
late.sort()
print(json.dumps({"0.5": late[len(late) // 2], "0.99": late[int(0.99 * len(late)) - 1],
                  "1": late[-1]}))
"""


def start_baseline(seconds):
    """The bare timer loop for one phase (see the module doc)."""
    return subprocess.Popen([sys.executable, "-c", BASELINE, str(seconds * 10)],
                            stdout=subprocess.PIPE, text=True)


def rss_mb(pid):
    """VmRSS, VmHWM, RssAnon, RssFile (from status) and Pss (smaps_rollup), in MB."""
    fields = {}
    for name in ["status", "smaps_rollup"]:
        with open("/proc/%d/%s" % (pid, name)) as f:
            for line in f:
                k, _, v = line.partition(":")
                if v.strip().endswith("kB"):
                    fields[k] = int(v.split()[0]) / 1024.0
    return {k: fields.get(k, float("nan"))
            for k in ["VmRSS", "VmHWM", "RssAnon", "RssFile", "Pss"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--node", default="build/bin/aether-node")
    ap.add_argument("--model", default="models/ttm-aether.onnx")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--wrk-connections", type=int, default=16)
    a = ap.parse_args()
    for need in [a.node, a.model]:
        if not os.path.exists(need):
            sys.exit("bench_node: %s not found (run `make` from the repository root)" % need)
    if not shutil.which("wrk"):
        sys.exit("bench_node: wrk not installed (scripts/install-deps)")
    work = tempfile.mkdtemp(prefix="aether-bench-")
    port = free_port()
    blueprints = ["alpha", "beta", "gamma", "delta"]
    conf = os.path.join(work, "aether.toml")
    window, horizon = model_shape(os.path.join(os.path.dirname(a.node), "aether-model"), a.model)
    write_config(conf, work, port, os.path.abspath(a.model), blueprints, window, horizon)
    log = open(os.path.join(work, "node.log"), "w")

    def start():
        p = subprocess.Popen([a.node, "--config", conf], stdout=log, stderr=log)
        for _ in range(100):
            try:
                get(port, "/api/ttm/status")
                return p
            except OSError:
                time.sleep(0.1)
        sys.exit("bench_node: node did not start; see %s" % log.name)

    # First start creates the database; then the windows are written and the node restarts.
    p = start()
    p.send_signal(signal.SIGTERM)
    p.wait()
    populate(os.path.join(work, "data", "aether.db"), blueprints, window)
    p = start()
    try:
        status = json.loads(get(port, "/api/ttm/status"))
        if not status["active"]:
            sys.exit("bench_node: TTM not active: %s" % status["error"])
        base = start_baseline(a.seconds)
        time.sleep(a.seconds)
        idle = lag_quantiles(port)
        base_idle = json.loads(base.communicate()[0])
        mem_idle = rss_mb(p.pid)
        base = start_baseline(a.seconds)
        wrk = subprocess.run(["wrk", "-t%d" % a.wrk_threads, "-c%d" % a.wrk_connections,
                              "-d%ds" % a.seconds, "http://127.0.0.1:%d/api/ttm/status" % port],
                             capture_output=True, text=True)
        loaded = lag_quantiles(port)
        base_load = json.loads(base.communicate()[0])
        mem_load = rss_mb(p.pid)
        rps = re.search(r"Requests/sec:\s+(\S+)", wrk.stdout)
        rps = float(rps.group(1)) if rps else float("nan")
        status = json.loads(get(port, "/api/ttm/status"))
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
        log.close()

    print("aether-node benchmark: 4 blueprints, model %s (W=%d, H=%d), TTM every 10 s,"
          " control loop every 100 ms, %d s per phase" % (a.model, window, horizon, a.seconds))
    print("TTM state %s, forecasts made during the run: %d, control loop at nice %d"
          % (status["state"], loaded["predictions"], loaded["nice"]))
    print()
    print("%-34s %12s %14s %10s" % ("", "idle", "wrk /status", "goal"))
    print("%-34s %12.2f %14.2f %10s" % ("RSS (MB)", mem_idle["VmRSS"], mem_load["VmRSS"],
                                         "< %.0f" % GOAL_RSS_MB))
    print("%-34s %12.2f %14.2f %10s" % ("  of it anonymous (heap, stacks)", mem_idle["RssAnon"],
                                         mem_load["RssAnon"], ""))
    print("%-34s %12.2f %14.2f %10s" % ("  of it mapped files (libraries)", mem_idle["RssFile"],
                                         mem_load["RssFile"], ""))
    print("%-34s %12.2f %14.2f %10s" % ("PSS, shared pages divided (MB)", mem_idle["Pss"],
                                         mem_load["Pss"], ""))
    print("%-34s %12s %14.2f %10s" % ("peak RSS, VmHWM (MB)", "", mem_load["VmHWM"], ""))
    print("%-34s %12.3f %14.3f %10s" % ("control-loop lag p50 (ms)", idle["0.5"], loaded["0.5"],
                                         ""))
    print("%-34s %12.3f %14.3f %10s" % ("control-loop lag p99 (ms)", idle["0.99"],
                                         loaded["0.99"], "< %.0f" % GOAL_LAG_MS))
    print("%-34s %12.3f %14.3f %10s" % ("control-loop lag max (ms)", idle["1"], loaded["1"], ""))
    print("%-34s %12s %14.0f %10s" % ("GET /api/ttm/status requests/s", "", rps, ""))
    print("%-34s %12.3f %14.3f %10s" % ("bare timer loop lag p99 (ms)", base_idle["0.99"],
                                         base_load["0.99"], "(machine)"))
    print("load average at the end: %s" % open("/proc/loadavg").read().split()[0])
    ok = (max(mem_idle["VmRSS"], mem_load["VmRSS"]) < GOAL_RSS_MB and idle["0.99"] < GOAL_LAG_MS and
          loaded["0.99"] < GOAL_LAG_MS)
    print()
    print("goals %s" % ("met" if ok else "NOT met"))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
