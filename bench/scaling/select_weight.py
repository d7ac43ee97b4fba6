#!/usr/bin/env python3
"""The `auto` selection's under-forecast weight, chosen on the validation slices only.

For each simulator trace of the scaling benchmark (run.traces): `ttm` with forecaster auto and
the step score (the only one the weight applies to) at the shipped defaults (u_b and confidence threshold as configured), start-up delay 3 minutes, on the
benchmark's validation slice (run.VALIDATION: 52.5%..70% of the minutes, never the test part),
once per ttm.selection_underforecast_weight in --weights. Prints SLO-violation minutes,
instance-minutes, the share of minutes each candidate drove and the switches, per trace and
summed over the traces, and the rule's choice: the weight with the fewest summed SLO minutes
whose summed instance-minutes are at most --cost-slack (2%) above weight 1's; 1 when none has
fewer SLO minutes than weight 1. Every run first replays the run.WARM_UP minutes before its part,
as the scaling benchmark's runs do (select_score.py, select_frontier.py and select_churn.py
share this: simulate).

usage: select_weight.py [--sim build/bin/aether-sim] [--traces DIR] [--model FILE]
                        [--weights 1,2,4] [--jobs 2] [--json OUT]
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import run  # noqa: E402  (the trace table and the validation slice)


def simulate(args, trace, part, flags):
    """aether-sim's JSON report of part (percent from, to) of trace at a 3-minute start-up with
    the flags, warmed up as the scaling benchmark's runs are (run.WARM_UP before the part)."""
    argv = [args.sim, "--trace", os.path.join(args.traces, trace["file"])] + trace["flags"]
    argv += ["--warm-up", run.WARM_UP, "--from", f"{part[0]}%", "--to", f"{part[1]}%",
             "--startup-delay", "3m", "--json", "--quiet"] + flags
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def sim(args, trace, flags, part=run.VALIDATION):
    """`ttm` with the model of args and the extra flags on part of trace (simulate)."""
    ttm = ["--controller", "ttm", "--model", args.model]
    return simulate(args, trace, part, ttm + flags)["ttm"]


def drive_text(x):
    """The candidates that drove at least 1% of the minutes, largest share first."""
    shares = {k[len("driven_"):]: v for k, v in x.items() if k.startswith("driven_")}
    return ", ".join(f"{k} {v:.0%}" for k, v in sorted(shares.items(), key=lambda kv: -kv[1])
                     if v >= 0.01)


def choose(totals, slack):
    """The weight with the fewest SLO minutes at no more than (1 + slack) x weight 1's cost."""
    base = totals[1.0]
    ok = [w for w, t in totals.items()
          if t["slo"] < base["slo"] and t["cost"] <= base["cost"] * (1 + slack)]
    return min(ok, key=lambda w: (totals[w]["slo"], totals[w]["cost"])) if ok else 1.0


def add_common_args(p):
    """The options every validation-slice script of the selection takes."""
    p.add_argument("--sim", default=os.path.join(ROOT, "build", "bin", "aether-sim"))
    p.add_argument("--traces", default=os.path.join(ROOT, "..", "shared", "traces"))
    p.add_argument("--model", default=os.path.join(ROOT, "models", "ttm-aether.onnx"))
    p.add_argument("--cost-slack", type=float, default=0.02)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--json")


def add_test_part_arg(p):
    """--test-part, for the scripts that may also show the test part for information."""
    p.add_argument("--test-part", action="store_true",
                   help="run the test part (70%%..100%%) instead, for information only: nothing "
                   "may be chosen on it")


def part_of(args):
    """The slice a script runs: the validation slice, or the test part with --test-part."""
    return (70, 100) if args.test_part else run.VALIDATION


def no_traces(args, name):
    """True (after saying so) when args.traces is not a directory: the caller exits 77."""
    if os.path.isdir(args.traces):
        return False
    print(f"{name}: no traces in {args.traces}", file=sys.stderr)
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p)
    p.add_argument("--weights", default="1,2,4")
    args = p.parse_args()
    if no_traces(args, "select_weight"):
        return 77
    weights = sorted({1.0, *[float(w) for w in args.weights.split(",")]})
    traces = run.traces(args.traces, per_trigger=False)  # the five the rules were chosen on
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futs = {(t["name"], w): pool.submit(sim, args, t, ["--forecaster", "auto",
                                                          "--selection-score", "step",
                                                          "--selection-underforecast-weight",
                                                          f"{w:g}"])
                for t in traces for w in weights}
        res = {k: f.result() for k, f in futs.items()}
    totals = {w: dict(slo=0.0, cost=0.0) for w in weights}
    print("| trace | w | SLO min | inst-min | switches | drove |")
    print("|---|---|---|---|---|---|")
    for t in traces:
        for w in weights:
            x = res[(t["name"], w)]
            totals[w]["slo"] += x["slo_violation_minutes"]
            totals[w]["cost"] += x["instance_minutes"]
            print(f"| {t['name']} | {w:g} | {x['slo_violation_minutes']:.0f} | "
                  f"{x['instance_minutes']:.0f} | {x['forecaster_switches']:.0f} | "
                  f"{drive_text(x)} |")
    for w in weights:
        print(f"| all | {w:g} | {totals[w]['slo']:.0f} | {totals[w]['cost']:.0f} | | |")
    w = choose(totals, args.cost_slack)
    print(f"chosen: selection_underforecast_weight = {w:g}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(results={f"{k[0]} {k[1]:g}": v for k, v in res.items()},
                           totals={f"{k:g}": v for k, v in totals.items()}, chosen=w), f,
                      indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
