#!/usr/bin/env python3
"""End-to-end tests of aether-node: the real daemon on loopback, its real SQLite history and real
ONNX models (written by make_models.py). One case per run so ctest runs them in parallel:

  node_e2e.py --case NAME --node BIN [--node-noengine BIN --module SO] --models DIR

Faults are switched through the test build's fault-injection file (AETHER_FAULTS_FILE, see
docs/operations.md). TTM evaluates every 10 s, the shortest legal interval; the history is
pre-populated in the node's own database before the node starts."""
import argparse
import csv
import io
import json
import os
import shutil
import signal
import sys
import time
import urllib.parse

from e2e_lib import (FEATURES, NODE_TOKEN, Node, check, insert_minutes, metric,
                     minute_now, steady_history, run_case)

ARGS = None
# The model path (the default, auto, has its own case: forecaster_switch).
TTM = {"enabled": True, "forecaster": "model", "input_window_minutes": 8,
       "prediction_horizon": 2, "evaluation_interval_ms": 10000, "confidence_threshold": 0.7}


# CPU never triggers the reactive tier in these tests (whatever the host's load, which a host
# collector may report): cpu > 1.0 and cpu < 0.0 cannot happen. Reactive decisions are driven by
# pushed invocations against call_rate_scale_up_threshold instead.
NEUTRAL_CPU = {"cpu_scale_up_threshold": 1.0, "cpu_scale_down_threshold": 0.0}
HOT_CALLS = 5000.0  # calls/s, above the default call_rate_scale_up_threshold (2000)


def make_node(binary=None, sections=None, **kw):
    sections = dict(sections or {})
    sections["controller"] = dict(NEUTRAL_CPU, **sections.get("controller", {}))
    return Node(binary or ARGS.node, sections=sections, **kw)


def model(name):
    return os.path.join(ARGS.models, name)


def with_history(node, minutes=8, **kw):
    """Starts and stops the node once (it creates its database), then writes `minutes` closed
    minutes per blueprint ending with the last closed minute."""
    node.start()
    check(node.stop() == 0, "node exits 0 on SIGTERM")
    for bp in node.blueprints:
        insert_minutes(node.db(), bp["name"], steady_history(minutes, minute_now() - 60000, **kw))
    return node


def push(node, bp, values, token=NODE_TOKEN, status=202):
    code, body = node.post("/api/metrics/" + bp, {"values": values}, token=token)
    check(code == status, "push to %s: %d %s (expected %d)" % (bp, code, body, status))
    return body


def reactive_scale_up(node, bp="web"):
    """Pushes a flood of calls until the reactive tier decides to scale up; returns that
    decision."""
    def found():
        push(node, bp, {"cpu_usage": 0.5, "invocations": HOT_CALLS})
        ds = node.get_json("/api/decisions?blueprint=%s&limit=20" % bp)
        ups = [d for d in ds if d["tier"] == "reactive" and d["action"] == "scale_up"]
        return ups[0] if ups else None
    d = node.wait_for(found, 15, "a reactive scale_up decision for %s" % bp)
    check(d["to"] == d["from"] + 1, "reactive step is +1: %s" % d)
    check(d["inputs"].get("calls_per_requested_instance", 0) > 2000,
          "decision inputs carry the call rate: %s" % d)
    check(d["reason"], "decision has a reason: %s" % d)
    check(d["result"], "decision has a result: %s" % d)
    return d


def wait_state(node, state, timeout=25):
    return node.wait_for(lambda: node.status()["state"] == state and node.status(), timeout,
                         "TTM state %s" % state)


def wait_forecast(node, timeout=25):
    return node.wait_for(lambda: (lambda s: s if s["hasForecast"] else None)(node.status()),
                         timeout, "a forecast")


# ---------------------------------------------------------------- cases

