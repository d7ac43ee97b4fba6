"""Helpers for the node's end-to-end tests: a real aether-node process on a free loopback port,
with its own data directory and config, spoken to over HTTP. Python standard library only."""
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

FEATURES = ["cpu_usage", "heap_usage", "event_loop_lag_ms", "latency_ms", "invocations",
            "gc_pause_ms", "latency_p50", "latency_p95", "latency_p99", "error_rate",
            "event_count"]
# A closed minute as the node stores it: the columns every history schema since v1 has (later
# columns, such as v3's backfilled, keep their defaults).
MINUTE_INSERT = ("INSERT OR REPLACE INTO minutes (blueprint, ts, %s, %s, samples, ready, requested,"
                 " estimated) VALUES (?,?,%s,%s,?,?,?,?)"
                 % (",".join("v%d" % i for i in range(11)), ",".join("c%d" % i for i in range(11)),
                    ",".join("?" * 11), ",".join("?" * 11)))


class Failure(Exception):
    pass


CREATED_DIRS = []  # scratch directories of this run (removed by cleanup() after a pass)


def cleanup():
    """Removes this run's scratch directories (keep them on failure: they hold the logs)."""
    for d in CREATED_DIRS:
        shutil.rmtree(d, ignore_errors=True)


def run_case(name, cases):
    """Runs the function case_<name> of cases (a script's globals()): prints PASS or FAIL with
    the time taken, and removes the run's scratch directories after a pass. Returns the exit
    status: 0 pass, 1 fail, 2 unknown case."""
    fn = cases.get("case_" + name)
    if not fn:
        print("unknown case", name)
        return 2
    t0 = time.time()
    try:
        fn()
    except Failure as e:
        print("FAIL %s: %s" % (name, e))
        return 1
    print("PASS %s (%.1f s)" % (name, time.time() - t0))
    cleanup()
    return 0


def parse_case_args(*required):
    """The arguments of a case script: --case and each of `required` (option names without the
    dashes), all required."""
    import argparse
    p = argparse.ArgumentParser()
    for name in ("case",) + required:
        p.add_argument("--" + name, required=True)
    return p.parse_args()


def check(cond, what):
    if not cond:
        raise Failure(what)


