#!/usr/bin/python3
"""Scaling benchmark: what the forecast tier is worth, at equal SLO, on the real traces.

For each simulator trace of the shared traces README (NASA-HTTP requests, Azure Functions 2019
total invocations and, one trace each, the invocations of its busy trigger types, the first three
Bitbrains GWA-T-12 VM columns scaled to a load):
  1. chronological split: the first --split% (70) of the trace's minutes for training, the rest
     for the test; the last quarter of the training part (52.5%..70%) is the validation slice;
  2. the model: the shipped default (--model), said to be in-corpus on a trace whose family its
     training corpus holds, or a leave-one-out model from --loo-models (zero-shot); the benchmark
     trains none (provenance.py);
  3. on the validation slice: sweep the HPA's target and, for every forecaster driving the ttm
     path (auto, model, persistence, drift, seasonal-naive, holt-winters, linear, periodic), the
     ttm tunables (ttm.upper_bound_utilization x ttm.scale_in_window_minutes, the knob grid, x
     ttm.confidence_threshold); choose each forecaster's operating point by the largest saving at
     equal SLO against the validation HPA sweep;
  4. on the test part: the HPA's target swept (0.10..0.90 by 0.02), the HPA-plus-forecast
     baselines (holt-winters, linear) swept over the same target, every ttm forecaster swept over
     the knob grid at its validation-chosen confidence threshold (the frontier, which holds the
     chosen point), the oracle; the saving at equal SLO, the model value, per-step forecast
     error, churn;
  5. the fixed-default table (every controller at its defaults, ttm as shipped: auto) at a
     start-up delay of 3 min (--startups 1m,3m,5m adds others).
Writes docs/benchmarks.md (tables, verdicts, how every tunable was chosen, exact commands).
The traces run side by side; simulations run at most --jobs (2) at a time.

usage: run.py [--sim build/bin/aether-sim] [--traces DIR] [--work DIR] [--out docs/benchmarks.md]
              [--model FILE] [--loo-models DIR] [--notes FILE] [--only NAMES] [--report-only]
"""

import argparse
import csv
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frontier as fr  # noqa: E402
import provenance  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON = "/usr/bin/python3"
EXPORT_ONNX = os.path.join(ROOT, "training", "export_onnx.py")  # a leave-one-out .pt to ONNX
CONTROLLERS = "reactive,ttm,hpa,holt-winters,linear,oracle"
# auto (the default: every forecaster side by side, the best recent one drives), auto without
# the model (the same selection over the simple candidates only: the model ablated from the
# shipped path), the model alone, then the simple forecasters the model is judged against
AUTO_NO_MODEL = "auto-no-model"
FORECASTERS = ("auto", AUTO_NO_MODEL, "model", "persistence", "drift", "seasonal-naive",
               "holt-winters", "linear", "periodic")
SIMPLE = FORECASTERS[3:]
AZURE_TOTAL = "azure_functions_2019_500fn_8h_total_1min.csv"
# a trigger type of the Azure Functions sample is a trace of its own from this mean volume
# (invocations per minute) on: every type but the near-empty "others"
TRIGGER_MIN_MEAN = 10
# 0.10 .. 0.90: far below 0.50 so that a controller safer than the HPA at 0.50 still has an HPA
# point to be compared with at equal SLO (on Bitbrains the HPA at 0.30 is not safe enough)
HPA_TARGETS = [round(0.10 + 0.02 * i, 2) for i in range(41)]
# the HPA's scale-down stabilisation window, tuned with its target as its users tune it (the
# ttm paths get their scale-in window tuned too): None = the simulator's default, Kubernetes' 5m
HPA_STABILIZATIONS = (None, "1m", "10m")
BASELINE_TARGETS = [round(0.30 + 0.10 * i, 2) for i in range(7)]   # 0.30 .. 0.90
UPPER_BOUNDS = [round(0.60 + 0.05 * i, 2) for i in range(9)]       # 0.60 .. 1.00 (the range's top)
# ttm.scale_in_window_minutes, tuned as an HPA's stabilisation window is: the config default (45)
# with every upper bound, the shorter windows with a coarser upper-bound grid (fewer simulations)
DEFAULT_WINDOW = 45
SHORT_WINDOWS = (10, 30)
SHORT_WINDOW_BOUNDS = (0.70, 0.80, 0.90, 1.00)
# controller.cpu_scale_up_threshold, tier 1's target (the forecast's own sizing runs at it, so it
# is ttm's counterpart of the HPA's target): 0.80 (the config default until 2026-12-07)
# everywhere, and the higher config default since then, 0.90, at the upper bounds where it binds
# (at u_b >= it the headroom term no longer does)
BASE_TIER1 = 0.80
HIGH_TIER1 = 0.90
HIGH_TIER1_WINDOWS = (10, DEFAULT_WINDOW)
HIGH_TIER1_BOUNDS = (0.90, 1.00)
# the knob grid (upper bound, window, tier-1 target) of the validation choice and of the test
# frontier alike, so that the chosen point is one of the frontier's points
KNOBS = [(u, DEFAULT_WINDOW, BASE_TIER1) for u in UPPER_BOUNDS] + \
        [(u, w, BASE_TIER1) for w in SHORT_WINDOWS for u in SHORT_WINDOW_BOUNDS] + \
        [(u, w, HIGH_TIER1) for w in HIGH_TIER1_WINDOWS for u in HIGH_TIER1_BOUNDS]
# SLO levels of the frontier comparison: those of the HPA at these targets
REFERENCE_TARGETS = ("0.50", "0.60", "0.70")
VAL_CONFIDENCE = (0.0, 0.7)
MAX_ACTIONS_RATIO = 2.0  # the churn goal: at most 2x the equal-SLO HPA point's scaling actions
VALIDATION = (52.5, 70)  # percent of the trace's minutes: the last quarter of the training part
# Every run first replays this much of the trace before its part, counted in no figure, so that
# each controller is measured in the state it has after running (the core's longest memory, the
# 240 forecasts of its headroom and selection rings), not from a cold start with a guessed fleet.
WARM_UP = "240m"