def case_api_reactive_only():
    """TTM disabled: status document, blueprints, push validation, token, decisions, metrics,
    training-data rules, errors as JSON."""
    n = make_node(None, sections={"api": {"token": "t0ken"}},
             blueprints=[{"name": "web"}, {"name": "api", "max_instances": 3}]).start()
    try:
        s = n.status()
        for key in ["enabled", "active", "state", "modelPath", "inputWindowMinutes",
                    "evaluationIntervalMs", "confidenceThreshold", "hasForecast", "lastForecast",
                    "mode", "error", "blueprints"]:
            check(key in s, "status has %s: %s" % (key, s))
        check(s["enabled"] is False and s["active"] is False and s["state"] == "STOPPED",
              "disabled TTM: %s" % s)
        check(s["lastForecast"] is None and s["hasForecast"] is False, "no forecast yet")
        check([b["name"] for b in s["blueprints"]] == ["api", "web"], "blueprints by name")
        check(all(b["state"] == "WAITING_FOR_HISTORY" and b["lastForecast"] is None
                  for b in s["blueprints"]), "per-blueprint state from start: %s" % s)
        bps = n.get_json("/api/blueprints")
        check([b["name"] for b in bps] == ["api", "web"], "blueprints listed by name")
        for key in ["name", "actuator", "min", "max", "requested", "starting", "ready",
                    "cpuUsage", "invocationsPerMinute", "lastDecision"]:
            check(key in bps[0], "blueprint has %s: %s" % (key, bps[0]))
        check(bps[0]["max"] == 3 and bps[0]["requested"] == 1, "api blueprint: %s" % bps[0])

        # Token: POST needs it, GET does not.
        code, body = n.post("/api/metrics/web", {"values": {"cpu_usage": 0.5}}, token="")
        check(code == 401 and "error" in body, "push without token: %d %s" % (code, body))
        code, body = n.post("/api/ttm/reload", token="wrong")
        check(code == 401, "reload with a wrong token: %d" % code)
        # Bad pushes: 4xx with {"error"}; the node stays up.
        bad = [('{"values": {"cpu": 1}}', 400, "unknown feature"),
               ('{"values": {"cpu_usage": "x"}}', 400, "must be a number"),
               ('{"values": {}}', 400, "empty"),
               ('not json', 400, "not valid JSON"),
               ('{"values": {"cpu_usage": 0.1}, "timestamp": 1000}', 422, "already folded")]
        for raw, want, needle in bad:
            code, body = n.post("/api/metrics/web", raw=raw, token="t0ken")
            check(code == want and needle in body.get("error", ""),
                  "push %s: %d %s (expected %d, %r)" % (raw, code, body, want, needle))
        code, body = n.post("/api/metrics/nope", {"values": {"cpu_usage": 1}}, token="t0ken")
        check(code == 404 and "nope" in body["error"], "unknown blueprint: %d %s" % (code, body))
        code, body = n.post("/api/metrics/Bad_Name", {"values": {"cpu_usage": 1}}, token="t0ken")
        check(code == 400, "invalid blueprint name: %d" % code)
        code, body = n.post("/api/ttm/reload", token="t0ken")
        check(code == 409 and "disabled" in body["error"], "reload while disabled: %s" % body)
        for path, want in [("/api/nothing", 404), ("/api/decisions?limit=0", 400),
                           ("/api/decisions?limit=abc", 400), ("/api/decisions?blueprint=zz", 404),
                           ("/api/ttm/training-data", 400),
                           ("/api/ttm/training-data?blueprint=web&from=yesterday", 400),
                           ("/api/ttm/training-data?blueprint=web&format=xml", 400),
                           ("/api/ttm/training-data?blueprint=web&from=20&to=10", 400)]:
            code, _, body = n.get(path)
            check(code == want and "error" in json.loads(body),
                  "GET %s: %d %s (expected %d)" % (path, code, body, want))
        code, _, body = n.request("PUT", "/api/ttm/status", "")
        check(code == 405, "PUT status: %d" % code)

        # The reactive tier works alone: a hot CPU pushed every second scales up.
        def hot():
            code, _ = n.post("/api/metrics/web", {"values": {"invocations": HOT_CALLS}},
                             token="t0ken")
            check(code == 202, "push accepted")
            ds = n.get_json("/api/decisions?blueprint=web")
            return [d for d in ds if d["action"] == "scale_up"]
        ups = n.wait_for(hot, 15, "a reactive scale_up")
        d = ups[0]
        check(d["tier"] == "reactive" and d["from"] == 1 and d["to"] == 2, "decision: %s" % d)
        for key in ["timestamp", "blueprint", "tier", "action", "from", "to", "reason", "inputs",
                    "result"]:
            check(key in d, "decision has %s" % key)
        bp = [b for b in n.get_json("/api/blueprints") if b["name"] == "web"][0]
        check(bp["requested"] >= 2 and bp["lastDecision"] is not None, "requested: %s" % bp)

        m = n.metrics()
        check(metric(m, "ttm_predictions_count_total") == 0, "no predictions while disabled")
        for t in ["scale_up", "scale_down", "hold"]:
            check(metric(m, "ttm_recommendations_total", type=t) == 0, "recommendations %s" % t)
        check(metric(m, "aether_ttm_state", state="STOPPED") == 1, "aether_ttm_state STOPPED")
        check(metric(m, "aether_instances", blueprint="web", state="requested") >= 2,
              "instances gauge")
        check(metric(m, "aether_control_loop_lag_seconds", quantile="0.99") is not None,
              "lag summary")
        check(metric(m, "aether_control_loop_lag_seconds_count") >= 1, "lag counted per tick")
        check(metric(m, "aether_decisions_total", blueprint="web", tier="reactive",
                     action="scale_up") >= 1,
              "decision counter")
        check(metric(m, "aether_metric_pushes_total", blueprint="web") >= 1, "push counter")
        check("api" in n.log() and "Loaded TTM model" not in n.log(), "no model loaded")
    finally:
        n.stop()
    check("shutting down" in n.log(), "clean shutdown logged")