def ephemeral_low():
    """The first port of the kernel's ephemeral range (32768 when it cannot be read): ports from
    there on go to other processes' outgoing connections, which could take a port between the
    moment it is found free and the moment a test's server binds it."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_block(count):
    """A base port with count loopback ports free from it, below the ephemeral range."""
    top = ephemeral_low() - count
    if top <= 10000:
        top = 65535 - count
    for _ in range(500):
        base = random.randint(10000, top)
        try:
            for p in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
    raise Failure("no %d free consecutive ports" % count)


def free_port():
    return port_block(1)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v)


def table_lines(name, keys):
    """The TOML lines of a table's keys, then of its sub-tables ([name.key] for a dict value),
    then an empty line."""
    lines = ["%s = %s" % (k, toml_value(v)) for k, v in keys.items() if not isinstance(v, dict)]
    lines.append("")
    for k, v in keys.items():
        if isinstance(v, dict):
            lines.append("[%s.%s]" % (name, k))
            lines += table_lines("%s.%s" % (name, k), v)
    return lines
NODE_TOKEN = object()  # Node.post's default: the node's own token


class Node:
    """One daemon under test. sections: {"ttm": {...}, ...}; blueprints: list of dicts."""

    def __init__(self, binary, sections=None, blueprints=None, workdir=None, env=None):
        self.binary = binary
        self.dir = workdir or tempfile.mkdtemp(prefix="aether-e2e-")
        if not workdir:
            CREATED_DIRS.append(self.dir)
        self.port = free_port()
        self.sections = {
            "node": {"data_dir": os.path.join(self.dir, "data"),
                     "extensions_dir": os.path.join(self.dir, "extensions"),
                     "log_level": "debug"},
            "api": {"bind": "127.0.0.1:%d" % self.port},
            "controller": {"warm_up_period_ms": 0, "slice_cooldown_ms": 2000},
            "ttm": {"enabled": False},
        }
        for k, v in (sections or {}).items():
            self.sections.setdefault(k, {}).update(v)
        self.blueprints = blueprints or [{"name": "web"}]
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.proc = None
        self.log_path = os.path.join(self.dir, "node.log")
        self.faults = os.path.join(self.dir, "faults")
        self.env["AETHER_FAULTS_FILE"] = self.faults

    def write_config(self):
        lines = []
        for name, keys in self.sections.items():
            lines.append("[%s]" % name)
            lines += ["%s = %s" % (k, toml_value(v)) for k, v in keys.items()]
            lines.append("")
        for bp in self.blueprints:
            b = {"actuator": "exec", "min_instances": 1, "max_instances": 4,
                 "scale_command": ["/bin/sh", "-c", "exit 0"]}
            b.update(bp)
            lines.append("[[blueprint]]")
            lines += table_lines("blueprint", b)
        self.config = os.path.join(self.dir, "aether.toml")
        with open(self.config, "w") as f:
            f.write("\n".join(lines))

    def start(self, wait=True):
        self.write_config()
        self.log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "--config", self.config], stdout=log,
                                     stderr=subprocess.STDOUT, env=self.env, cwd=self.dir)
        log.close()
        if wait:
            self.wait_for(lambda: self.try_get("/api/ttm/status") is not None, 10,
                          "the node to answer on port %d" % self.port)
        return self

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure("node did not stop within %d s after signal %d" % (timeout, sig))
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        if sig == signal.SIGKILL:
            self.remove_cgroups()
        if sig in (signal.SIGTERM, signal.SIGINT) and rc not in (0, None):
            # A clean shutdown exits 0; anything else (a sanitizer report, a crash) fails.
            raise Failure("node exited %s after signal %d; log tail:\n%s"
                          % (rc, sig, self.log()[-4000:]))
        return rc

    def remove_cgroups(self, timeout=10):
        """Removes the cgroups a node that was killed left behind (the next start on its data_dir
        would do it), once its instances are gone. Unmovable leftovers are a failure."""
        dirs = set(re.findall(r"instances are stopped with cgroup v2 at (\S+)", self.log()))
        for top in dirs:
            end = time.time() + timeout
            while os.path.isdir(top):
                for sub in [os.path.join(top, e) for e in os.listdir(top)]:
                    if os.path.isdir(sub):
                        try:
                            os.rmdir(sub)
                        except OSError:
                            pass
                try:
                    os.rmdir(top)
                except OSError:
                    if time.time() > end:
                        raise Failure("cgroup %s still holds processes" % top)
                    time.sleep(0.1)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout=10):
        rx = re.compile(pattern)
        self.wait_for(lambda: rx.search(self.log()), timeout, "log line /%s/" % pattern)

    def wait_for(self, fn, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            v = fn()
            if v:
                return v
            if self.proc and self.proc.poll() is not None:
                raise Failure("node exited (%s) while waiting for %s; log:\n%s"
                              % (self.proc.returncode, what, self.log()[-4000:]))
            time.sleep(0.2)
        raise Failure("timed out after %ss waiting for %s; log tail:\n%s"
                      % (timeout, what, self.log()[-3000:]))

    def request(self, method, path, body=None, headers=None, timeout=10):
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get(self, path):
        return self.request("GET", path)

    def get_json(self, path, status=200):
        code, _, body = self.get(path)
        check(code == status, "GET %s: status %d, expected %d: %s" % (path, code, status, body))
        return json.loads(body)

    def try_get(self, path):
        try:
            code, _, body = self.get(path)
            return body if code == 200 else None
        except (OSError, urllib.error.URLError):
            return None

    def token(self):
        """The API token: the configured one, else the one the node generated into data_dir."""
        configured = self.sections.get("api", {}).get("token")
        if configured is not None:
            return configured
        with open(os.path.join(self.sections["node"]["data_dir"], "api-token")) as f:
            return f.read().strip()

    def post(self, path, obj=None, token=NODE_TOKEN, raw=None):
        """POST with the node's token by default; token="" sends none, a string sends that."""
        headers = {"Content-Type": "application/json"}
        if token is NODE_TOKEN:
            token = self.token()
        if token:
            headers["Authorization"] = "Bearer " + token
        body = raw if raw is not None else (json.dumps(obj) if obj is not None else "")
        code, _, resp = self.request("POST", path, body, headers)
        try:
            return code, json.loads(resp) if resp else None
        except ValueError:
            raise Failure("POST %s: answer is not JSON: %r" % (path, resp))

    def status(self):
        return self.get_json("/api/ttm/status")

    def reload_model(self, timeout=20):
        """POST /api/ttm/reload: answers 202 at once; waits for the load to end and returns the
        outcome from /api/ttm/status, {"state": "ok"|"failed", "error": ...}."""
        code, body = self.post("/api/ttm/reload")
        check(code == 202 and body["reloading"] is True, "reload answers 202: %d %s" % (code, body))
        return self.wait_for(lambda: (lambda r: r if r["state"] != "running" else None)(
            self.status()["reload"]), timeout, "the reload to end")

    def metrics(self):
        code, headers, body = self.get("/metrics")
        check(code == 200, "/metrics status %d" % code)
        check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
              "/metrics content type %r" % headers.get("Content-Type"))
        return parse_metrics(body.decode())

    def db(self):
        return os.path.join(self.sections["node"]["data_dir"], "aether.db")


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value} of a Prometheus text 0.0.4 page; checks that
    every sample line has the expected shape."""
    out = {}
    rx = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    lrx = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = rx.match(line)
        check(m is not None, "bad metrics line: %r" % line)
        labels = dict(lrx.findall(m.group(3) or ""))
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return out


def metric(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())))


def minute_now():
    return int(time.time() // 60) * 60000


def insert_minutes(db_path, blueprint, rows):
    """rows: list of (start_ms, {feature: value}, ready_mean). Writes closed minutes the way the
    node stores them (see docs/operations.md)."""
    con = sqlite3.connect(db_path)
    for start, values, ready in rows:
        vals = [values.get(f) for f in FEATURES]
        counts = [60 if v is not None else 0 for v in vals]
        con.execute(MINUTE_INSERT, [blueprint, start] + vals + counts + [60, ready, ready, 0])
    con.commit()
    con.close()


def steady_history(minutes, end_start_ms, cpu=0.4, invocations=6000.0, ready=1.0):
    """`minutes` closed minutes ending with the one starting at end_start_ms."""
    rows = []
    for i in range(minutes):
        start = end_start_ms - (minutes - 1 - i) * 60000
        rows.append((start, {"cpu_usage": cpu, "heap_usage": 0.3, "latency_ms": 12.0,
                             "invocations": invocations, "gc_pause_ms": 0.0,
                             "latency_p50": 10.0, "latency_p95": 20.0, "latency_p99": 30.0,
                             "error_rate": 0.0, "event_count": invocations,
                             "event_loop_lag_ms": 0.5}, ready))
    return rows
