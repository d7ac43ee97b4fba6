#!/usr/bin/python3
"""aether-sim end to end on a small synthetic trace: every baseline controller runs, the JSON
has the documented keys, the oracle meets the SLO at the lowest cost, the exported features are
in the training-data format, the plot is an SVG, and bad input fails with a message naming the
file, line and column.

usage: test_e2e.py AETHER_SIM SOURCE_DIR
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

SIM, SRC = sys.argv[1], sys.argv[2]
FEATURES = ["cpu_usage", "heap_usage", "event_loop_lag_ms", "latency_ms", "invocations",
            "gc_pause_ms", "latency_p50", "latency_p95", "latency_p99", "error_rate",
            "event_count"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args, expect_ok=True):
    p = subprocess.run([SIM] + args, capture_output=True, text=True, timeout=120)
    if expect_ok and p.returncode != 0:
        print(p.stderr)
        raise SystemExit(f"aether-sim {' '.join(args)} exited {p.returncode}")
    return p


with tempfile.TemporaryDirectory() as tmp:
    # Six hours of a daily-cycle shape with a sudden surge: minute index, requests per minute.
    trace = os.path.join(tmp, "load.csv")
    with open(trace, "w") as f:
        f.write("minute,requests\n")
        for m in range(360):
            v = 1000 + 600 * math.sin(2 * math.pi * m / 180.0)
            if 200 <= m < 230:
                v *= 1.8
            f.write(f"{m},{v:.1f}\n")

    base = ["--trace", trace, "--time-column", "minute", "--value-column", "requests",
            "--step", "1m", "--quiet"]
    controllers = ["reactive", "hpa", "holt-winters", "linear", "oracle"]
    features = os.path.join(tmp, "features.csv")
    plot = os.path.join(tmp, "plot.svg")
    out = run(base + ["--controller", ",".join(controllers), "--json",
                      "--export-features", features, "--plot", plot]).stdout
    res = json.loads(out)
    check(list(res) == controllers, f"JSON keys {list(res)} == {controllers}")
    for name, r in res.items():
        for key in ("slo_violation_minutes", "instance_minutes", "scaling_actions",
                    "p95_latency_ms"):
            check(key in r, f"{name} has {key}")
        check(r["minutes"] == 360, f"{name} simulated 360 minutes")
        check(r["instance_minutes"] > 0, f"{name} has a cost")
    for name in ("holt-winters", "linear"):
        check("mae" in res[name] and "mase" in res[name], f"{name} reports mae and mase")
        check(res[name]["mae"] is not None and res[name]["mae"] > 0, f"{name} mae scored")
    check("mae" not in res["hpa"], "hpa is not a forecaster")
    # The oracle: no violation after its first start-up delay, and the least cost.
    check(res["oracle"]["slo_violation_minutes"] == 0, "oracle meets the SLO")
    for name in controllers[:-1]:
        check(res["oracle"]["instance_minutes"] <= res[name]["instance_minutes"],
              f"oracle is cheapest ({name})")
    # Sizing: the 99.5th percentile needs 20 instances at 70%, so peaks never exceed 60.
    check(all(r["peak_instances"] <= 60 for r in res.values()), "max 3 x 20 instances")

    with open(features) as f:
        rows = list(csv.reader(f))
    check(rows[0] == ["timestamp"] + FEATURES, "training-data header")
    check(len(rows) == 1 + 360, f"one row per minute ({len(rows) - 1})")
    ts = [int(r[0]) for r in rows[1:]]
    check(all(b - a == 60000 for a, b in zip(ts, ts[1:])), "timestamps a minute apart")
    inv = [float(r[1 + FEATURES.index("invocations")]) for r in rows[1:]]
    check(abs(inv[0] - 1000.0) < 1e-3, f"first minute's invocations = the trace ({inv[0]})")
    with open(plot) as f:
        check(f.read().startswith("<svg"), "plot is an SVG")

    # A chronological split by percentage: the halves add up to the whole.
    first = json.loads(run(base + ["--controller", "hpa", "--to", "50%", "--json"]).stdout)
    second = json.loads(run(base + ["--controller", "hpa", "--from", "50%", "--json"]).stdout)
    check(first["hpa"]["minutes"] == 180 and second["hpa"]["minutes"] == 180,
          "--to 50% / --from 50% split 360 minutes in two")

    # A warm-up: the hour before --from runs first and counts in no figure, so ttm starts the
    # counted part with its history (a forecast from the first counted minute on; cold, it waits
    # for its window) and the counted minutes are the same 180.
    loud = [a for a in base if a != "--quiet"]
    split = ["--controller", "hpa,ttm", "--forecaster", "persistence", "--horizon", "3",
             "--from", "50%", "--json"]
    cold = json.loads(run(base + split).stdout)
    p = run(loud + split + ["--warm-up", "60m"])
    warm = json.loads(p.stdout)
    check(warm["hpa"]["minutes"] == 180 and warm["ttm"]["minutes"] == 180,
          "a warm-up adds no counted minute")
    check(warm["ttm"]["predictions"] == 180 and cold["ttm"]["predictions"] < 180,
          f"warm, ttm forecasts every counted minute ({warm['ttm']['predictions']}; cold "
          f"{cold['ttm']['predictions']})")
    check("warm-up 1970-01-01 02:00 .. 1970-01-01 03:00: 60 minutes run first" in p.stderr,
          f"the warm-up is named: {p.stderr.strip()}")
    none = json.loads(run(base + split + ["--warm-up", "0"]).stdout)
    check(none == cold, "--warm-up 0 is no warm-up")
    p = run(base + ["--controller", "hpa", "--warm-up", "60m"], expect_ok=False)
    check(p.returncode == 2 and "--warm-up needs --from" in p.stderr,
          f"a warm-up without --from is refused: {p.stderr.strip()}")

    # The ttm controller with the shipped default model through the ONNX engine.
    model = os.path.join(SRC, "models", "ttm-aether.onnx")
    info = subprocess.run([os.path.join(os.path.dirname(SIM), "aether-model"), "validate", model],
                          capture_output=True, text=True, timeout=60).stdout
    window = [int(line.split("=")[1]) for line in info.splitlines()
              if line.strip().startswith("aether.window =")]
    check(len(window) == 1, f"aether-model validate shows the model's window ({info[-300:]})")
    res = json.loads(run(base + ["--controller", "reactive,ttm", "--forecaster", "model",
                                 "--model", model, "--json"]).stdout)
    t = res["ttm"]
    check(window and t["predictions"] == 360 - window[0] // 2,
          f"a forecast every minute once W/2 minutes exist ({t['predictions']})")
    check(t["forecast_minutes"] > 300 and t["mae"] is not None, "ttm forecasts scored")
    check(t["inference_failures"] == 0, "no inference failure")
    fo = json.loads(run(base + ["--controller", "ttm", "--mode", "forecast-only", "--model",
                                model, "--json"]).stdout)
    check(list(fo) == ["ttm-forecast-only"], "forecast-only mode has its own key")
    check(fo["ttm-forecast-only"]["instance_minutes"] == res["reactive"]["instance_minutes"],
          "forecast-only never acts: same cost as reactive")
    p = run(base + ["--controller", "ttm", "--forecaster", "model"], expect_ok=False)
    check(p.returncode == 1 and "needs --model" in p.stderr,
          "--forecaster model without a model is refused")
    # The default is the node's, auto: without --model the simple candidates drive.
    d = json.loads(run(base + ["--controller", "ttm", "--json"]).stdout)["ttm"]
    check(d["predictions"] > 300 and d["driven_model"] == 0 and
          d["driven_persistence"] + d["driven_holt_winters"] + d["driven_linear"] +
          d["driven_drift"] + d["driven_seasonal_naive"] > 0.99,
          f"the default forecaster is auto: simple candidates drive without a model ({d})")

    # Every forecaster drives the same ttm path; per-step errors for every forecasting controller.
    h5 = os.path.join(SRC, "models", "ttm-aether-h5.onnx")
    for fc in ("model", "persistence", "drift", "seasonal-naive", "holt-winters", "linear",
               "periodic"):
        r = json.loads(run(base + ["--from", "50%", "--controller", "ttm", "--forecaster", fc,
                                   "--model", h5, "--json"]).stdout)["ttm"]
        check(len(r["mae_by_step"]) == 5 and len(r["mase_by_step"]) == 5,
              f"ttm --forecaster {fc}: five steps scored ({r.get('mae_by_step')})")
        check(r["predictions"] > 100, f"ttm --forecaster {fc} forecasts ({r['predictions']})")
        if fc == "persistence":
            check(all(abs(x - 1) < 1e-6 for x in r["mase_by_step"]),  # float32 rows
                  f"persistence has MASE 1 at every step ({r['mase_by_step']})")
    r = json.loads(run(base + ["--controller", "ttm", "--forecaster", "drift", "--horizon", "3",
                               "--json"]).stdout)["ttm"]
    check(len(r["mase_by_step"]) == 3, "--horizon without a model sets the steps")
    r = json.loads(run(base + ["--controller", "holt-winters,linear,hpa", "--startup-delay",
                               "2m", "--json"]).stdout)
    for name in ("holt-winters", "linear"):
        check(len(r[name]["mase_by_step"]) == 3, f"{name}: steps 1..delay+1 scored")
    check("mase_by_step" not in r["hpa"], "the hpa has no forecast")
    check(abs(r["hpa"]["scaling_actions_per_day"] - r["hpa"]["scaling_actions"] * 4) < 1e-6,
          "actions per day over 6 hours")
    # Tier 1's target: the forecast's peak is sized at it, so a higher one costs fewer instances.
    cost = {}
    for up in ("0.80", "0.90"):
        r = json.loads(run(base + ["--controller", "ttm", "--forecaster", "persistence",
                                   "--upper-bound-util", "1", "--scale-up-threshold", up,
                                   "--json"]).stdout)["ttm"]
        cost[up] = r["instance_minutes"]
        check(r["cpu_scale_up_threshold"] == float(up), f"the run reports tier 1's target {up}")
    check(cost["0.90"] < cost["0.80"],
          f"--scale-up-threshold 0.90 runs fewer instance-minutes than 0.80 ({cost})")
    p = run(base + ["--controller", "ttm", "--forecaster", "persistence",
                    "--scale-up-threshold", "0.1"], expect_ok=False)
    check(p.returncode == 1 and "controller.cpu_scale_up_threshold = 0.1" in p.stderr,
          f"a tier-1 target below the scale-down threshold is named: {p.stderr.strip()}")
    p = run(base + ["--controller", "ttm", "--forecaster", "arima"], expect_ok=False)
    check(p.returncode == 1 and "--forecaster 'arima'" in p.stderr, "unknown forecaster named")

    # --help states each default as the run uses it: the config's for the shared keys, in the
    # unit the flag takes for durations.
    shipped = json.loads(run(base + ["--controller", "ttm", "--forecaster", "persistence",
                                     "--json"]).stdout)["ttm"]
    help_lines = {ln.split()[0]: ln for ln in run(["--help"]).stdout.splitlines()
                  if ln.startswith("  --")}
    for flag, key in (("--scale-up-threshold", "cpu_scale_up_threshold"),
                      ("--upper-bound-util", "upper_bound_utilization"),
                      ("--confidence-threshold", "confidence_threshold"),
                      ("--scale-in-window", "scale_in_window_minutes")):
        check(help_lines[flag].endswith(f"(default {shipped[key]:g})"),
              f"--help gives {flag}'s default as the run's {key} {shipped[key]:g}: "
              f"{help_lines[flag].strip()}")
    for flag, text in (("--startup-delay", "(default 3m)"), ("--hpa-sync", "(default 15s)"),
                       ("--warm-up", "(default 0)"), ("--controller", "(default all)")):
        check(help_lines[flag].endswith(text), f"--help: {help_lines[flag].strip()} ends {text}")
    check(not help_lines["--model"].endswith(")"), "--model has no default")

    # The table form names every controller.
    table = run(base + ["--controller", "hpa,oracle"]).stdout
    check("hpa" in table and "oracle" in table and "slo_viol" in table, "table output")

    # Bad input: a clear message naming file, line and column; no crash.
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("minute,requests\n0,10\n1,ten\n")
    p = run(["--trace", bad, "--time-column", "minute", "--value-column", "requests",
             "--controller", "hpa"], expect_ok=False)
    check(p.returncode == 1, "bad trace exits 1")
    check(f"{bad}:3: column 'requests': 'ten' is not a number" in p.stderr,
          f"message names file, line, column: {p.stderr.strip()}")
    p = run(base + ["--controller", "hpa", "--value-column", "nope"], expect_ok=False)
    check("no column named 'nope'" in p.stderr, "unknown column named")
    p = run(base + ["--controller", "magic"], expect_ok=False)
    check(p.returncode == 2 and "unknown controller 'magic'" in p.stderr, "unknown controller")
    p = run(base + ["--controller", "hpa", "--hpa-target", "2"], expect_ok=False)
    check(p.returncode == 2 and "--hpa-target = 2 is out of range" in p.stderr, "range check")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all end-to-end checks passed")