def trigger_columns(path):
    """The per-trigger columns (inv_*) of the Azure Functions total file whose mean is at least
    TRIGGER_MIN_MEAN invocations per minute, in file order."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = [c for c in rows[0] if c.startswith("inv_")]
    return [c for c in cols if sum(float(r[c]) for r in rows) / len(rows) >= TRIGGER_MIN_MEAN]


def traces(trace_dir, per_trigger=True):
    """The simulator traces of the README table, with their flags and upstream source; with
    per_trigger also one trace per Azure Functions trigger type (trigger_columns)."""
    bb = "bitbrains_rnd_top20vm_cpu_5min.csv"
    with open(os.path.join(trace_dir, bb)) as f:
        header = f.readline().strip().split(",")
    vms = [c for c in header if c.startswith("vm")][:3]
    out = [
        dict(name="nasa", family="nasa", file="nasa_http_1995_requests_1min.csv",
             flags=["--time-column", "timestamp_local", "--value-column", "requests",
                    "--step", "1m", "--mask-column", "outage"],
             source="NASA-HTTP logs (Kennedy Space Center WWW server, July-August 1995, "
                    "Internet Traffic Archive): requests per minute; the documented outage "
                    "masked"),
        dict(name="azure", family="azure", file=AZURE_TOTAL,
             flags=["--time-column", "minute_of_day", "--value-column", "total_invocations",
                    "--step", "1m"],
             source="Azure Functions 2019 trace (Shahrad et al., ATC'20): total invocations per "
                    "minute of 500 busy functions, 8 hours"),
    ]
    for col in trigger_columns(os.path.join(trace_dir, AZURE_TOTAL)) if per_trigger else []:
        trigger = col[len("inv_"):]
        out.append(dict(name=f"azure-{trigger}", family="azure", file=AZURE_TOTAL,
                        flags=["--time-column", "minute_of_day", "--value-column", col,
                               "--step", "1m"],
                        source="Azure Functions 2019 trace (Shahrad et al., ATC'20): invocations "
                               f"per minute of the {trigger}-triggered functions among 500 busy "
                               "ones, 8 hours"))
    for vm in vms:
        out.append(dict(name=f"bitbrains-{vm.split('_')[0]}", family="bitbrains", file=bb,
                        flags=["--time-column", "unix_s", "--value-column", vm, "--step", "5m",
                               "--scale", "10"],
                        source=f"Bitbrains GWA-T-12 rnd (Shen, van Beek, Iosup, CCGrid 2015): "
                               f"CPU % of {vm.split('_')[0]}, x10 as requests per minute"))
    return out


AZURE_FUNCTIONS = "azure_functions_2019_500fn_8h_1min.csv"


def function_traces(trace_dir, out_dir, min_mean=TRIGGER_MIN_MEAN):
    """One simulator trace per function of the per-function Azure Functions file (one row per
    function, one column per minute of day) whose mean is at least min_mean invocations per
    minute, busiest first: the wide rows are written as columns of one CSV in out_dir
    (minute_of_day, then fn_<trigger>_<first 8 hex of HashFunction>) that the traces read. A
    second set of real series beside the scaling benchmark's, for the default's rule."""
    src = os.path.join(trace_dir, AZURE_FUNCTIONS)
    with open(src, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header[:4] != ["HashOwner", "HashApp", "HashFunction", "Trigger"]:
            raise SystemExit(f"{src}: expected HashOwner,HashApp,HashFunction,Trigger first, "
                             f"got {','.join(header[:4])}")
        minutes = header[4:]
        series = []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise SystemExit(f"{src}:{line}: {len(row)} fields, the header has {len(header)}")
            try:
                values = [float(v) for v in row[4:]]
            except ValueError as e:
                raise SystemExit(f"{src}:{line}: {e}") from None
            if values and sum(values) / len(values) >= min_mean:
                series.append((-sum(values), row[3], row[2][:8], values))
    series.sort()
    os.makedirs(out_dir, exist_ok=True)
    long = os.path.join(out_dir, "azure-functions-by-column.csv")
    with open(long, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["minute_of_day"] + [f"fn_{trigger}_{fn}" for _, trigger, fn, _ in series])
        for i, minute in enumerate(minutes):
            w.writerow([minute] + [f"{values[i]:g}" for *_, values in series])
    return [dict(name=f"azure-fn-{trigger}-{fn}", family="azure", file=long,
                 flags=["--time-column", "minute_of_day", "--value-column",
                        f"fn_{trigger}_{fn}", "--step", "1m"],
                 source="Azure Functions 2019 trace (Shahrad et al., ATC'20): invocations per "
                        f"minute of one {trigger}-triggered function, 8 hours")
            for _, trigger, fn, _ in series]


class Runner:
    """Runs simulations --jobs at a time for every trace at once (the traces' pipelines run side
    by side, so both cores stay busy while one trace waits for its validation choice)."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)

    def show(self, argv):
        """A command line with the repository root and the traces folder made relative."""
        text = " ".join(shlex.quote(a) for a in argv)
        text = text.replace(self.args.traces.rstrip("/") + "/", "${AETHER_SHARED_DIR}/traces/")
        return text.replace(ROOT + "/", "")

    def argv(self, trace, extra):
        argv = [self.args.sim, "--trace", os.path.join(self.args.traces, trace["file"])]
        return argv + trace["flags"] + ["--warm-up", WARM_UP] + extra + ["--json", "--quiet"]

    def template(self, log, what, trace, extra, note=None):
        """Records a command (a sweep once, with its swept flags as placeholders) in log."""
        log.append((f"{what}; {note}" if note else what, self.show(self.argv(trace, extra))))

    def sim(self, what, argv):
        with self.lock:
            print("+", self.show(argv), flush=True)
        p = subprocess.run(argv, capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stdout[-4000:] + p.stderr[-4000:])
            raise SystemExit(f"bench-scaling: {what} failed (exit {p.returncode})")
        return json.loads(p.stdout)

    def submit(self, jobs):
        """Queues [(key, what, trace, extra)]; {key: future of the result JSON}."""
        return {k: self.pool.submit(self.sim, what, self.argv(trace, extra))
                for k, what, trace, extra in jobs}


def collect(futs):
    return {k: f.result() for k, f in futs.items()}


def point(res, key, label):
    x = res[key]
    return dict(slo=x["slo_violation_minutes"], cost=x["instance_minutes"], label=label,
                actions=x["scaling_actions"], res=x)


def model_horizon(model):
    """The horizon (minutes) written in a model file's metadata."""
    import onnx
    props = {p.key: p.value for p in onnx.load(model, load_external_data=False).metadata_props}
    if "aether.horizon" not in props:
        sys.exit(f"bench-scaling: {model}: no aether.horizon in the model's metadata")
    return int(props["aether.horizon"])


def forecaster_flags(forecaster, model):
    """`auto` without the model runs auto with no model loaded, at the model's horizon, so that
    it differs from `auto` only by the model's candidacy."""
    if forecaster == AUTO_NO_MODEL:
        return ["--forecaster", "auto", "--horizon", str(model_horizon(model))]
    return ["--forecaster", forecaster, "--model", model]


def ttm_flags(forecaster, model, knob, conf):
    bound, window, tier1 = knob
    return ["--controller", "ttm", *forecaster_flags(forecaster, model),
            "--upper-bound-util", f"{bound:.2f}", "--scale-in-window", str(window),
            "--scale-up-threshold", f"{tier1:.2f}", "--confidence-threshold", f"{conf:.2f}"]


def ttm_template(model):
    """The ttm flags of a sweep's command template, with the swept flags as placeholders."""
    return ["--controller", "ttm", "--forecaster", "F", "--model", model,
            "--upper-bound-util", "U", "--scale-in-window", "W", "--scale-up-threshold", "T1",
            "--confidence-threshold", "C"]


def chosen_knob(c):
    """The knob-grid point of a validation choice (results saved before the tier-1 target was a
    knob hold BASE_TIER1, the default then)."""
    return (c["bound"], c["window"], c.get("tier1", BASE_TIER1))


def knob_label(knob):
    """A knob-grid point as the frontier tables show it: '0.95 w30', with a tier-1 target other
    than BASE_TIER1 '1.00 w10 t0.90'."""
    bound, window, tier1 = knob
    return f"{bound:.2f} w{window}" + ("" if tier1 == BASE_TIER1 else f" t{tier1:.2f}")


def stabilizations(kind):
    """The stabilisation windows a sweep of kind runs: the HPA's tuned ones, else the default."""
    return HPA_STABILIZATIONS if kind == "hpa" else (None,)


def sweep_label(target, stabilization):
    """A swept point as the tables show it: '0.60' (default stabilisation) or '0.60 s10m'."""
    return f"{target:.2f}" + (f" s{stabilization}" if stabilization else "")