def case_model_missing():
    n = make_node(None, sections={"ttm": dict(TTM, model_path="models/absent.onnx")}).start()
    try:
        n.wait_log(r"WARN.*TTM stays disabled: File not found: models/absent.onnx")
        s = n.status()
        check(s["enabled"] is True and s["active"] is False and s["state"] == "STOPPED",
              "missing model: %s" % s)
        check("File not found" in (s["error"] or ""), "status says why: %s" % s["error"])
        reactive_scale_up(n)
    finally:
        n.stop()


def case_auto_without_model():
    """ttm.forecaster = auto with the model file missing: the status says why there is no model,
    and the blueprint still forecasts with the simple forecasters."""
    n = with_history(make_node(None, sections={"ttm": dict(TTM, forecaster="auto",
                                                            model_path="models/absent.onnx")}),
                     minutes=3)
    n.start()
    try:
        first = n.status()  # the first answer, before the first evaluation
        check(first["state"] == "RUNNING", "no STOPPED before the first evaluation: %s" % first)
        n.wait_log(r"WARN.*File not found: models/absent.onnx")
        s = wait_forecast(n)
        check("File not found" in (s["error"] or ""), "status says why: %s" % s["error"])
        b = s["blueprints"][0]
        check(b["state"] == "FORECASTING" and b["forecaster"] == "persistence",
              "forecasting without a model: %s" % b)
        check(s["state"] == "RUNNING", "running: %s" % s["state"])
    finally:
        n.stop()


def case_model_invalid():
    for bad, needle in [("corrupt.onnx", None), ("schema2.onnx", "different feature schema"),
                        ("window16.onnx", "16")]:
        n = make_node(None, sections={"ttm": dict(TTM, model_path=model(bad))}).start()
        try:
            n.wait_log(r"ERROR.*TTM model rejected")
            s = n.status()
            check(s["active"] is False and s["state"] == "STOPPED" and s["error"],
                  "%s: status %s" % (bad, s))
            if needle:
                check(needle in s["error"], "%s: error names it: %s" % (bad, s["error"]))
            check("Loaded TTM model" not in n.log() or "schema" in s["error"] or "16" in s["error"],
                  "%s not reported as loaded" % bad)
            reactive_scale_up(n)
        finally:
            n.stop()


