#!/usr/bin/env python3
"""Two `auto` selection scores compared frontier against frontier on the validation slices.

select_score.py compares score kinds at the shipped upper bound only, so a score that makes
`auto` safer and costlier looks better there although the upper bound alone could buy the same
safety. This script sweeps ttm.upper_bound_utilization (--bounds) for each score in --scores on
every trace's validation slice (run.VALIDATION, never the test part), at a 3-minute start-up and
the other defaults, and reports, for each point of one score, its saving against the other
score's frontier at the same SLO minutes (frontier.value_against_frontier: interpolated, never
extrapolated), in both directions. A positive median of A's points against B's frontier with a
non-positive median of B's against A's says A's frontier lies below B's.

usage: select_frontier.py [--sim build/bin/aether-sim] [--traces DIR] [--model FILE]
                          [--scores step,peak-quantile] [--bounds 0.60,...,1.00] [--jobs 2]
                          [--test-part]
"""
import argparse
import concurrent.futures
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import frontier  # noqa: E402
import run  # noqa: E402
from select_weight import (add_common_args, add_test_part_arg, no_traces,  # noqa: E402
                           part_of, sim)


def sweep_flags(score, bound):
    return ["--forecaster", "auto", "--selection-score", score,
            "--upper-bound-util", f"{bound:.2f}"]


def against(points, sweep):
    """The savings of points against sweep's frontier, where defined."""
    vals = [frontier.value_against_frontier(p, sweep) for p in points]
    return [v for v in vals if v is not None]


def summary(vals):
    if not vals:
        return "n/a (no comparable point)"
    return (f"median {statistics.median(vals):+.1%}, min {min(vals):+.1%}, "
            f"max {max(vals):+.1%} over {len(vals)} points")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p)
    p.add_argument("--scores", default="step,peak-quantile")
    p.add_argument("--bounds", default="0.60,0.70,0.80,0.85,0.90,0.95,1.00")
    add_test_part_arg(p)
    args = p.parse_args()
    if no_traces(args, "select_frontier"):
        return 77
    a, b = args.scores.split(",")
    bounds = [float(x) for x in args.bounds.split(",")]
    traces = run.traces(args.traces, per_trigger=False)  # the five the rules were chosen on
    part = part_of(args)
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futs = {(t["name"], s, u): pool.submit(sim, args, t, sweep_flags(s, u), part)
                for t in traces for s in (a, b) for u in bounds}
        res = {k: f.result() for k, f in futs.items()}
    print(f"| trace | u_b | {a}: SLO min / inst-min | {b}: SLO min / inst-min |")
    print("|---|---:|---:|---:|")
    for t in traces:
        for u in bounds:
            xa, xb = res[(t["name"], a, u)], res[(t["name"], b, u)]
            print(f"| {t['name']} | {u:.2f} | {xa['slo_violation_minutes']:.0f} / "
                  f"{xa['instance_minutes']:.0f} | {xb['slo_violation_minutes']:.0f} / "
                  f"{xb['instance_minutes']:.0f} |")
    print()
    for t in traces:
        pts = {s: [dict(slo=res[(t["name"], s, u)]["slo_violation_minutes"],
                        cost=res[(t["name"], s, u)]["instance_minutes"]) for u in bounds]
               for s in (a, b)}
        print(f"{t['name']}: {b} against {a}'s frontier: {summary(against(pts[b], pts[a]))}; "
              f"{a} against {b}'s frontier: {summary(against(pts[a], pts[b]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