def sweep_flags(kind, target, stabilization):
    """aether-sim's flags for one swept point of kind (hpa or an HPA-plus-forecast baseline)."""
    return (["--controller", kind, "--hpa-target", f"{target:.2f}"] +
            (["--hpa-stabilization", stabilization] if stabilization else []))


def submit_sweep(r, log, trace, part, targets, kind="hpa"):
    """The controller (hpa or an HPA-plus-forecast baseline) at every target (the HPA also at
    every stabilisation window), queued."""
    windows = stabilizations(kind)
    swept = ["--hpa-stabilization", "S"] if len(windows) > 1 else []
    note = f"T = {targets[0]:.2f} .. {targets[-1]:.2f}"
    if swept:
        note += "; S = the default (5m), " + ", ".join(w for w in windows if w)
    r.template(log, f"{kind} over its target ({trace['name']})", trace,
               part + ["--controller", kind, "--hpa-target", "T"] + swept, note)
    return r.submit([((t, w), f"{kind} target {sweep_label(t, w)}", trace,
                      part + sweep_flags(kind, t, w))
                     for t in targets for w in windows])


def sweep_points(futs, targets, kind="hpa"):
    res = collect(futs)
    return [point(res[(t, w)], kind, sweep_label(t, w))
            for t in targets for w in stabilizations(kind)]


def bounds_text(bounds):
    return ", ".join(f"{u:.2f}" for u in bounds)


def grid_text():
    """The knob grid in words."""
    return (f"U in {bounds_text(UPPER_BOUNDS)} at W = {DEFAULT_WINDOW} (the config default), "
            f"U in {bounds_text(SHORT_WINDOW_BOUNDS)} at W = " +
            ", ".join(str(w) for w in SHORT_WINDOWS) + f", all at T1 = {BASE_TIER1:.2f} (the "
            f"config default until 2026-12-07), and U in {bounds_text(HIGH_TIER1_BOUNDS)} at W = " +
            ", ".join(str(w) for w in HIGH_TIER1_WINDOWS) + f" with T1 = {HIGH_TIER1:.2f} "
            f"(the config default since then; {len(KNOBS)} points)")


def grid_note(confs):
    return ("F = " + ", ".join(FORECASTERS) + f" ({AUTO_NO_MODEL}: F = auto without --model, "
            "--horizon the model's); " + grid_text() + "; C = " +
            (", ".join(f"{c:.1f}" for c in confs) if confs else "the validation choice of F"))


def submit_validation(r, log, trace, model):
    """The validation slice's HPA sweep and every forecaster's tunable grid, queued."""
    part = ["--from", f"{VALIDATION[0]}%", "--to", f"{VALIDATION[1]}%", "--startup-delay", "3m"]
    hpa = submit_sweep(r, log, trace, part, HPA_TARGETS)
    r.template(log, f"ttm on the validation slice ({trace['name']})", trace,
               part + ttm_template(model), grid_note(VAL_CONFIDENCE))
    ttm = r.submit([((f, k, c), f"validate ttm {f} {knob_label(k)} {c}", trace,
                     part + ttm_flags(f, model, k, c))
                    for f in FORECASTERS for k in KNOBS for c in VAL_CONFIDENCE])
    return hpa, ttm


def choose_tunables(hpa_futs, ttm_futs):
    """Every forecaster's tunables chosen on the validation slice (never the test part)."""
    hpa = sweep_points(hpa_futs, HPA_TARGETS)
    res = collect(ttm_futs)
    chosen = {}
    for f in FORECASTERS:
        pts = [dict(point(res[(f, k, c)], "ttm", f"{knob_label(k)}/{c:.1f}"), knob=k, conf=c)
               for k in KNOBS for c in VAL_CONFIDENCE]
        within = fr.within_churn(pts, hpa, MAX_ACTIONS_RATIO)
        best = fr.choose(within or pts, hpa)
        saving, match = fr.saving_at_equal_slo(best, hpa)
        bound, window, tier1 = best["knob"]
        chosen[f] = dict(bound=bound, window=window, tier1=tier1, conf=best["conf"],
                         slo=best["slo"], cost=best["cost"], saving=saving,
                         hpa_target=match["label"] if match else None,
                         actions=best["actions"],
                         hpa_actions=fr.churn_reference(best, hpa)["actions"],
                         minutes=best["res"]["minutes"], grid=len(pts),
                         within_churn=len(within))
    return dict(hpa=[dict(slo=p["slo"], cost=p["cost"], label=p["label"]) for p in hpa],
                chosen=chosen, minutes=hpa[0]["res"]["minutes"])


def strip(points):
    return [dict(slo=p["slo"], cost=p["cost"], label=p["label"],
                 actions=p["actions"],
                 actions_per_day=p["res"]["scaling_actions_per_day"]) for p in points]


def startups(args):
    """The start-up delays of the fixed-default table: 3m always (the equal-SLO tables' own)."""
    return sorted({"3m", *[d.strip() for d in args.startups.split(",") if d.strip()]},
                  key=lambda d: int(d[:-1]))


def submit_fixed(r, log, trace, split, model):
    """The test part's sweeps that depend on no validation choice, and the fixed defaults (every
    controller at its defaults, ttm as shipped: forecaster auto), queued."""
    part = ["--from", f"{split}%", "--startup-delay", "3m"]
    futs = dict(hpa=submit_sweep(r, log, trace, part, HPA_TARGETS))
    for kind in ("holt-winters", "linear"):
        futs[kind] = submit_sweep(r, log, trace, part, BASELINE_TARGETS, kind)
    jobs = [(d, f"defaults, start-up {d} ({trace['name']})", trace,
             ["--from", f"{split}%", "--startup-delay", d, "--controller", CONTROLLERS,
              "--forecaster", "auto", "--model", model]) for d in startups(r.args)]
    for d, what, _, extra in jobs:
        r.template(log, what, trace, extra)
    futs["defaults"] = r.submit(jobs)
    return futs


def test_part(r, log, trace, split, model, val, fixed):
    """The ttm frontier of every forecaster at its validation-chosen confidence threshold, with
    the fixed sweeps gathered; the chosen point is on the frontier's grid."""
    part = ["--from", f"{split}%", "--startup-delay", "3m"]
    r.template(log, f"ttm frontier on the test part ({trace['name']})", trace,
               part + ttm_template(model), grid_note(None))
    futs = r.submit([((f, k), f"test ttm {f} {knob_label(k)}", trace,
                      part + ttm_flags(f, model, k, val["chosen"][f]["conf"]))
                     for f in FORECASTERS for k in KNOBS])
    out = dict(hpa=strip(sweep_points(fixed["hpa"], HPA_TARGETS)))
    for kind in ("holt-winters", "linear"):
        out[kind] = strip(sweep_points(fixed[kind], BASELINE_TARGETS, kind))
    res = collect(futs)
    out["ttm"] = {}
    for f in FORECASTERS:
        c = val["chosen"][f]
        pts = [point(res[(f, k)], "ttm", knob_label(k)) for k in KNOBS]
        out["ttm"][f] = dict(sweep=strip(pts), chosen=res[(f, chosen_knob(c))]["ttm"])
    defaults = collect(fixed["defaults"])
    out["reactive"] = defaults["3m"]["reactive"]
    out["oracle"] = defaults["3m"]["oracle"]
    return out, defaults