def case_forecast():
    """Model loads (log lines), the window comes from the pre-populated history, the first
    evaluation forecasts; status, metrics and training data show it."""
    n = with_history(make_node(None, sections={"ttm": dict(TTM, model_path=model("good.onnx"))},
                          blueprints=[{"name": "web"}, {"name": "api"}]))
    n.start()
    try:
        n.wait_log(r"Loaded TTM model from .*good\.onnx")
        n.wait_log(r"Warm-up inference complete")
        check(n.log().index("Loaded TTM model") < n.log().index("Warm-up inference complete"),
              "load logged before warm-up")
        s = wait_forecast(n)
        check(s["state"] == "RUNNING" and s["active"] is True, "running: %s" % s)
        lf = s["lastForecast"]
        check(lf["blueprint"] == "api", "lastForecast is the first by name: %s" % lf["blueprint"])
        check(lf["horizon"] == 2 and len(lf["predictions"]) == 2, "horizon rows")
        check(sorted(lf["predictions"][0].keys()) == sorted(FEATURES), "11 feature keys")
        # Persistence model: the forecast repeats the last minute of the history.
        check(abs(lf["predictions"][0]["cpu_usage"] - 0.4) < 1e-4, "forecast value %s"
              % lf["predictions"][0])
        check(abs(lf["confidence"] - 0.9) < 1e-6, "confidence from val_wape: %s" % lf)
        # 0.4 of a core for 6000 requests a minute, forecast to stay: 1 instance (the one
        # requested), held both ways.
        rec = lf["recommendation"]
        check(rec["type"] == "hold" and rec["reason"] == "STABLE" and
              rec.get("floorInstances") == 1 and rec.get("ceilingInstances") == 1,
              "recommendation: %s" % rec)
        check("cpuScaleUpThreshold" not in rec and "cpuScaleDownThreshold" not in rec,
              "no thresholds in a recommendation: %s" % rec)
        check(abs(lf["timestamp"] / 1000 - time.time()) < 30, "timestamp in Unix ms")
        for b in s["blueprints"]:
            check(b["state"] == "FORECASTING" and b["hasForecast"] and b["lastForecast"],
                  "blueprint forecasting: %s" % b)
        m = n.metrics()
        check(metric(m, "ttm_predictions_count_total") >= 2, "two forecasts per evaluation")
        check(metric(m, "ttm_recommendations_total", type="hold") >= 2, "recommendations counted")
        # the spec's adjust_thresholds is gone since v2: not in the label set
        check(metric(m, "ttm_recommendations_total", type="adjust_thresholds") is None,
              "no threshold adjustment")
        check(metric(m, "aether_ttm_forecast_value", blueprint="web", feature="cpu_usage", minute="1")
              is not None, "forecast value gauge")
        check(metric(m, "aether_ttm_confidence", blueprint="web") > 0.8, "confidence gauge")
        ds = n.get_json("/api/decisions?blueprint=web&limit=5")
        check(any(d["tier"] == "ttm" for d in ds), "ttm decision recorded: %s" % ds)

        # Training data: JSON and CSV, from/to as ISO 8601 or Unix ms.
        end = minute_now() - 60000
        doc = n.get_json("/api/ttm/training-data?blueprint=web")
        check(doc["schemaVersion"] == 1 and doc["features"] == FEATURES, "export header")
        check(doc["blueprint"] == "web" and len(doc["rows"]) >= 8, "rows: %d" % len(doc["rows"]))
        r0 = doc["rows"][0]
        check(len(r0["values"]) == 11 and r0["samples"] == 60, "row: %s" % r0)
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((end - 2 * 60000) / 1000))
        q = urllib.parse.urlencode({"blueprint": "web", "from": iso, "to": str(end),
                                    "format": "csv"})
        code, headers, body = n.get("/api/ttm/training-data?" + q)
        check(code == 200 and headers["Content-Type"].startswith("text/csv"), "csv answer")
        rows = list(csv.reader(io.StringIO(body.decode())))
        check(rows[0] == ["timestamp"] + FEATURES, "csv header: %s" % rows[0])
        check([int(r[0]) for r in rows[1:]] == [end - 120000, end - 60000],
              "csv range [from, to): %s" % rows[1:])
    finally:
        n.stop()


def case_training_data_stream():
    """A long range (14 days of minutes) streams out whole, in both formats."""
    n = make_node(None, sections={"node": {"history_retention_days": 30}}).start()
    n.stop()
    days = 14
    count = days * 1440
    rows = steady_history(count, minute_now() - 60000)
    for i in range(0, count, 97):  # some missing cells
        rows[i][1].pop("latency_ms")
    insert_minutes(n.db(), "web", rows)
    n.start()
    try:
        code, headers, body = n.get("/api/ttm/training-data?format=csv")
        check(code == 200, "csv status %d" % code)
        lines = body.decode().splitlines()
        check(len(lines) == count + 1, "csv rows %d, expected %d" % (len(lines) - 1, count))
        empty = sum(1 for l in lines[1:] if l.split(",")[4] == "")
        check(empty == len(range(0, count, 97)), "missing cells stay empty: %d" % empty)
        check(headers.get("Transfer-Encoding") == "chunked", "streamed (chunked)")
        doc = n.get_json("/api/ttm/training-data")
        check(len(doc["rows"]) == count, "json rows %d" % len(doc["rows"]))
        check(doc["rows"][0]["values"][3] is None, "missing is null in JSON")
    finally:
        n.stop()


