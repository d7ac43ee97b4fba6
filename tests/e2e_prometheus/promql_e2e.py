#!/usr/bin/env python3
"""The node reading its metrics from a real Prometheus (Debian's prometheus and promtool), and
answering KEDA, on loopback.

  promql_e2e.py --case CASE --node BIN --worker BIN --models DIR --source DIR

same_load: Prometheus scrapes the aether-worker instances the node supervises for blueprint
  `web`; blueprint `mirror` reads the same workers through PromQL ([blueprint.prometheus]). Both
  see the same load: their closed minutes' invocations agree within 15 % (PromQL's rate over
  [1m] trails the scrape by up to a minute, so only a minute that starts a minute after the load
  is steady is compared). Then Prometheus is stopped: mirror says why ("cannot connect"), web is
  untouched.
bad_prometheus: a loopback server answering the query API with errors, garbage and too slowly,
  then gone: each time /api/blueprints names the reason, and the reactive tier still scales the
  blueprint up on pushed CPU.
backfill: an hour of history made with `promtool tsdb create-blocks-from openmetrics`, served by
  Prometheus; a node started after it backfills the store (minutes marked backfilled = 1, the
  rate read back) and forecasts in its first TTM evaluation.
https: Prometheus serving https:// (--web.config.file) with a self-signed certificate made by
  the test: read with ca_file, refused without it (verification on by default).
keda: /api/keda/{blueprint} answers the documented JSON, the valueLocation of the ScaledObject
  in docs/kubernetes.md finds the node's desired count in it, and with a forecast in force the
  floor it reads is the one in /api/blueprints."""
import http.server
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e_workload"))

import prometheus_e2e  # noqa: E402
from e2e_lib import Failure, Node, check, minute_now  # noqa: E402
from prometheus_e2e import Prometheus, forecasting_node, scratch  # noqa: E402
from workload_e2e import WorkloadNode, port_block  # noqa: E402

ARGS = None
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
INVOCATIONS = 4  # column v4 of the minutes table (FeatureIndex)
TOLERANCE = 0.15


def blueprint_error(node, name):
    for b in node.get_json("/api/blueprints"):
        if b["name"] == name:
            return b.get("error") or ""
    raise Failure("no blueprint %s in /api/blueprints" % name)


def minute_invocations(node, name, since_ms):
    """{minute start: invocations} of the closed minutes of `name` from since_ms on."""
    con = sqlite3.connect(node.db())
    try:
        rows = con.execute("SELECT ts, v%d FROM minutes WHERE blueprint = ? AND ts >= ?"
                           % INVOCATIONS, (name, since_ms)).fetchall()
    finally:
        con.close()
    return {ts: v for ts, v in rows if v is not None}


class Load:
    """Requests to each URL from a thread of its own, one every `gap` seconds."""

    def __init__(self, urls, gap=0.02):
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(u, gap), daemon=True)
                        for u in urls]
        for t in self.threads:
            t.start()

    def run(self, url, gap):
        while not self.stop_ev.wait(gap):
            try:
                urllib.request.urlopen(url, timeout=2).read()
            except OSError:
                pass

    def stop(self):
        self.stop_ev.set()
        for t in self.threads:
            t.join()


