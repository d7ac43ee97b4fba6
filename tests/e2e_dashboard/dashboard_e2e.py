#!/usr/bin/env python3
"""End-to-end tests of the dashboard and the forecast history: the real daemon on loopback with
four hours of history loaded into its database, the page opened in Debian's headless chromium
over the DevTools protocol.

  dashboard_e2e.py --case forecasts_api|dashboard --node BIN --models DIR --out DIR

forecasts_api: GET /api/ttm/forecasts serves the loaded forecasts and the node's own new ones,
with the history endpoints' validation. dashboard: every chart has data (series and point
counts read from the charts themselves), the decision table and status cards are filled, the
page refreshes itself without reloading, range and blueprint can be switched, no console error
or exception occurs; screenshots go to --out."""
import argparse
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))

from e2e_lib import FEATURES, Node, check, minute_now, run_case  # noqa: E402
import seed  # noqa: E402

ARGS = None
HOURS = 4
SEEDED = {}  # blueprint -> what seed.seed wrote
TTM = {"enabled": True, "input_window_minutes": 8, "prediction_horizon": 2,
       "evaluation_interval_ms": 10000, "confidence_threshold": 0.7}


def seeded_node():
    """A node with TTM on (a persistence model, W 8, H 2) and HOURS hours of history for web
    and api in its database; started and forecasting."""
    n = Node(ARGS.node, sections={"ttm": dict(TTM, model_path=os.path.join(ARGS.models,
                                                                           "good.onnx")),
                                  "controller": {"cpu_scale_up_threshold": 1.0,
                                                 "cpu_scale_down_threshold": 0.0}},
             blueprints=[{"name": "web"}, {"name": "api", "max_instances": 6}])
    n.start()
    check(n.stop() == 0, "node exits 0 on SIGTERM")
    end = minute_now() - 60000
    for name, base in (("web", 6000.0), ("api", 2500.0)):
        SEEDED[name] = seed.seed(n.db(), name, HOURS * 60, end, base, TTM["prediction_horizon"])
    n.start()
    n.wait_for(lambda: all(b["hasForecast"] for b in n.status()["blueprints"]), 25,
               "a forecast for every blueprint")
    return n, end


def case_forecasts_api():
    n, end = seeded_node()
    try:
        # The status first: the forecast it shows was made before the rows below were read.
        st = [b for b in n.status()["blueprints"] if b["name"] == "web"][0]["lastForecast"]
        doc = n.get_json("/api/ttm/forecasts?blueprint=web")
        check(doc["blueprint"] == "web" and doc["features"] == FEATURES, "header: %s"
              % {k: doc[k] for k in ("blueprint", "features")})
        rows = doc["forecasts"]
        check(len(rows) >= HOURS * 60 * 2, "every loaded step is served: %d rows" % len(rows))
        keys = [(r["minute"], r["step"], r["madeAt"]) for r in rows]
        check(keys == sorted(keys), "ordered by minute, step, made")
        check(all(len(r["values"]) == 11 and r["step"] in (1, 2) for r in rows), "row shape")
        # The node's own forecast is stored: step 1 predicts the minute of the evaluation, step
        # 2 the next; both made at the status' forecast time with its values.
        mine = [r for r in rows if r["madeAt"] == st["timestamp"]]
        first = st["timestamp"] // 60000 * 60000
        check([(r["minute"], r["step"]) for r in mine] == [(first, 1), (first + 60000, 2)],
              "the node's forecast is stored per step: %s (made %d)" % (mine, st["timestamp"]))
        for r, p in zip(mine, st["predictions"]):
            check(abs(r["values"][4] - p["invocations"]) < 1e-3 * max(1, p["invocations"]),
                  "stored values are the forecast's: %s vs %s" % (r["values"], p))
        # [from, to) on the predicted minute, ISO 8601 or Unix ms.
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((end - 9 * 60000) / 1000))
        q = urllib.parse.urlencode({"blueprint": "web", "from": iso, "to": str(end - 5 * 60000)})
        part = n.get_json("/api/ttm/forecasts?" + q)["forecasts"]
        check(sorted({r["minute"] for r in part}) == [end - k * 60000 for k in range(9, 5, -1)],
              "range [from, to): %s" % sorted({r["minute"] for r in part}))
        check(len(part) == 8, "two steps for each of 4 minutes: %d" % len(part))
        for path, want, needle in [("/api/ttm/forecasts", 400, "blueprint is required"),
                                   ("/api/ttm/forecasts?blueprint=zz", 404, "zz"),
                                   ("/api/ttm/forecasts?blueprint=web&from=soon", 400, "from"),
                                   ("/api/ttm/forecasts?blueprint=web&from=20&to=10", 400,
                                    "after")]:
            code, _, body = n.get(path)
            check(code == want and needle in json.loads(body).get("error", ""),
                  "GET %s: %d %s (expected %d, %r)" % (path, code, body, want, needle))
        code, _, _ = n.request("POST", "/api/ttm/forecasts", "")
        check(code == 405, "POST forecasts: %d" % code)
    finally:
        n.stop()


# What the page is doing, for a failure message: where it is, whether its script runs and a
# refresh is under way, and the error it shows.
PAGE_STATE = ("JSON.stringify({href: location.href, readyState: document.readyState,"
              " script: typeof aetherDashboard, busy: window.aetherDashboard &&"
              " aetherDashboard.state.busy, shown: document.getElementById('error') &&"
              " document.getElementById('error').textContent})")