def bench_trace(r, trace):
    """One trace end to end: validation choice, test part, fixed defaults."""
    t0 = time.monotonic()
    log = []
    model, kind, what = provenance.choose(r.args, trace["family"], r.args.work, PYTHON,
                                          EXPORT_ONNX)
    val_futs = submit_validation(r, log, trace, model)
    fixed = submit_fixed(r, log, trace, r.args.split, model)
    val = choose_tunables(*val_futs)
    for f, c in val["chosen"].items():
        with r.lock:
            print(f"bench-scaling: {trace['name']}: {f} tuned on the validation slice over "
                  f"{c['grid']} points: {tunables_text(c)} ({c['slo']:,} SLO "
                  f"min, saving {pct(c['saving'])} against the validation HPA at "
                  f"{c['hpa_target'] or '-'})", flush=True)
    test, defaults = test_part(r, log, trace, r.args.split, model, val, fixed)
    x = dict(trace=trace, model=dict(path=r.show([model]), kind=kind, what=what), val=val,
             test=test, defaults=defaults, commands=log, seconds=time.monotonic() - t0)
    x["summary"] = summarise(x)
    print(f"bench-scaling: {trace['name']} took {x['seconds']:.0f} s; "
          f"{verdict(trace['name'], x['summary'])}", flush=True)
    with open(os.path.join(r.args.work, f"{trace['name']}-results.json"), "w") as f:
        json.dump({k: v for k, v in x.items() if k != "summary"}, f, indent=1)
    return x


def summarise(x):
    """The headline numbers of one trace: the saving at equal SLO of every forecaster's chosen
    point, the model value, and the same for the HPA-plus-forecast baselines at target 0.6."""
    t = x["test"]
    hpa = t["hpa"]
    s = dict(rows=[])
    for f in FORECASTERS:
        c = t["ttm"][f]["chosen"]
        bound, window, tier1 = chosen_knob(x["val"]["chosen"][f])
        p = dict(slo=c["slo_violation_minutes"], cost=c["instance_minutes"])
        saving, match = fr.saving_at_equal_slo(p, hpa)
        s["rows"].append(dict(name=f"ttm / {f}", slo=p["slo"], cost=p["cost"], saving=saving,
                              bound_saving=fr.saving_bound(p, hpa),
                              match=match, actions_per_day=c["scaling_actions_per_day"],
                              bound=bound, window=window, tier1=tier1,
                              conf=x["val"]["chosen"][f]["conf"]))
    for kind in ("holt-winters", "linear"):
        d = next(p for p in t[kind] if p["label"] == "0.60")
        saving, match = fr.saving_at_equal_slo(d, hpa)
        s["rows"].append(dict(name=f"{kind} (HPA 0.60 + forecast floor)", slo=d["slo"],
                              cost=d["cost"], saving=saving, match=match,
                              bound_saving=fr.saving_bound(d, hpa),
                              actions_per_day=d["actions_per_day"]))
    d = x["defaults"]["3m"]["ttm"]
    p = dict(slo=d["slo_violation_minutes"], cost=d["instance_minutes"])
    saving, match = fr.saving_at_equal_slo(p, hpa)
    ex = extras(d)
    s["shipped"] = dict(name="ttm / auto at the shipped defaults", slo=p["slo"], cost=p["cost"],
                        bound=ex.get("upper_bound_utilization"), conf=ex.get("confidence_threshold"),
                        tier1=ex.get("cpu_scale_up_threshold"),
                        saving=saving, match=match, bound_saving=fr.saving_bound(p, hpa),
                        actions_per_day=d["scaling_actions_per_day"])
    o = t["oracle"]
    saving, match = fr.saving_at_equal_slo(dict(slo=o["slo_violation_minutes"],
                                                cost=o["instance_minutes"]), hpa)
    s["oracle"] = dict(slo=o["slo_violation_minutes"], cost=o["instance_minutes"],
                       saving=saving, match=match)
    by = {row["name"]: row["saving"] for row in s["rows"]}
    s["model_value"] = fr.value_over(by["ttm / model"], [by[f"ttm / {f}"] for f in SIMPLE])
    s["model_value_ff"] = model_value_ff(x)
    # the model ablated from the shipped path: auto against auto over the simple candidates only
    s["auto_model_value"] = fr.value_over(by["ttm / auto"], [by[f"ttm / {AUTO_NO_MODEL}"]])
    s["auto_model_value_ff"] = model_value_ff(x, "auto", (AUTO_NO_MODEL,))
    # frontier against frontier: at the SLO of the HPA at each reference target, the cheapest
    # swept point of each controller with no more SLO minutes
    s["frontier"] = []
    for target in REFERENCE_TARGETS:
        level = next(p for p in hpa if p["label"] == target)["slo"]
        ref = fr.cheapest_within(hpa, level)  # the HPA's own cheapest point at that level
        row = dict(target=target, slo=level, cost=ref["cost"], hpa=ref["label"], savings={})
        sweeps = [(f"ttm / {f}", t["ttm"][f]["sweep"]) for f in FORECASTERS]
        sweeps += [(k, t[k]) for k in ("holt-winters", "linear")]
        for name, pts in sweeps:
            b = fr.cheapest_within(pts, ref["slo"])
            row["savings"][name] = None if b is None else 1 - b["cost"] / ref["cost"]
        row["model_value"] = fr.value_over(row["savings"]["ttm / model"],
                                           [row["savings"][f"ttm / {f}"] for f in SIMPLE])
        s["frontier"].append(row)
    simple = [(by[f"ttm / {f}"], f) for f in SIMPLE if by[f"ttm / {f}"] is not None]
    s["best_simple"] = max(simple)[1] if simple else None
    rows = {row["name"]: row for row in s["rows"]}
    s["dominating"] = [f for f in SIMPLE if fr.dominates(rows[f"ttm / {f}"], rows["ttm / model"])]
    s["goals"] = goals(x, rows, s["shipped"])
    s["model_kind"] = x["model"]["kind"]
    return s


def model_value_ff(x, model="model", others=SIMPLE):
    """Model value, frontier against frontier (frontier.model_value_ff): each path's
    validation-chosen point against the other path's sweep on the test part; the model's path
    against the simple ones', or `auto`'s against `auto` without the model."""
    t = x["test"]

    def path(f):
        sweep = t["ttm"][f]["sweep"]
        c = x["val"]["chosen"][f]
        label = knob_label(chosen_knob(c))
        return dict(name=f, sweep=sweep, point=next(p for p in sweep if p["label"] == label))
    return fr.model_value_ff(path(model), [path(f) for f in others])


def ff_text(v):
    """'+1.2 (vs drift)' for one direction of the frontier-against-frontier model value."""
    return "n/a" if v[0] is None else f"{100 * v[0]:+.1f} (vs {v[1]})"


def ff_pair(ff):
    """Both directions of a frontier-against-frontier value as text, the worse first."""
    vs = sorted((ff[k] for k in ("forward", "reverse")), key=lambda v: (v[0] is None, v[0] or 0))
    return [ff_text(v) for v in vs]


def auto_value_text(s):
    """The model's value inside `auto`: by the chosen points, then frontier against frontier
    (points, without the name of the only other path)."""
    vs = sorted((s["auto_model_value_ff"][k][0] for k in ("forward", "reverse")),
                key=lambda v: (v is None, v or 0))
    return f"{mv_text(s['auto_model_value'])}; " + " / ".join(mv_text(v) for v in vs)


def extras(res):
    """A controller's extra figures (flat in the result, or under "extra")."""
    return res.get("extra", res)


def actions_vs_hpa(row):
    m = row["match"]
    return row["actions_per_day"] / m["actions_per_day"] if m and m["actions_per_day"] else None