def case_same_load():
    base = port_block(2)
    prom = Prometheus({"aether-worker": ["127.0.0.1:%d" % p for p in (base, base + 1)]})
    web = {"name": "web", "actuator": "process", "min_instances": 2, "max_instances": 2,
           "command": [ARGS.worker, "--port", "{port}", "--work-us", "100"], "port_base": base,
           "startup_timeout_ms": 10000, "stop_grace_ms": 2000}
    mirror = {"name": "mirror", "min_instances": 2, "max_instances": 2,
              "prometheus": {"url": prom.url, "selector": 'job="aether-worker"',
                             "query_timeout_ms": 1000, "backfill_minutes": 0}}
    n = WorkloadNode(ARGS.node, blueprints=[web, mirror])
    load = None
    try:
        n.start()
        n.wait_for(lambda: [b for b in n.get_json("/api/blueprints")
                            if b["name"] == "web" and b["ready"] == 2], 20, "two workers ready")
        load = Load(["http://127.0.0.1:%d/work" % p for p in (base, base + 1)])
        n.wait_for(lambda: "invocations" not in blueprint_error(n, "mirror"), 30,
                   "the invocations query answered")
        print("mirror after the first answers:", blueprint_error(n, "mirror") or "no error")
        steady = minute_now() + 120000  # starts at least a minute after the load began
        n.wait_for(lambda: steady in minute_invocations(n, "mirror", steady) and
                   steady in minute_invocations(n, "web", steady), 200,
                   "the minute at %d closed for both blueprints" % steady)
        a = minute_invocations(n, "web", steady)[steady]
        b = minute_invocations(n, "mirror", steady)[steady]
        print("invocations in minute %d: scraped %.0f, through PromQL %.0f (%.1f %%)"
              % (steady, a, b, 100.0 * (b - a) / a))
        check(a > 1000, "the scraped minute saw the load: %s" % a)
        check(abs(b - a) <= TOLERANCE * a, "PromQL and scrape agree within %d %%: %.0f vs %.0f"
              % (TOLERANCE * 100, b, a))
        prom.stop()
        n.wait_for(lambda: "cannot connect" in blueprint_error(n, "mirror"), 10,
                   "mirror names the refused Prometheus")
        err = blueprint_error(n, "mirror")
        check(prom.url in err, "the reason names the URL: %s" % err)
        check(not blueprint_error(n, "web"), "web is untouched: %s" % blueprint_error(n, "web"))
        print("Prometheus down:", err)
    finally:
        if load:
            load.stop()
        prom.stop()
        n.stop()


class BadPrometheus(http.server.ThreadingHTTPServer):
    """Answers every query API request the way `mode` says: error, garbage or slow."""
    daemon_threads = True
    request_queue_size = 64  # the node opens one connection per query at once
    mode = "error"


class BadHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        mode = self.server.mode
        if mode == "slow":
            time.sleep(3)
        if mode == "error":
            body, status = json.dumps({"status": "error", "errorType": "execution",
                                       "error": "query timed out in expression evaluation"}), 503
        elif mode == "garbage":
            body, status = "<html><body>502 Bad Gateway</body></html>", 200
        else:
            body, status = json.dumps({"status": "success", "data": {
                "resultType": "vector", "result": [{"metric": {}, "value": [1, "5"]}]}}), 200
        data = body.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the node gave up waiting (slow)

    def log_message(self, *args):
        pass