def case_inference_failure():
    n = with_history(make_node(None, sections={"ttm": dict(TTM, model_path=model("good.onnx"))}))
    n.start()
    try:
        wait_forecast(n)
        with open(n.faults, "w") as f:
            f.write("inference\n")
        s = wait_state(n, "ERROR")
        check("inference" in (s["error"] or ""), "status names the failure: %s" % s["error"])
        n.wait_log(r"ERROR.*inference failed")
        check(n.metrics()[("aether_ttm_inference_failures_total", frozenset())] >= 1, "failure counted")
        reactive_scale_up(n)  # the reactive tier continues
        os.remove(n.faults)
        s = wait_state(n, "RUNNING")
        check(s["error"] is None, "error cleared after recovery: %s" % s["error"])
        n.wait_log(r"inference works again")
    finally:
        n.stop()


def case_low_confidence():
    n = with_history(make_node(None, sections={"ttm": dict(TTM, model_path=model("lowconf.onnx"))}))
    n.start()
    try:
        s = wait_forecast(n)
        lf = s["lastForecast"]
        check(lf is not None and len(lf["predictions"]) == 2, "forecast kept: %s" % lf)
        check(lf["confidence"] < 0.7, "confidence below threshold: %s" % lf["confidence"])
        rec = lf["recommendation"]
        check(rec["type"] == "hold" and rec["reason"] == "LOW_CONFIDENCE", "no action: %s" % rec)
        check(rec.get("floorInstances") == 1 and "ceilingInstances" not in rec,
              "an uncertain forecast holds a floor only: %s" % rec)
        # Decisions reach the history through its writer thread: wait for the first one.
        ttm = n.wait_for(lambda: [d for d in n.get_json("/api/decisions?blueprint=web")
                                 if d["tier"] == "ttm"], 10, "the ttm decision stored")
        check(all(d["action"] == "hold" for d in ttm), "ttm held: %s" % ttm)
        # An uncertain forecast may keep instances (a floor: the 1 it needs), never remove any.
        check(all(d["inputs"]["floor"] == 1 and d["inputs"]["ceiling"] == 0 for d in ttm),
              "floor only: %s" % ttm)
        check(n.get_json("/api/blueprints")[0]["requested"] == 1, "nothing scaled")
    finally:
        n.stop()


def forecast_mode(mode):
    # The last minute: 6000 requests at cpu 0.6 on 1 instance (0.006 core-s each). The rising
    # model forecasts 12000: 1.2 cores, more than one instance holds at the scale-up threshold
    # (1.0 here) or at ttm.upper_bound_utilization (0.90): 2 instances.
    n = with_history(make_node(None, sections={"ttm": dict(TTM, model_path=model("rising.onnx"),
                                                           mode=mode)}), cpu=0.6)
    n.start()
    try:
        s = wait_forecast(n)
        rec = s["lastForecast"]["recommendation"]
        check(rec["type"] == "scale_up" and rec["targetInstances"] == 2,
              "rising forecast advises a scale-up to 2: %s" % rec)
        check(rec.get("floorInstances") == 2 and rec.get("ceilingInstances") == 2,
              "floor and ceiling in the status: %s" % rec)
        # Decisions reach the history through its writer thread: wait for the TTM one.
        ttm = n.wait_for(lambda: [d for d in n.get_json("/api/decisions?blueprint=web")
                                  if d["tier"] == "ttm" and d["action"] == "scale_up"], 10,
                         "the ttm scale_up stored")
        ds = n.node_decisions = n.get_json("/api/decisions?blueprint=web")
        check(ttm[-1]["inputs"]["floor"] == 2 and ttm[-1]["inputs"]["ceiling"] == 2,
              "the forecast holds floor and ceiling 2: %s" % ttm[-1])
        return n, rec
    except Exception:
        n.stop()
        raise