def step_mase(res, step):
    xs = res.get("mase_by_step") or []
    return xs[step - 1] if len(xs) >= step else None


def goals(x, rows, shipped):
    """The figures the forecast tier's goals are judged by, at start-up 3 min on the test part."""
    chosen = {f: x["test"]["ttm"][f]["chosen"] for f in ("model", "drift")}
    auto = rows["ttm / auto"]
    return dict(saving_auto=auto["saving"], bound_auto=auto["bound_saving"],
                saving_shipped=shipped["saving"], bound_shipped=shipped["bound_saving"],
                mase3_model=step_mase(chosen["model"], 3), mase5_model=step_mase(chosen["model"], 5),
                mase3_drift=step_mase(chosen["drift"], 3), mase5_drift=step_mase(chosen["drift"], 5),
                actions_auto=actions_vs_hpa(auto), actions_shipped=actions_vs_hpa(shipped),
                driven=extras(x["defaults"]["3m"]["ttm"]))


def pct(v):
    return "n/a" if v is None else f"{100 * v:+.1f}%"


def saving_text(row):
    if row["saving"] is None and row.get("bound_saving") is not None:
        return f">= {pct(row['bound_saving'])}"
    return pct(row["saving"])


def match_text(m):
    return "no HPA target is that good" if m is None else \
        f"HPA {m['label']}: {m['slo']:,} SLO min, {m['cost']:,.0f} inst-min"


def steps_text(xs, digits=3):
    return " / ".join("-" if v is None else f"{v:.{digits}f}" for v in xs) if xs else "-"


def mv_text(v):
    return "n/a" if v is None else f"{100 * v:+.1f}"


def saving_phrase(row):
    """What a row's saving at equal SLO says, in words."""
    if row["saving"] is None:
        bound = "" if row["bound_saving"] is None else f", at least {pct(row['bound_saving'])}"
        return (f"is safer than every swept HPA target ({row['slo']:,} SLO minutes: no equal-SLO "
                f"saving{bound} against the HPA's safest point)")
    verb = "saves" if row["saving"] > 0.005 else "does **not** save:"
    return f"{verb} {pct(row['saving'])} at equal SLO"


def verdict(name, s):
    """One honest paragraph per trace, from the numbers alone."""
    rows = {row["name"]: row for row in s["rows"]}
    m = rows["ttm / model"]
    a = rows["ttm / auto"]
    sh = s["shipped"]
    tun = "" if sh["bound"] is None else f", {settings_text(sh)}"
    parts = [f"`ttm` as shipped (`auto`, model {s['model_kind']}{tun}) "
             f"{saving_phrase(s['shipped'])}; tuned on the validation slice ({tunables_text(a)}) "
             f"it {saving_phrase(a)}"]
    ratio = actions_vs_hpa(a)
    if ratio is not None:
        parts.append(f"tuned `auto` scales {a['actions_per_day']:,.0f} times a day, {ratio:.1f}x "
                     f"the equal-SLO HPA's")
    if m["saving"] is None:
        bound = "" if m["bound_saving"] is None else \
            f" (it saves at least {pct(m['bound_saving'])} against the HPA's safest point)"
        parts.append(f"`ttm` with the model ({m['slo']:,} SLO minutes) is safer than every swept "
                     f"HPA target, so it has no equal-SLO saving{bound}")
    elif m["saving"] <= 0.005:
        parts.append(f"`ttm` with the model does **not** save at equal SLO "
                     f"({pct(m['saving'])} against the cheapest HPA target with no more SLO "
                     f"minutes)")
    else:
        parts.append(f"`ttm` with the model saves {pct(m['saving'])} of instance-minutes at "
                     f"equal SLO")
    mv = s["model_value"]
    best = s["best_simple"]
    if s["dominating"]:
        parts.append("**the model's operating point is dominated** (no fewer SLO minutes and no "
                     "lower cost) by `ttm` driven by " +
                     ", ".join(f"`{f}`" for f in s["dominating"]))
    if s["dominating"]:
        parts.append("so the model earns nothing here whatever its saving")
    elif mv is None:
        parts.append("the model value cannot be computed (a saving is undefined)")
    elif mv <= 0.005:
        parts.append(f"**the model earns nothing measurable**: the best simple forecaster "
                     f"(`{best}`) saves {pct(rows['ttm / ' + best]['saving'])} through the same "
                     f"path (model value {100 * mv:+.1f} points)")
    else:
        parts.append(f"the model adds {100 * mv:+.1f} points over the best simple forecaster "
                     f"(`{best}`, {pct(rows['ttm / ' + best]['saving'])})")
    ff = s["model_value_ff"]
    fw, rv = ff["forward"], ff["reverse"]
    if fw[0] is None and rv[0] is None:
        parts.append("the model value frontier against frontier cannot be computed either (no "
                     "simple forecaster's sweep reaches the model's SLO, nor the model's theirs)")
    else:
        texts = sorted([(v[0], f"{100 * v[0]:+.1f} points ({what} `{v[1]}`)")
                        for v, what in ((fw, "the model's point against the frontier of"),
                                        (rv, "the model's frontier against the point of"))
                        if v[0] is not None])
        parts.append("model value frontier against frontier: " +
                     " and ".join(t for _, t in texts))
    parts.append(f"the model's value inside `auto` (`auto` against `auto` without the model, "
                 f"points by the chosen points; frontier against frontier): "
                 f"{auto_value_text(s)}")
    fm = next(r for r in s["frontier"] if r["target"] == "0.60")
    if fm["model_value"] is not None:
        parts.append(f"frontier against frontier at the SLO of the HPA at 0.60 ({fm['slo']:,} "
                     f"minutes) the model's saving is {pct(fm['savings']['ttm / model'])} and "
                     f"its value over the best simple forecaster {100 * fm['model_value']:+.1f} "
                     f"points")
    if m["match"] is not None and m["match"]["actions_per_day"] > 0:
        ratio = m["actions_per_day"] / m["match"]["actions_per_day"]
        parts.append(f"it scales {m['actions_per_day']:,.0f} times a day, {ratio:.1f}x the "
                     f"equal-SLO HPA's {m['match']['actions_per_day']:,.0f}")
    return f"**{name}**: " + "; ".join(parts) + "."


def tunables_text(row):
    """A ttm operating point's validation-chosen tunables in words."""
    tier1 = row["tier1"]
    return (f"u_b {row['bound']:.2f}, window {row['window']} min, " +
            ("" if tier1 == BASE_TIER1 else f"tier 1 {tier1:.2f}, ") + f"conf {row['conf']:.1f}")


def shipped_extras(results):
    return extras(results[0]["defaults"]["3m"]["ttm"]) if results else {}


def ceiling_text(results):
    """ttm.forecast_ceiling, which the benchmark leaves at the config default."""
    ex = shipped_extras(results)
    if "forecast_ceiling" not in ex:
        return "`ttm.forecast_ceiling` at the config default"
    return f"`ttm.forecast_ceiling` = {'true' if ex['forecast_ceiling'] else 'false'}"


def headroom_text(results):
    """ttm.headroom_quantile, which the benchmark leaves at the config default."""
    ex = shipped_extras(results)
    if "headroom_quantile" not in ex:
        return "`ttm.headroom_quantile` at the config default"
    return f"`ttm.headroom_quantile` = {ex['headroom_quantile']:.2f}"


