#!/usr/bin/env python3
"""The node's metrics against Prometheus itself (Debian's prometheus and promtool), on loopback.

  prometheus_e2e.py --case metrics_doc|grafana_rules|scrape --node BIN --worker BIN
                    --models DIR --source DIR

metrics_doc: `promtool check metrics` finds nothing to say about the node's exposition; every
family it exports is in docs/api.md's table with the same type and the reverse; names follow
the conventions (the spec's two ttm_ names, aether_ for the rest, _total for counters).
grafana_rules: every query of deploy/grafana/aether.json passes `promtool check rules` (wrapped
into recording rules, Grafana's variables replaced) and the dashboard has the node dashboard's
panels. scrape: a real Prometheus scrapes the node and its demo workers every second; the spec's
PromQL examples and every Grafana query return series through Prometheus' HTTP API."""
import argparse
import json
import math
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e_workload"))

from e2e_lib import (CREATED_DIRS, Failure, Node, check, free_port,  # noqa: E402
                     insert_minutes, minute_now, steady_history, run_case)
from workload_e2e import WorkloadNode, port_block  # noqa: E402

ARGS = None
SPEC_NAMES = {"ttm_predictions_count_total", "ttm_recommendations_total"}
TTM = {"enabled": True, "forecaster": "model", "input_window_minutes": 8,
       "prediction_horizon": 2, "evaluation_interval_ms": 10000, "confidence_threshold": 0.7}
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"