def chart_check(summary, chart, want):
    """want: {series label: minimum points}."""
    check(chart in summary, "chart %s drawn: %s" % (chart, list(summary)))
    lo, hi = summary[chart]["yMin"], summary[chart]["yMax"]
    check(lo is not None and hi is not None and hi > lo,
          "chart %s has a y range to draw in: [%s, %s]" % (chart, lo, hi))
    got = {s["label"]: s["points"] for s in summary[chart]["series"]}
    for label, least in want.items():
        check(got.get(label, 0) >= least, "chart %s series %r has %s points, want >= %d (%s)"
              % (chart, label, got.get(label), least, got))


def check_charts(summary, minutes, reactive_changes=0):
    full = minutes - 5
    feature = {"actual": full, "forecast 1 min ahead": full, "forecast 2 min ahead": full,
               "newest forecast": 2}
    for chart in ("invocations", "cpu", "latency", "errors"):
        chart_check(summary, chart, feature)
    chart_check(summary, "instances", {"requested": full, "ready": full, "min_instances": full,
                                       "max_instances": full, "forecast floor": full - 10,
                                       "forecast ceiling": full - 10,
                                       "reactive change": reactive_changes})


def case_dashboard():
    from cdp import Browser  # needs python3-websocket and chromium (scripts/install-deps)
    n, _ = seeded_node()
    b = None
    try:
        for path in ("/", "/dashboard"):
            code, headers, body = n.get(path)
            check(code == 200 and headers["Content-Type"].startswith("text/html") and
                  b"uPlot.iife.min.js" in body, "GET %s: %d %s" % (path, code, headers))
        code, headers, body = n.get("/dashboard/uPlot.iife.min.js")
        check(code == 200 and "javascript" in headers["Content-Type"] and len(body) > 10000,
              "charting library served: %d %s %d bytes" % (code, headers, len(body)))
        code, _, body = n.get("/dashboard/secret.txt")
        check(code == 404 and "secret.txt" in json.loads(body)["error"], "unknown file: %d" % code)

        b = Browser(os.path.join(n.dir, "chromium.log"))
        url = "http://127.0.0.1:%d/?blueprint=web&range=21600&refresh=1000" % n.port
        b.navigate(url)
        b.wait_for("document.body && Number(document.body.dataset.refreshes || 0) >= 1", 60,
                   "the first refresh", explain=PAGE_STATE)
        summary = json.loads(b.evaluate("JSON.stringify(aetherDashboard.summary())"))
        print("charts (6 h):", json.dumps(summary))
        # A marker for each of the reactive tier's changes in the loaded history.
        check(SEEDED["web"]["reactive_changes"] >= 2, "seeded changes: %s" % SEEDED["web"])
        check_charts(summary, HOURS * 60, reactive_changes=SEEDED["web"]["reactive_changes"])
        check(b.evaluate("document.querySelectorAll('.chart canvas').length") >= 5,
              "five charts drawn on canvases")
        rows = b.evaluate("document.querySelectorAll('#decisions tbody tr').length")
        check(rows >= 24, "decision timeline has the range's decisions: %s rows" % rows)
        tiers = b.evaluate("[...new Set([...document.querySelectorAll('#decisions .tier')]"
                           ".map(e => e.textContent))].sort().join()")
        check(tiers == "reactive,ttm", "both tiers in the timeline: %s" % tiers)
        cards = b.evaluate("[...document.querySelectorAll('.card')].map(c => c.textContent)")
        check(len(cards) == 11 and any("RUNNING" in c for c in cards) and
              any(c.startswith("confidence0.9") for c in cards) and
              any(c.startswith("modelgood.onnx (W 8, H 2)") for c in cards) and
              any(c.startswith("cluster rolesingle node") for c in cards) and
              any(c.startswith("active forecaster") and "reactive tier only" not in c
                  for c in cards), "status cards: %s" % cards)
        b.screenshot(os.path.join(ARGS.out, "dashboard-web-6h.png"), 1400, 1750)

        # Live: the page refreshes itself (no reload: a marker set on the window survives).
        b.evaluate("window.__sameDocument = 1")
        r0 = b.evaluate("Number(document.body.dataset.refreshes)")
        b.wait_for("Number(document.body.dataset.refreshes) >= %d" % (r0 + 2), 15,
                   "two live refreshes")
        check(b.evaluate("window.__sameDocument") == 1, "refreshed without reloading the page")

        # Range: the last hour holds about 60 minutes.
        b.evaluate("(() => { const r = document.getElementById('range'); r.value = '3600';"
                   " r.dispatchEvent(new Event('change')); })()")
        b.wait_for("(() => { const s = aetherDashboard.summary().invocations.series[0];"
                   " return s.points >= 55 && s.points <= 62; })()", 15, "the 1 h range")
        summary = json.loads(b.evaluate("JSON.stringify(aetherDashboard.summary())"))
        check_charts(summary, 60)
        # Another blueprint.
        b.evaluate("(() => { const s = document.getElementById('blueprint'); s.value = 'api';"
                   " s.dispatchEvent(new Event('change')); })()")
        b.wait_for("document.querySelector('#cards').textContent.includes('(1..6)')", 15,
                   "the api blueprint's cards")
        b.wait_for("aetherDashboard.summary().invocations.series[0].points >= 55", 15,
                   "api charts")
        check_charts(json.loads(b.evaluate("JSON.stringify(aetherDashboard.summary())")), 60)
        b.screenshot(os.path.join(ARGS.out, "dashboard-api-1h.png"), 1400, 1750)
        b.pump(1.0)
        check(not b.errors, "no console errors or exceptions: %s" % b.errors)
    finally:
        if b:
            b.close()
        n.stop()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--case", required=True)
    p.add_argument("--node", required=True)
    p.add_argument("--models", required=True)
    p.add_argument("--out", default=".")
    ARGS = p.parse_args()
    return run_case(ARGS.case, globals())


if __name__ == "__main__":
    sys.exit(main())