def settings_text(sh):
    """u_b, tier 1's target and conf of a shipped-defaults row, as the run reported them."""
    tier1 = "" if sh.get("tier1") is None else f", tier 1 {sh['tier1']:.2f}"
    return f"u_b {sh['bound']:.2f}{tier1}, conf {sh['conf']:.1f}"


def shipped_settings(results):
    """settings_text of the shipped defaults, or a pointer to the config without the runs."""
    ex = shipped_extras(results)
    if "upper_bound_utilization" not in ex:
        return "every key at its config default"
    return settings_text(dict(bound=ex["upper_bound_utilization"],
                              tier1=ex.get("cpu_scale_up_threshold"),
                              conf=ex["confidence_threshold"]))


def shipped_tunables(results):
    """The ttm keys of the shipped defaults that the runs report, besides u_b and conf."""
    ex = shipped_extras(results)
    window = ex.get("scale_in_window_minutes")
    return ("" if window is None else f"`ttm.scale_in_window_minutes` = {window:.0f}, ") + \
        ceiling_text(results)


def num(v, fmt):
    return "n/a" if v is None else format(v, fmt)


def goals_table(results):
    """Per trace, the figures the forecast tier's goals are judged by."""
    L = ["## The forecast tier's goals, per trace (test part, start-up 3 min)", "",
         "`auto` as tuned on the validation slice and at the shipped defaults "
         f"({shipped_settings(results)}); model value and MASE as defined below (MASE of `ttm` "
         "driven by the "
         "model, against persistence at the same step; drift's for comparison); actions as a "
         "multiple of the equal-SLO HPA point's. Goals: saving >= 15% where the trace has a "
         "daily or weekly pattern and never negative; model value > 0 where the model drives; "
         "step-3 and step-5 MASE < 1 and below drift's (zero-shot); actions <= 2x the HPA's.", "",
         "| trace | model | saving, auto (tuned) | saving, auto (shipped defaults) | "
         "model value (points) | model value, frontier against frontier (worse / other "
         "direction) | the model's value inside auto (points; frontier against frontier, "
         "worse / other) | MASE step 3 / 5, model | MASE step 3 / 5, drift | "
         "actions x HPA, auto (tuned / defaults) | share driven by the model (defaults) |",
         "|---|---|---:|---:|---:|---:|---:|---|---|---|---:|"]
    for x in results:
        g = x["summary"]["goals"]
        sv = [pct(g[k]) if g[k] is not None else
              (f">= {pct(g[b])}" if g[b] is not None else "n/a")
              for k, b in (("saving_auto", "bound_auto"), ("saving_shipped", "bound_shipped"))]
        mv = mv_text(x["summary"]["model_value"])
        if x["summary"]["dominating"]:
            mv = f"none (dominated; raw {mv})"
        share = g["driven"].get("driven_model")
        ff = ff_pair(x["summary"]["model_value_ff"])
        L.append(f"| {x['trace']['name']} | {x['model']['kind']} | {sv[0]} | {sv[1]} | {mv} | "
                 f"{ff[0]} / {ff[1]} | {auto_value_text(x['summary'])} | "
                 f"{num(g['mase3_model'], '.3f')} / {num(g['mase5_model'], '.3f')} | "
                 f"{num(g['mase3_drift'], '.3f')} / {num(g['mase5_drift'], '.3f')} | "
                 f"{num(g['actions_auto'], '.1f')} / {num(g['actions_shipped'], '.1f')} | "
                 f"{num(share, '.2f')} |")
    return L + [""]