def case_forecast_only():
    n, rec = forecast_mode("forecast-only")
    try:
        check(n.status()["mode"] == "forecast-only", "mode reported")
        time.sleep(2)
        ds = n.get_json("/api/decisions?blueprint=web")
        check(any("forecast-only" in d["result"] for d in ds if d["tier"] == "ttm"),
              "recorded only: %s" % ds)
        check(n.get_json("/api/blueprints")[0]["requested"] == 1, "nothing applied")
        check(metric(n.metrics(), "ttm_recommendations_total", type="scale_up") >= 1,
              "recommendation exported")
    finally:
        n.stop()


def case_active_scale_up():
    n, rec = forecast_mode("active")
    try:
        target = rec["targetInstances"]
        n.wait_for(lambda: n.get_json("/api/blueprints")[0]["requested"] >= target, 5,
                   "the floor to be applied")
        ds = n.get_json("/api/decisions?blueprint=web")
        jump = [d for d in ds if d["tier"] == "ttm" and d["to"] == target and d["from"] == 1]
        check(jump, "one jump to the floor by the ttm tier: %s" % ds)
    finally:
        n.stop()


def sighup_reload(n, timeout=20):
    """Sends SIGHUP and waits for /api/ttm/status "reload" to show a SIGHUP reload that ended
    after it was sent; returns that "reload" object."""
    sent_ms = int(time.time() * 1000)
    n.send_signal(signal.SIGHUP)

    def ended():
        r = n.status()["reload"]
        done = (r["source"] == "sighup" and r["state"] in ("ok", "failed")
                and r["requestedAt"] >= sent_ms - 1000 and r["finishedAt"] >= r["requestedAt"])
        return r if done else None
    return n.wait_for(ended, timeout, "the SIGHUP reload to show in the status")


def case_reload():
    work = make_node().dir
    live = os.path.join(work, "model.onnx")
    shutil.copy(model("good.onnx"), live)
    n = with_history(make_node(None, sections={"ttm": dict(TTM, model_path=live)}, workdir=work))
    n.start()
    try:
        wait_forecast(n)
        for bad, needle in [("corrupt.onnx", ""), ("window16.onnx", "16")]:
            shutil.copy(model(bad), live)
            r = n.reload_model()
            check(r["state"] == "failed" and needle in r["error"], "bad reload: %s" % r)
            s = n.status()
            check(s["active"] and s["state"] == "RUNNING", "old model kept: %s" % s)
            check("previous model kept" in s["error"], "status says why: %s" % s["error"])
        # SIGHUP with a bad file: same, through the same path, shown in the status.
        r = sighup_reload(n)
        check(r["state"] == "failed" and "16" in r["error"], "bad SIGHUP reload: %s" % r)
        n.wait_log(r"model reload failed, the running model stays")
        before = n.metrics()[("ttm_predictions_count_total", frozenset())]
        n.wait_for(lambda: n.metrics()[("ttm_predictions_count_total", frozenset())] > before,
                   15, "forecasts to go on with the old model")
        # A good file replaces it, over SIGHUP and over HTTP.
        shutil.copy(model("lowconf.onnx"), live)
        r = sighup_reload(n)
        check(r["state"] == "ok" and r["error"] is None and r["what"] == "model",
              "SIGHUP reload: %s" % r)
        n.wait_log(r"model reloaded from")
        s = n.status()
        check(s["error"] is None and s["active"], "reloaded: %s" % s)
        r = n.reload_model()
        check(r["state"] == "ok" and r["error"] is None and r["source"] == "http",
              "HTTP reload: %s" % r)
        m = n.metrics()
        check(metric(m, "aether_ttm_model_reloads_total", result="ok") == 2, "reloads ok counted")
        check(metric(m, "aether_ttm_model_reloads_total", result="failed") == 3, "failures counted")
        s = wait_forecast(n)
        n.wait_for(lambda: n.status()["blueprints"][0]["confidence"] < 0.5, 15,
                   "forecasts from the new model (val_wape 0.9)")
    finally:
        n.stop()