def scratch(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    CREATED_DIRS.append(d)
    return d


def forecasting_node(model, blueprints, node_class=Node, cpu=0.6, mode="active"):
    """A node with TTM on and 8 minutes of history per blueprint (6000 requests a minute on one
    instance at `cpu`); started, forecasting."""
    n = node_class(ARGS.node, sections={"ttm": dict(TTM, model_path=os.path.join(ARGS.models, model),
                                                    mode=mode),
                                  "controller": {"cpu_scale_up_threshold": 1.0,
                                                 "cpu_scale_down_threshold": 0.0}},
             blueprints=blueprints)
    n.start()
    check(n.stop() == 0, "node exits 0 on SIGTERM")
    for bp in blueprints:
        insert_minutes(n.db(), bp["name"], steady_history(8, minute_now() - 60000, cpu=cpu))
    n.start()
    n.wait_for(lambda: all(b["hasForecast"] for b in n.status()["blueprints"]), 25,
               "a forecast for every blueprint")
    return n


def exported_families(text):
    """{name: type} from the # TYPE lines of an exposition."""
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


def documented_families():
    """{name: type} from the table under "## GET /metrics" in docs/api.md."""
    with open(os.path.join(ARGS.source, "docs", "api.md")) as f:
        doc = f.read()
    section = doc.split("## GET /metrics", 1)[1]
    out = {}
    for line in section.splitlines():
        m = re.match(r"^\| `([a-z_:]+)` \| (\w+) \|", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def case_metrics_doc():
    n = forecasting_node("rising.onnx", [{"name": "web"}, {"name": "api"}])
    try:
        code, _, body = n.get("/metrics")
        check(code == 200, "/metrics: %d" % code)
        text = body.decode()
    finally:
        n.stop()
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
          "promtool check metrics: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    exported, documented = exported_families(text), documented_families()
    check(len(exported) >= 20, "exposition has its families: %s" % sorted(exported))
    check(set(exported) - set(documented) == set(),
          "exported but not in docs/api.md: %s" % sorted(set(exported) - set(documented)))
    check(set(documented) - set(exported) == set(),
          "in docs/api.md but not exported: %s" % sorted(set(documented) - set(exported)))
    wrong = {k: (exported[k], documented[k]) for k in exported if exported[k] != documented[k]}
    check(not wrong, "types differ (exported, documented): %s" % wrong)
    for name, kind in exported.items():
        check(name in SPEC_NAMES or name.startswith("aether_"),
              "%s: only the spec's names go without the aether_ prefix" % name)
        check((kind == "counter") == name.endswith("_total"),
              "%s (%s): counters and only counters end in _total" % (name, kind))
    print("families:", len(exported))


def grafana_exprs():
    """[(panel title, expr)] of deploy/grafana/aether.json, variables replaced."""
    with open(os.path.join(ARGS.source, "deploy", "grafana", "aether.json")) as f:
        dash = json.load(f)
    out = []
    for p in dash["panels"]:
        check(p.get("targets"), "panel %r has queries" % p.get("title"))
        for t in p["targets"]:
            e = t["expr"]
            e = e.replace("$__rate_interval", "1m").replace("$__interval", "15s")
            e = re.sub(r"\$\{?blueprint\}?", ".*", e)
            check("$" not in e, "panel %r: unknown variable in %r" % (p["title"], t["expr"]))
            out.append((p["title"], e))
    return dash, out


def case_grafana_rules():
    dash, exprs = grafana_exprs()
    titles = " | ".join(p["title"] for p in dash["panels"])
    for needle in ("Invocations per minute", "Instances", "CPU usage", "Latency p95",
                   "Error rate", "Decisions", "TTM state", "Confidence"):
        check(needle in titles, "the Grafana dashboard has a %r panel: %s" % (needle, titles))
    all_exprs = [e for _, e in exprs]
    check("rate(ttm_predictions_count_total[5m])" in " ".join(all_exprs),
          "the spec's prediction rate is a panel")
    check(any("ttm_recommendations_total{type=\"scale_up\"}[1h]" in e for e in all_exprs),
          "the spec's scale-up ratio is a panel")
    d = scratch("aether-grafana-")
    rules = os.path.join(d, "grafana-rules.yml")
    with open(rules, "w") as f:
        f.write("groups:\n  - name: grafana-aether\n    rules:\n")
        for i, (title, e) in enumerate(exprs):
            f.write("      - record: grafana:query_%d\n        expr: %s\n" % (i, json.dumps(e)))
    r = subprocess.run([PROMTOOL, "check", "rules", rules], capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 0, "promtool check rules: exit %d\n%s%s"
          % (r.returncode, r.stdout, r.stderr))
    check("SUCCESS: %d rules found" % len(exprs) in r.stdout, "promtool: %s" % r.stdout)
    print("queries checked:", len(exprs))


class Prometheus:
    """Debian's prometheus on loopback scraping `targets` ({job: [host:port]}) every second,
    storing into `data` (a TSDB directory, e.g. made by promtool) or a fresh one."""

    def __init__(self, targets, data=None, tls=None):
        """tls: (certificate, key) PEM files: Prometheus serves https:// with them."""
        self.dir = scratch("aether-prometheus-")
        self.data = data or os.path.join(self.dir, "data")
        self.port = free_port()
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        self.ssl = ssl.create_default_context(cafile=tls[0]) if tls else None
        web = []
        if tls:
            web_cfg = os.path.join(self.dir, "web.yml")
            with open(web_cfg, "w") as f:
                f.write("tls_server_config:\n  cert_file: %s\n  key_file: %s\n" % tls)
            web = ["--web.config.file=" + web_cfg]
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:%s\n" % ("" if targets else " []"))
            for job, addrs in targets.items():
                f.write("  - job_name: %s\n    static_configs:\n      - targets: [%s]\n"
                        % (job, ", ".join('"%s"' % a for a in addrs)))
        self.log = open(os.path.join(self.dir, "prometheus.log"), "ab")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + cfg, "--storage.tsdb.path=" + self.data,
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"] + web,
            stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_for(lambda: self.get("/-/ready", raw=True), 30, "prometheus to be ready")

    def get(self, path, raw=False):
        try:
            with urllib.request.urlopen(self.url + path, timeout=5, context=self.ssl) as r:
                body = r.read()
                return body if raw else json.loads(body)
        except OSError:
            return None

    def query(self, expr):
        doc = self.get("/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
        check(doc is not None and doc.get("status") == "success",
              "query %s: %s" % (expr, doc))
        return doc["data"]["result"]

    def wait_for(self, fn, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise Failure("prometheus exited %s: %s" % (self.proc.returncode, self.log_tail()))
            v = fn()
            if v:
                return v
            time.sleep(0.5)
        raise Failure("timed out after %ss waiting for %s" % (timeout, what))

    def log_tail(self):
        with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
            return f.read()[-2000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def case_scrape():
    base = port_block(3)
    bp = {"name": "web", "actuator": "process", "min_instances": 1, "max_instances": 3,
          "command": [ARGS.worker, "--port", "{port}", "--work-us", "100"], "port_base": base,
          "metrics_path": "/metrics", "startup_timeout_ms": 10000, "stop_grace_ms": 2000}
    n = prom = pusher = None
    stop = threading.Event()

    def push_load():  # keeps the live minutes like the history: the forecast keeps rising
        while not stop.wait(0.5):
            try:
                n.post("/api/metrics/web", {"values": {"cpu_usage": 0.6, "invocations": 100.0}})
            except OSError:
                pass
    try:
        # rising.onnx forecasts twice the last minute: 1.2 cores where one instance runs 0.6,
        # scale-up advice at every evaluation (forecast-only: the fleet stays at one worker),
        # so the ratio is > 0 once a second evaluation is scraped.
        n = forecasting_node("rising.onnx", [bp], WorkloadNode, mode="forecast-only")
        pusher = threading.Thread(target=push_load, daemon=True)
        pusher.start()
        prom = Prometheus({"aether-node": ["127.0.0.1:%d" % n.port],
                           "aether-worker": ["127.0.0.1:%d" % p for p in range(base, base + 3)]})
        prom.wait_for(lambda: prom.query('up{job="aether-node"} == 1'), 30, "the node scraped")
        prom.wait_for(lambda: prom.query('up{job="aether-worker"} == 1'), 30,
                      "the demo worker scraped")
        # The spec's examples (a second evaluation follows 10 s after the first).
        rate = prom.wait_for(
            lambda: [s for s in prom.query("rate(ttm_predictions_count_total[5m])")
                     if float(s["value"][1]) > 0], 40, "rate(ttm_predictions_count_total[5m]) > 0")
        print("rate(ttm_predictions_count_total[5m]) =", rate[0]["value"][1])
        # The spec's scale-up ratio as written divides series with different label sets (the
        # numerator has `type`), so PromQL's one-to-one matching pairs nothing: it is empty.
        # With the labels matched (ignoring(type), as docs/api.md gives it) it is the ratio.
        spec_ratio = ('rate(ttm_recommendations_total{type="scale_up"}[1h]) / '
                      'rate(ttm_predictions_count_total[1h])')
        check(prom.query(spec_ratio) == [], "the spec's literal ratio matches no series")
        fixed = spec_ratio.replace(" / ", " / ignoring(type) ")
        ratio = prom.wait_for(lambda: prom.query(fixed), 10, fixed)
        check(len(ratio) == 1, "scale-up ratio: one series: %s" % ratio)
        v = float(ratio[0]["value"][1])
        check(math.isfinite(v) and 0 < v <= 1, "scale-up ratio in (0, 1]: %s; decisions: %s"
              % (v, n.get_json("/api/decisions?limit=8")))
        print(fixed, "=", v)
        # Every Grafana query has data now.
        _, exprs = grafana_exprs()
        empty = [(t, e) for t, e in exprs if not prom.query(e)]
        check(not empty, "Grafana queries without data: %s" % empty)
        print("grafana queries with data:", len(exprs))
    finally:
        stop.set()
        if pusher:
            pusher.join()
        if prom:
            prom.stop()
        if n:
            n.stop()


def main(cases=None):
    """Runs the case named by --case: one of this script's, or of `cases` (another script's
    globals(), whose ARGS is then set too: the Prometheus scripts share their options)."""
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--case", required=True)
    p.add_argument("--node")
    p.add_argument("--worker")
    p.add_argument("--models")
    p.add_argument("--source", required=True)
    ARGS = p.parse_args()
    if cases is not None:
        cases["ARGS"] = ARGS
    return run_case(ARGS.case, globals() if cases is None else cases)


if __name__ == "__main__":
    sys.exit(main())
