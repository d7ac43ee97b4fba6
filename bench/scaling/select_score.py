#!/usr/bin/env python3
"""The `auto` selection's score kind, chosen on the validation slices only.

For each simulator trace of the scaling benchmark (run.traces): `ttm` on the benchmark's
validation slice (run.VALIDATION: 52.5%..70% of the minutes, never the test part) at a 3-minute
start-up and the shipped defaults (u_b and confidence threshold as configured), once with
forecaster auto per ttm.selection_score in --scores (peak-quantile once per
ttm.selection_peak_quantile in --peak-quantiles), and once per fixed forecaster in --fixed
(the simple ones and the model alone, through the same path), so the table shows whether `auto`
lands at or near the best driver. Prints SLO-violation minutes, instance-minutes, switches and
the share of minutes each candidate drove, per trace and summed over the traces.

The rule, fixed before the run: a new score (kind, and quantile for peak-quantile) replaces
"step" as the default only if its summed SLO minutes are lower at no more than --cost-slack (2%)
above step's summed instance-minutes, or its instance-minutes are lower at no more SLO minutes;
among several such scores the one with the fewest SLO minutes (then instance-minutes); else
"step" stays.

usage: select_score.py [--sim build/bin/aether-sim] [--traces DIR] [--model FILE]
                       [--scores step,peak,peak-quantile] [--peak-quantiles 0.5,0.8,0.95]
                       [--fixed linear,...] [--jobs 2] [--test-part]
                       [--json OUT]
"""
import argparse
import concurrent.futures
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (the trace table and the validation slice)
from select_weight import (add_common_args, add_test_part_arg, drive_text, no_traces,  # noqa: E402
                           part_of, sim)

FIXED = "model,persistence,drift,seasonal-naive,holt-winters,linear"


def choose(totals, slack):
    """The score kind the rule above picks from the summed totals {kind: {slo, cost}}."""
    base = totals["step"]
    ok = [k for k, t in totals.items() if k != "step" and (
        (t["slo"] < base["slo"] and t["cost"] <= base["cost"] * (1 + slack))
        or (t["cost"] < base["cost"] and t["slo"] <= base["slo"]))]
    return min(ok, key=lambda k: (totals[k]["slo"], totals[k]["cost"])) if ok else "step"


def variants(args):
    """(label, aether-sim flags): auto under each score kind, then each fixed forecaster."""
    out = []
    for k in args.scores.split(","):
        flags = ["--forecaster", "auto", "--selection-score", k]
        if k != "peak-quantile":
            out.append((f"auto/{k}", flags))
            continue
        out += [(f"auto/{k}@{q}", flags + ["--selection-peak-quantile", q])
                for q in args.peak_quantiles.split(",")]
    out += [(f, ["--forecaster", f]) for f in args.fixed.split(",") if f]
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p)
    p.add_argument("--scores", default="step,peak,peak-quantile")
    p.add_argument("--peak-quantiles", default="0.5,0.65,0.8,0.9,0.95")
    p.add_argument("--fixed", default=FIXED)
    add_test_part_arg(p)
    args = p.parse_args()
    if no_traces(args, "select_score"):
        return 77
    if "step" not in args.scores.split(","):
        args.scores = "step," + args.scores
    traces = run.traces(args.traces, per_trigger=False)  # the five the rules were chosen on
    vs = variants(args)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        part = part_of(args)
        futs = {(t["name"], label): pool.submit(sim, args, t, flags, part)
                for t in traces for label, flags in vs}
        res = {k: f.result() for k, f in futs.items()}
    totals = {label: dict(slo=0.0, cost=0.0) for label, _ in vs}
    print("| trace | driver | SLO min | inst-min | switches | drove |")
    print("|---|---|---:|---:|---:|---|")
    for t in traces:
        for label, _ in vs:
            x = res[(t["name"], label)]
            totals[label]["slo"] += x["slo_violation_minutes"]
            totals[label]["cost"] += x["instance_minutes"]
            tail = (f"{x['forecaster_switches']:.0f} | {drive_text(x)} |"
                    if label.startswith("auto/") else " | |")
            print(f"| {t['name']} | {label} | {x['slo_violation_minutes']:.0f} | "
                  f"{x['instance_minutes']:.0f} | {tail}")
    for label, _ in vs:
        print(f"| all | {label} | {totals[label]['slo']:.0f} | {totals[label]['cost']:.0f} | | |")
    kinds = {label[len("auto/"):]: v for label, v in totals.items() if label.startswith("auto/")}
    kind = choose(kinds, args.cost_slack)
    if args.test_part:
        print(f"test part, for information only (the rule would say: {kind})")
    else:
        print(f"chosen: selection_score = {kind}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(results={f"{k[0]} {k[1]}": v for k, v in res.items()},
                           totals=totals, chosen=kind), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