def case_restart_keeps_history():
    """A restart reloads the window. After an outage of at most W/4 minutes (W=8: 2) the first
    evaluation forecasts (no new cold start); after a longer one the window starts again."""
    short = make_node(None, sections={"ttm": dict(TTM, model_path=model("good.onnx"))})
    short.start()
    short.stop()
    # 8 minutes of history, then the last closed minute missing: a 1-minute outage (2 if a
    # minute boundary passes before the first evaluation).
    insert_minutes(short.db(), "web", steady_history(8, minute_now() - 120000))
    short.start()
    try:
        short.wait_log(r"blueprint web: reloaded 8 minutes")
        s = wait_forecast(short, timeout=15)
        check(s["blueprints"][0]["state"] == "FORECASTING", "no cold start: %s" % s)
    finally:
        short.stop()

    long = make_node(None, sections={"ttm": dict(TTM, model_path=model("good.onnx"))})
    long.start()
    long.stop()
    insert_minutes(long.db(), "web", steady_history(8, minute_now() - 10 * 60000))
    long.start()
    try:
        long.wait_log(r"blueprint web: reloaded 8 minutes")
        s = long.wait_for(lambda: (lambda s: s if s["lastEvaluation"] else None)(long.status()),
                          15, "the first evaluation")
        b = s["blueprints"][0]
        check(b["state"] == "WAITING_FOR_HISTORY" and not b["hasForecast"],
              "a 9-minute gap restarts the window: %s" % b)
    finally:
        long.stop()