def write_report(args, r, results, seconds):
    zero_shot = all(x["model"]["kind"] == "zero-shot" for x in results)
    L = ["# Scaling benchmark: what the forecast tier is worth, at equal SLO"
         + (", zero-shot" if zero_shot else ""), "",
         f"Generated by `make bench-scaling{'-zero-shot' if zero_shot else ''}` "
         "(`bench/scaling/run.py`); do not edit by hand. Every "
         "number comes from `aether-sim` replaying a real trace through the node's own decision "
         "core (tier 1 every simulated second, the TTM manager every simulated minute) and "
         "through the baseline controllers; the service model, the SLO and every controller are "
         "described in [simulator.md](simulator.md).", "",
         "## Protocol", "",
         f"- Split: chronological. Training = the first {args.split}% of each trace's minutes, "
         f"test = the rest. Validation = {VALIDATION[0]}%..{VALIDATION[1]}% (the last quarter of "
         "the training part). Nothing is chosen on the test part.",
         f"- Warm-up: every run first replays the {WARM_UP[:-1]} minutes of the trace before its "
         "part (`aether-sim --warm-up`), counted in no figure, for every controller alike: each "
         "one is measured in the state it has after running that long (the core's longest "
         "memory is the 240 forecasts of its headroom and selection rings; a node restores its "
         "stored history at start), not from a cold start with a fleet sized for 60% "
         "utilisation of the first minute.",
         "- The model: no model is trained by the benchmark. `ttm` runs with the model given "
         "(default: the shipped default model, `models/ttm-aether.onnx`, window 30, horizon 5), "
         "or on a trace whose family has a leave-one-out model in `--loo-models` (trained with "
         "`train.py --exclude FAMILY`), with that one. **in-corpus** = the model's training "
         "corpus holds this trace's training part (the first 70%, and so the validation slice): "
         "its validation choice and its test figures are not zero-shot; **zero-shot** = it has "
         "seen nothing of the trace's family. The test part is unseen by every model. Per trace: "
         + "; ".join(f"{x['trace']['name']}: {x['model']['kind']}, {x['model']['what']}"
                     for x in results) + ".",
         "- Holt-Winters and linear (as `ttm` forecasters and as baselines) fit their parameters "
         "on the trace before the simulated part (`--from`): for the validation runs the trace "
         "before 52.5%, for the test runs the trace before 70%, refitted every simulated day on "
         "the last 7 days. drift's slope is over the last 5 minutes; seasonal-naive's season is "
         "1,440 minutes. These are fixed, not tuned.",
         "- Tunables of the forecast tier chosen on the validation slice, per forecaster "
         "(auto, auto without the model, the model and each simple one, the same grid for every path): the knob grid of "
         "`ttm.upper_bound_utilization` U, `ttm.scale_in_window_minutes` W (tuned as an "
         "operator tunes an HPA's stabilisation window) and `controller.cpu_scale_up_threshold` "
         "T1 (tier 1's target, at which the forecast's peak is sized: `ttm`'s counterpart of the "
         "HPA's target; it binds once U is above it), " + grid_text() +
         ": the shorter windows and the higher T1 get coarser grids to keep the number of "
         "simulations in check; x `ttm.confidence_threshold` in " +
         ", ".join(f"{c:.1f}" for c in VAL_CONFIDENCE) +
         f" ({len(KNOBS) * len(VAL_CONFIDENCE)} points each); the point with the "
         "largest saving at equal SLO against the HPA swept on the same slice (ties: fewer SLO "
         "minutes); the choice of each is in the table *How each tunable was chosen*. Churn "
         f"bounds the choice: only the points whose scaling actions are at most "
         f"{MAX_ACTIONS_RATIO:g}x those of their equal-SLO HPA point on the same slice (of the "
         "HPA's safest point where none is as safe), the churn goal's budget, are eligible; "
         "where none is, every point is; the goal itself is checked on the test part, in the "
         "column *x HPA's*. "
         f"Fixed, not tuned here: {ceiling_text(results)} and {headroom_text(results)} (the "
         "config defaults) and tier 1's scale-down threshold (the config default, 0.2).",
         "- **Saving at equal SLO**: 1 - (instance-minutes) / (instance-minutes of the cheapest "
         f"HPA target, swept {HPA_TARGETS[0]:.2f}..{HPA_TARGETS[-1]:.2f} by 0.02 on the test part, "
         "each at a scale-down stabilisation window of 5 min (the default; a point labelled "
         "`0.60`), " + ", ".join(w for w in HPA_STABILIZATIONS if w) + " (labelled `0.60 s1m`), "
         "with no more SLO-violation minutes). Negative = costlier than an HPA that is as safe. "
         "n/a = no HPA target is as safe; then `>= x` is the saving against the HPA's safest "
         "point, a lower bound as long as a safer HPA costs more.",
         "- **Model value**: saving of `ttm` with the model minus the best saving of `ttm` "
         "driven by a simple forecaster (persistence, drift, seasonal-naive, fitted "
         "Holt-Winters, linear: every simple candidate of `auto`; and periodic, which is not one), each at its own validation-chosen tunables, through the same path. "
         "**Model value, frontier against frontier**: the same points, each compared with the "
         "other path's test sweep at its own SLO minutes (defined in *Model value* below), so "
         "that it exists where no HPA target is as safe. **The model's value inside `auto`**: "
         f"the same two measures for `auto` against `{AUTO_NO_MODEL}` (`auto` with no model "
         "loaded: the same selection over the simple candidates only), the model ablated from "
         "the shipped path.",
         "- Start-up delay 3 minutes; capacity sized so that the trace's 99.5th-percentile load "
         "needs 20 instances at 70%; SLO: a minute violates it when the load exceeds 90% of ready "
         "capacity (compared with the core's epsilon, 1e-9) or any request is dropped.",
         f"- Wall time of this run: {seconds / 60:.1f} min with at most {args.jobs} simulations "
         "at a time on a 2-core machine shared with other work.", ""]
    L += ["## Verdict per trace", ""]
    for x in results:
        L += [verdict(x["trace"]["name"], x["summary"]), ""]
    L += goals_table(results)
    L += ["## Saving at equal SLO (test part, start-up 3 min)", "",
          "| trace | controller | tunables (validation) | SLO min | inst-min | saving at equal "
          "SLO | matched HPA point | actions/day | x HPA's |",
          "|---|---|---|---:|---:|---:|---|---:|---:|"]
    for x in results:
        s = x["summary"]
        for row in s["rows"]:
            tun = tunables_text(row) if "bound" in row else "HPA target 0.60"
            m = row["match"]
            ratio = (f"{row['actions_per_day'] / m['actions_per_day']:.1f}"
                     if m and m["actions_per_day"] else "-")
            L.append(f"| {x['trace']['name']} | {row['name']} | {tun} | {row['slo']:,} | "
                     f"{row['cost']:,.0f} | {saving_text(row)} | {match_text(m)} | "
                     f"{row['actions_per_day']:,.0f} | {ratio} |")
        o = s["oracle"]
        L.append(f"| {x['trace']['name']} | oracle (perfect foresight) | - | {o['slo']:,} | "
                 f"{o['cost']:,.0f} | {pct(o['saving'])} | {match_text(o['match'])} | - | - |")
    L += ["", "## Model value", "",
          "The best simple forecaster is the one with the largest saving at equal SLO; one whose "
          "point is safer than every HPA target has no saving and is left out of that maximum, "
          "so when such a forecaster dominates the model's point the raw difference is not "
          "credited to the model.", "",
          "**Model value, frontier against frontier** needs no HPA match, so it is defined "
          "where the first is not: *model's point vs the simple frontiers* = 1 - the cost of "
          "`ttm` with the model at its validation-chosen point / the cost of each simple "
          "forecaster's test sweep (over the knob grid) at the same SLO minutes, "
          "linear between its frontier points (beyond its least safe point its cheapest point; "
          "n/a when the model's point is safer than all of it), the worst over the simple "
          "forecasters; *simple points vs the model's frontier* = 1 - the cost of the model's "
          "sweep at each simple forecaster's validation-chosen point's SLO / that point's cost, "
          "the worst. Positive = the model path is cheaper at equal SLO. Both read the test "
          "sweeps, so they describe the frontiers; the points compared were chosen on validation.",
          "",
          "| trace | saving, model | best simple forecaster | its saving | model value (points) | "
          "model value, frontier against frontier: model's point vs the simple frontiers | "
          "simple points vs the model's frontier |",
          "|---|---:|---|---:|---:|---:|---:|"]
    for x in results:
        s = x["summary"]
        by = {row["name"]: row["saving"] for row in s["rows"]}
        b = s["best_simple"]
        mv = mv_text(s["model_value"])
        if s["dominating"]:  # a simple forecaster is safer and cheaper: no credit for a saving
            mv = "none: dominated by " + ", ".join(s["dominating"]) + f" (raw {mv})"
        ff = s["model_value_ff"]
        L.append(f"| {x['trace']['name']} | {pct(by['ttm / model'])} | {b or '-'} | "
                 f"{pct(by['ttm / ' + b]) if b else 'n/a'} | {mv} | {ff_text(ff['forward'])} | "
                 f"{ff_text(ff['reverse'])} |")
    L += ["", "## Frontier against frontier (test part; descriptive)", "",
          "At the SLO level of the HPA at each reference target, the cheapest point of each "
          "controller's sweep on the test part with no more SLO-violation minutes, as a saving "
          "over the cheapest HPA point at that level (its target in brackets; n/a: no swept "
          "point is that safe). Both sides are swept on the "
          "test part, so this compares frontiers rather than tuned operating points; the model "
          "value here is the model's saving minus the best simple forecaster's at the same level.",
          "", "| trace | HPA target (SLO min) | " +
          " | ".join(f"ttm / {f}" for f in FORECASTERS) + " | holt-winters | linear | "
          "model value (points) |", "|---|---|" + "---:|" * (len(FORECASTERS) + 3)]
    for x in results:
        for row in x["summary"]["frontier"]:
            cells = [pct(row["savings"][f"ttm / {f}"]) for f in FORECASTERS]
            cells += [pct(row["savings"][k]) for k in ("holt-winters", "linear")]
            L.append(f"| {x['trace']['name']} | {row['target']} ({row['slo']:,} SLO min; "
                     f"cheapest HPA at that level: {row['hpa']}) | " +
                     " | ".join(cells) + f" | {mv_text(row['model_value'])} |")
    L += ["", "## Forecast error at every step (test part, chosen tunables)", "",
          "MAE of the demand forecast (requests per minute) and MASE against persistence at the "
          "same step (the newest closed minute repeated), steps 1..H.", "",
          "| trace | forecaster | MAE by step | MASE by step |", "|---|---|---|---|"]
    for x in results:
        t = x["test"]
        for f in FORECASTERS:
            c = t["ttm"][f]["chosen"]
            L.append(f"| {x['trace']['name']} | ttm / {f} | {steps_text(c.get('mae_by_step'), 1)}"
                     f" | {steps_text(c.get('mase_by_step'))} |")
        for kind in ("holt-winters", "linear"):
            d = x["defaults"]["3m"][kind]
            L.append(f"| {x['trace']['name']} | {kind} baseline | "
                     f"{steps_text(d.get('mae_by_step'), 1)} | "
                     f"{steps_text(d.get('mase_by_step'))} |")
    L += ["", "## How each tunable was chosen (validation slice)", "",
          "Actions x val HPA: the chosen point's scaling actions over the matched validation HPA "
          "point's (the safest HPA point's when none is as safe). The choice is among the points "
          f"at most {MAX_ACTIONS_RATIO:g}x; *within budget* counts them (of the grid's points), "
          "and 0 means none was, so the choice fell back to every point.", "",
          "| trace | forecaster | u_b | scale-in window (min) | tier-1 target | conf | "
          "val SLO min | val inst-min | val saving | matched val HPA target | actions x val HPA | "
          "within budget |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for x in results:
        for f in FORECASTERS:
            c = x["val"]["chosen"][f]
            ratio = (f"{c['actions'] / c['hpa_actions']:.1f}" if c["hpa_actions"] else "-")
            L.append(f"| {x['trace']['name']} | {f} | {c['bound']:.2f} | {c['window']} | "
                     f"{chosen_knob(c)[2]:.2f} | {c['conf']:.1f} | {c['slo']:,} | "
                     f"{c['cost']:,.0f} | {pct(c['saving'])} | {c['hpa_target'] or '-'} | {ratio} | "
                     f"{c.get('within_churn', '-')} of {c['grid']} |")
    L += ["", "## Frontiers (test part, start-up 3 min)", "",
          "Each controller swept over its operating knob on the test part: the HPA and the "
          "HPA-plus-forecast baselines over the HPA target, `ttm` over the knob grid "
          "(`ttm.upper_bound_utilization` and, after the `w`, `ttm.scale_in_window_minutes` in "
          "minutes, after a `t` tier 1's target `controller.cpu_scale_up_threshold` where it is "
          "not the default; at the validation-chosen confidence threshold). "
          "These sweeps use the test part and so are a description, not a tuned result: * marks "
          "the points on the controller's cost-vs-SLO frontier.", ""]
    for x in results:
        t = x["test"]
        L += [f"### {x['trace']['name']}", "", f"Source: {x['trace']['source']}.", "",
              f"Model: {x['model']['kind']}, {x['model']['what']}. Validation slice {x['val']['minutes']:,} minutes, test part "
              f"{t['oracle']['minutes']:,} minutes.", ""]
        series = [("hpa", t["hpa"])] + [(k, t[k]) for k in ("holt-winters", "linear")]
        series += [(f"ttm / {f}", t["ttm"][f]["sweep"]) for f in FORECASTERS]
        L += ["| controller | knob: (SLO min, inst-min, saving at equal SLO) |", "|---|---|"]
        for name, pts in series:
            front = {id(p) for p in fr.frontier(pts)}
            cells = []
            for p in pts:
                sv, _ = fr.saving_at_equal_slo(p, t["hpa"])
                cells.append(f"{p['label']}{'*' if id(p) in front else ''}: ({p['slo']:,}, "
                             f"{p['cost']:,.0f}, {pct(sv)})")
            L.append(f"| {name} | " + "; ".join(cells) + " |")
        L.append("")
    L += ["## Fixed defaults (every controller at its defaults)", "",
          "HPA target 0.6; `ttm` as shipped: `ttm.forecaster` = auto with the model, every "
          f"key at its config default ({shipped_settings(results)}, "
          f"{shipped_tunables(results)}); holt-winters/linear = HPA 0.6 plus their forecast floor. "
          "Kept for comparison with earlier runs; the equal-SLO tables above are the verdict.", ""]
    for x in results:
        for d in sorted(x["defaults"], key=lambda d: int(d[:-1])):
            res = x["defaults"][d]
            L += [f"{x['trace']['name']}, start-up {d}:", "",
                  "| controller | SLO min | inst-min | actions | actions/day | p95 ms | "
                  "mean util | MASE step 1 |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
            for name in ("reactive", "hpa", "holt-winters", "linear", "ttm", "oracle"):
                c = res[name]
                mase = c.get("mase")
                L.append(f"| {name} | {c['slo_violation_minutes']:,} | "
                         f"{c['instance_minutes']:,.0f} | {c['scaling_actions']:,} | "
                         f"{c['scaling_actions_per_day']:,.0f} | {c['p95_latency_ms']:.0f} | "
                         f"{c['mean_utilisation']:.3f} | "
                         f"{'-' if mase is None else f'{mase:.3f}'} |")
            L.append("")
    if args.notes:
        with open(args.notes) as f:
            L += [f.read().rstrip(), ""]
    L += ["## Exact commands", "",
          "Run from the repository root; `${AETHER_SHARED_DIR}` is the shared folder beside the "
          "clone. Intermediate files go to `build/bench-scaling/`. Sweeps are given once with "
          "the swept flags as placeholders.", "", "```"]
    for what, cmd in r.commands:
        L += [f"# {what}", cmd]
    L += ["```", ""]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(L))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sim", default=os.path.join(ROOT, "build", "bin", "aether-sim"))
    p.add_argument("--traces", default=os.path.join(ROOT, "..", "shared", "traces"))
    p.add_argument("--work", default=os.path.join(ROOT, "build", "bench-scaling"))
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    p.add_argument("--split", type=int, default=70, help="train on the first SPLIT%% (70)")
    p.add_argument("--model", default=os.path.join(ROOT, "models", "ttm-aether.onnx"),
                   help="the model ttm runs with (default: the shipped default model)")
    p.add_argument("--loo-models",
                   help="folder of leave-one-out models (without-FAMILY.onnx or .pt, from "
                        "make -C training loo): used on the traces of FAMILY instead of --model")
    p.add_argument("--notes", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "analysis.md"),
                   help="the hand-written reading appended to the report (analysis.md; "
                        "analysis-zero-shot.md for a run with --loo-models); '' for none")
    p.add_argument("--jobs", type=int, default=2, help="simulations at a time (2)")
    p.add_argument("--startups", default="3m",
                   help="start-up delays of the fixed-default table, e.g. 1m,3m,5m (3m)")
    p.add_argument("--only", help="comma-separated trace names (default: all)")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite --out from the results an earlier run saved in --work")
    args = p.parse_args()
    args.traces = os.path.abspath(args.traces)
    args.sim = os.path.abspath(args.sim)
    args.work = os.path.abspath(args.work)
    args.model = os.path.abspath(args.model)
    args.out = os.path.abspath(args.out)
    if args.notes and not os.path.isfile(args.notes):
        raise SystemExit(f"bench-scaling: --notes {args.notes}: no such file")
    if not os.path.isdir(args.traces):
        raise SystemExit(f"bench-scaling: no traces folder {args.traces} (the shared traces "
                         "beside the clone); nothing to run")
    os.makedirs(args.work, exist_ok=True)
    r = Runner(args)
    saved = os.path.join(args.work, "results.json")
    if args.report_only:
        with open(saved) as f:
            s = json.load(f)
        r.commands = s["commands"]
        for x in s["results"]:
            x["summary"] = summarise(x)
        write_report(args, r, s["results"], s["seconds"])
        print(f"bench-scaling: wrote {args.out} from {saved}")
        return
    started = time.monotonic()
    chosen = [t for t in traces(args.traces)
              if not args.only or t["name"] in args.only.split(",")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pipelines:
        results = list(pipelines.map(lambda t: bench_trace(r, t), chosen))
    r.commands = [c for x in results for c in x["commands"]]
    seconds = time.monotonic() - started
    with open(saved, "w") as f:
        json.dump(dict(results=[{k: v for k, v in x.items() if k != "summary"} for x in results],
                       commands=r.commands, seconds=seconds), f)
    write_report(args, r, results, seconds)
    print(f"bench-scaling: wrote {args.out} in {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