def case_bad_prometheus():
    srv = BadPrometheus(("127.0.0.1", 0), BadHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    bp = {"name": "api", "min_instances": 1, "max_instances": 4,
          "prometheus": {"url": url, "query_timeout_ms": 1000, "backfill_minutes": 30}}
    n = Node(ARGS.node, sections={"controller": {"cpu_scale_up_threshold": 0.7}},
             blueprints=[bp])
    stop = threading.Event()
    try:
        n.start()  # the backfill met errors: logged, the node starts cold
        n.wait_log(r"blueprint api: no backfill from Prometheus .*Prometheus error \(execution\)")
        expected = [("error", "Prometheus error (execution): query timed out"),
                    ("garbage", "not JSON"),
                    ("slow", "timed out after 1000 ms")]
        for mode, want in expected:
            srv.mode = mode
            others = [w for m, w in expected if m != mode]
            n.wait_for(lambda: (lambda e: want in e and not any(o in e for o in others))(
                blueprint_error(n, "api")), 15, "the reason %r alone" % want)
            err = blueprint_error(n, "api")
            check(url in err and "invocations" in err, "the reason names the URL and the "
                  "features: %s" % err)
            print("%s: %s" % (mode, err))
        srv.shutdown()
        srv.server_close()
        n.wait_for(lambda: "cannot connect" in blueprint_error(n, "api"), 15,
                   "the reason for a server that is gone")

        def push_cpu():
            while not stop.wait(0.3):
                try:
                    n.post("/api/metrics/api", {"values": {"cpu_usage": 0.95}})
                except OSError:
                    pass
        threading.Thread(target=push_cpu, daemon=True).start()
        n.wait_for(lambda: [b for b in n.get_json("/api/blueprints")
                            if b["name"] == "api" and b["requested"] > 1], 20,
                   "the reactive tier scaling up on pushed CPU with Prometheus gone")
        print("reactive scale-up with Prometheus gone:",
              n.get_json("/api/decisions?blueprint=api&limit=1")[0]["reason"])
    finally:
        stop.set()
        n.stop()


def openmetrics_hour(path, end_s, minutes=70, rate=100.0, cpu_rate=0.3):
    """An OpenMetrics file of `minutes` minutes up to end_s, a sample every 15 s: a request
    counter at `rate` per second, CPU seconds at `cpu_rate` per second, a steady RSS."""
    lines = ["# TYPE http_requests counter", "# TYPE process_cpu_seconds counter",
             "# TYPE process_resident_memory_bytes gauge"]
    start = end_s - minutes * 60
    samples = range(0, minutes * 60 + 1, 15)
    lab = '{job="aether-worker",instance="w1"}'
    lines += ["http_requests_total%s %.1f %d" % (lab, rate * t, start + t) for t in samples]
    lines += ["process_cpu_seconds_total%s %.2f %d" % (lab, cpu_rate * t, start + t)
              for t in samples]
    lines += ["process_resident_memory_bytes%s 50000000 %d" % (lab, start + t) for t in samples]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n# EOF\n")


def case_backfill():
    d = scratch("aether-backfill-")
    om = os.path.join(d, "hour.om")
    end_s = int(time.time()) - 1
    openmetrics_hour(om, end_s)
    data = os.path.join(d, "tsdb")
    r = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", om, data],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "promtool create-blocks: exit %d\n%s%s"
          % (r.returncode, r.stdout, r.stderr))
    prom = Prometheus({}, data=data)
    prom.wait_for(lambda: prom.query('http_requests_total{job="aether-worker"}[5m]'), 30,
                  "the hour of history loaded")
    bp = {"name": "api", "min_instances": 1, "max_instances": 4, "cpu_limit_cores": 1.0,
          "memory_limit_bytes": 100000000,
          "prometheus": {"url": prom.url, "selector": 'job="aether-worker"',
                         "backfill_minutes": 60}}
    ttm = {"enabled": True, "forecaster": "model", "input_window_minutes": 8,
           "prediction_horizon": 2, "evaluation_interval_ms": 10000,
           "model_path": os.path.join(ARGS.models, "good.onnx")}
    n = Node(ARGS.node, sections={"ttm": ttm}, blueprints=[bp])
    try:
        n.start()
        n.wait_log(r"blueprint api: backfilled \d+ minutes from Prometheus")
        n.wait_for(lambda: n.status()["lastEvaluation"], 30, "the first TTM evaluation")
        # The loop never waits for inference: the first evaluation's result is taken at the
        # next tick (1 s), with no new window of history.
        first = n.wait_for(lambda: (lambda s: s if s["hasForecast"] else None)(n.status()),
                           5, "the first evaluation's forecast")
        entry = [b for b in first["blueprints"] if b["name"] == "api"][0]
        check(entry["hasForecast"] and entry["state"] == "FORECASTING",
              "forecast in the first evaluation: %s" % entry)
        pred = first["lastForecast"]["predictions"][0]["invocations"]
        print("first evaluation at %d: forecast invocations %.0f per minute"
              % (first["lastEvaluation"], pred))
        check(abs(pred - 6000) <= 0.05 * 6000, "the forecast follows the backfilled rate "
              "(100/s = 6000/min): %s" % pred)
        con = sqlite3.connect(n.db())
        rows = con.execute("SELECT ts, v0, v1, v4, backfilled FROM minutes WHERE blueprint = "
                           "'api' ORDER BY ts").fetchall()
        con.close()
        filled = [r for r in rows if r[4] == 1]
        check(len(filled) >= 50, "at least 50 of the 60 minutes backfilled: %d" % len(filled))
        last = filled[-1]
        check(abs(last[3] - 6000) < 60 and abs(last[1] - 0.3) < 0.01 and
              abs(last[2] - 0.5) < 0.01,
              "a backfilled minute: invocations 6000, cpu 0.3, heap 0.5: %s" % (last,))
        print("backfilled minutes: %d, newest %s" % (len(filled), last))
    finally:
        n.stop()
        prom.stop()