def case_sigkill_loses_at_most_a_minute():
    """Minutes closed before a SIGKILL are in the history after the restart."""
    n = make_node().start()
    try:
        start = time.time()
        # Wait until a minute with >= 30 s of the node in it has closed and been written.
        first_full = (int(start // 60) + (1 if start % 60 > 30 else 0)) * 60000

        def stored():
            doc = n.get_json("/api/ttm/training-data")
            return [r for r in doc["rows"] if r["timestamp"] >= first_full]
        rows = n.wait_for(stored, 100, "a closed minute in the history")
        n.stop(signal.SIGKILL)
        n.start()
        doc = n.get_json("/api/ttm/training-data")
        got = [r["timestamp"] for r in doc["rows"]]
        check(rows[0]["timestamp"] in got, "minute %d survived SIGKILL: %s"
              % (rows[0]["timestamp"], got))
        check(rows[0]["samples"] >= 30, "a kept minute has >= 30 snapshots")
    finally:
        n.stop()


def case_no_engine():
    """WITH_TTM=0: without the module the status says so; with aether-ttm-onnx.so in
    node.extensions_dir the node loads it and forecasts."""
    if not ARGS.node_noengine:
        print("SKIP: no engine-less node built")
        return
    n = with_history(make_node(ARGS.node_noengine,
                          sections={"ttm": dict(TTM, model_path=model("good.onnx"))}))
    n.start()
    try:
        s = n.status()
        check("No TTM predictor implementation available" in (s["error"] or ""),
              "no module: %s" % s["error"])
        check(s["active"] is False, "inactive without engine")
        reactive_scale_up(n)
    finally:
        n.stop()
    os.makedirs(n.sections["node"]["extensions_dir"], exist_ok=True)
    shutil.copy(ARGS.module, os.path.join(n.sections["node"]["extensions_dir"],
                                          "aether-ttm-onnx.so"))
    n.start()
    try:
        n.wait_log(r"Loaded TTM engine module")
        n.wait_log(r"Warm-up inference complete")
        s = wait_forecast(n)
        check(s["active"] and s["error"] is None, "module engine: %s" % s)
    finally:
        n.stop()


def ramp_history(minutes, end_start_ms, start=3000.0, slope=50.0):
    """steady_history with invocations rising by `slope` a minute (cpu in proportion)."""
    rows = steady_history(minutes, end_start_ms)
    for i, (_, values, _) in enumerate(rows):
        values["invocations"] = values["event_count"] = start + slope * i
        values["cpu_usage"] = 0.4 * values["invocations"] / 6000.0
    return rows


def case_forecaster_switch():
    """ttm.forecaster = auto: with 3 stored minutes the blueprint forecasts at once with the
    cold-start choice (persistence); after a restart with an hour of a rising load stored, the
    simple candidates are scored on those minutes and the first evaluation switches to one that
    follows the ramp. The API and the metrics show the active forecaster, why, and every
    candidate's error per step."""
    ttm = dict(TTM, model_path=model("good.onnx"), forecaster="auto")
    n = make_node(None, sections={"ttm": ttm}, blueprints=[{"name": "web"}])
    n.start()
    check(n.stop() == 0, "node exits 0 on SIGTERM")
    insert_minutes(n.db(), "web", ramp_history(3, minute_now() - 60000))
    n.start()
    try:
        s = wait_forecast(n)
        b = s["blueprints"][0]
        check(b["state"] == "FORECASTING", "3 minutes are enough with auto (W/2 = 4): %s" % b)
        check(b["forecaster"] == "persistence", "cold start: %s" % b["forecaster"])
        sel = b["selection"]
        check(sel["active"] == "persistence" and "cold start" in sel["reason"] and
              sel["switches"] == 0, "selection at cold start: %s" % sel)
        check([c["name"] for c in sel["candidates"]] ==
              ["model", "persistence", "drift", "seasonal-naive", "holt-winters", "linear"],
              "every candidate listed: %s" % sel["candidates"])
        m = n.metrics()
        check(metric(m, "aether_ttm_forecaster_active", blueprint="web",
                     forecaster="persistence") == 1, "active gauge at cold start")
        check(metric(m, "aether_ttm_forecaster_active", blueprint="web", forecaster="drift") == 0,
              "the other candidates at 0")
    finally:
        n.stop()

    insert_minutes(n.db(), "web", ramp_history(60, minute_now() - 60000))
    n.start()
    try:
        s = wait_forecast(n)
        b = s["blueprints"][0]
        sel = b["selection"]
        check(b["forecaster"] != "persistence" and b["forecaster"] == sel["active"],
              "switched from persistence: %s" % sel)
        check(sel["switches"] == 1 and "persistence" in sel["reason"] and
              sel["active"] in sel["reason"], "why it switched: %s" % sel["reason"])
        cands = {c["name"]: c for c in sel["candidates"]}
        p, a = cands["persistence"], cands[sel["active"]]
        check(abs(p["score"] - 1.0) < 1e-6 and p["samples"] >= 10,
              "persistence scores 1 against itself: %s" % p)
        check(a["score"] < 0.9 * p["score"], "the active one beats it by the margin: %s" % a)
        check(len(a["errorByStep"]) == 2 and len(a["maeByStep"]) == 2, "one error per step")
        check(sel["underforecastWeight"] == 1.0, "the default under-forecast weight: %s" % sel)
        check(sel["scoreKind"] == "peak-quantile" and sel["peakQuantile"] == 0.65,
              "the default score: %s" % sel)
        check(abs(p["peakError"] - 1.0) < 1e-6 and p["peakSamples"] >= 10,
              "persistence's peak loss is 1 against itself: %s" % p)
        check(a["score"] == a["peakError"], "the peak-quantile score is the peak loss: %s" % a)
        # persistence misses the peak of steps 1..2 of the ramp (the minute before + 100) by 100
        check(abs(p["peakHeadroom"] - 100) < 1e-3, "persistence's peak headroom: %s" % p)
        # persistence misses a ramp of 50 a minute by 50 at step 1 and 100 at step 2
        check(abs(p["maeByStep"][0] - 50) < 1e-3 and abs(p["maeByStep"][1] - 100) < 1e-3,
              "persistence's error by step: %s" % p["maeByStep"])
        m = n.metrics()
        check(metric(m, "aether_ttm_forecaster_active", blueprint="web",
                     forecaster=sel["active"]) == 1, "active gauge after the switch")
        check(metric(m, "aether_ttm_forecaster_active", blueprint="web",
                     forecaster="persistence") == 0, "persistence no longer active")
        for step in ("1", "2"):
            e = metric(m, "aether_ttm_forecast_error", blueprint="web", forecaster=sel["active"],
                       step=step)
            check(e is not None and abs(e - a["errorByStep"][int(step) - 1]) < 1e-6,
                  "error gauge of step %s: %s" % (step, e))
        check(abs(metric(m, "aether_ttm_forecast_error", blueprint="web",
                         forecaster="persistence", step="1") - 1) < 1e-6,
              "persistence's error gauge")
    finally:
        n.stop()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--case", required=True)
    p.add_argument("--node", required=True)
    p.add_argument("--node-noengine")
    p.add_argument("--module")
    p.add_argument("--models", required=True)
    ARGS = p.parse_args()
    return run_case(ARGS.case, globals())


if __name__ == "__main__":
    sys.exit(main())