def case_https():
    d = scratch("aether-https-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "openssl req: %s" % r.stderr)
    prom = Prometheus({}, tls=(cert, key))
    check(prom.url.startswith("https://"), "Prometheus serves https")
    queries = {"cpu_usage": "vector(0.42)", "invocations": "vector(7)"}
    trusted = {"name": "trusted", "prometheus": {"url": prom.url, "ca_file": cert,
                                                 "backfill_minutes": 0, "queries": queries}}
    unknown = {"name": "unknown", "prometheus": {"url": prom.url, "backfill_minutes": 0,
                                                 "queries": queries}}
    n = Node(ARGS.node, blueprints=[trusted, unknown])
    try:
        n.start()

        def cpu_of(name):
            return [b["cpuUsage"] for b in n.get_json("/api/blueprints") if b["name"] == name][0]
        n.wait_for(lambda: cpu_of("trusted") == 0.42, 15,
                   "cpu_usage 0.42 read over https with ca_file")
        n.wait_for(lambda: "not trusted" in blueprint_error(n, "unknown"), 15,
                   "the self-signed certificate refused without ca_file")
        err = blueprint_error(n, "unknown")
        check("certificate of 127.0.0.1 not trusted" in err and cpu_of("unknown") is None,
              "verification is on by default: %s" % err)
        print("trusted: cpuUsage %s; unknown: %s" % (cpu_of("trusted"), err))
    finally:
        n.stop()
        prom.stop()


def value_at(doc, path):
    """A GJSON path of dot-separated keys (the form the docs use) into doc."""
    for key in path.split("."):
        check(isinstance(doc, dict) and key in doc, "valueLocation %s: no %r in %s"
              % (path, key, doc))
        doc = doc[key]
    return doc


def case_keda():
    with open(os.path.join(ARGS.source, "docs", "kubernetes.md")) as f:
        doc = f.read()
    locations = re.findall(r'valueLocation: "([^"]+)"', doc)
    urls = re.findall(r'url: "(http://[^"]+/api/keda/[a-z0-9-]+)"', doc)
    check(locations and urls, "docs/kubernetes.md has a metrics-api trigger on /api/keda")
    n = Node(ARGS.node, blueprints=[{"name": "api", "min_instances": 3, "max_instances": 9}])
    try:
        n.start()
        got = n.wait_for(lambda: (lambda d: d if d["desiredInstances"] == 3 else None)(
            n.get_json("/api/keda/api")), 10, "the initial count")
        check(set(got) == {"blueprint", "desiredInstances", "forecastFloor", "forecastCeiling",
                           "readyInstances", "min", "max"}, "the documented keys: %s" % got)
        check(got["forecastFloor"] == 0 and got["min"] == 3 and got["max"] == 9,
              "no forecast yet: floor 0: %s" % got)
        for loc in locations:
            v = value_at(got, loc)
            check(isinstance(v, (int, float)) and not isinstance(v, bool),
                  "valueLocation %s is a number: %r" % (loc, v))
        check(value_at(got, locations[0]) == 3, "the first trigger reads the desired count")
        check(n.get("/api/keda/nope")[0] == 404 and n.get("/api/keda/BAD!")[0] == 400,
              "unknown 404, malformed 400")
        print("KEDA answer:", got, "read at", locations)
    finally:
        n.stop()
    # With a forecast in force (rising.onnx: twice the last minute, a floor above one instance)
    # the floor KEDA reads is the adaptive tree's, and the desired count is held at or above it.
    n = forecasting_node("rising.onnx", [{"name": "web", "max_instances": 8}])
    try:
        rec = n.wait_for(lambda: [b["recommendation"] for b in n.get_json("/api/blueprints")
                                  if b["recommendation"] and b["recommendation"]["floor"]], 30,
                         "a forecast floor in force")[0]
        got = n.get_json("/api/keda/web")
        check(got["forecastFloor"] == rec["floor"] and got["forecastFloor"] > 1,
              "forecastFloor is the floor in force: %s vs %s" % (got, rec))
        check(got["desiredInstances"] >= got["forecastFloor"], "desired >= floor: %s" % got)
        print("KEDA answer with a forecast:", got)
    finally:
        n.stop()


if __name__ == "__main__":
    sys.exit(prometheus_e2e.main(globals()))
