#!/usr/bin/env python3
"""Forecaster choice and bounded churn, measured with the simulator on the scaling benchmark's
validation slice of every shared trace (run.VALIDATION: 52.5%..70% of the minutes, never the test
part; --test-part runs the test part, the last 30%, for information only), start-up delay 3
minutes, the shipped default model, models/ttm-aether.onnx, unless --model names another (the
shipped model's training corpus holds the traces' training parts, never their test parts).

For each trace: the HPA swept as the scaling benchmark sweeps it (run.HPA_TARGETS at every
stabilisation window of run.HPA_STABILIZATIONS: the baseline frontier, tuned as its users tune
it), then ttm in each variant below. For every variant it prints SLO-violation minutes,
instance-minutes, scaling actions, the saving at equal SLO against the HPA sweep
(frontier.saving_at_equal_slo: 1 - cost / cost of the cheapest HPA point with no more SLO
minutes; ">= x" against the HPA's safest point when no HPA point is as safe) and the actions as a
multiple of the matched HPA point's (of the safest point's when none is as safe).

The traces are the scaling benchmark's eleven (run.traces: with the six per-trigger Azure
Functions series; --five runs the five the rules were first chosen on). With --loo-models DIR
every trace runs with its family's leave-one-out model (DIR/without-FAMILY.onnx or .pt, from
make -C training loo; the shipped model where DIR has none): the same slices zero-shot, a check
that a default chosen with the shipped model does not rest on the model having seen the trace.

The default's rule, fixed before the validation run (choose_default): among the `auto` variants
whose actions are at most 2x the matched HPA point's on every trace, the one whose worst trace
saves most (the saving, or its lower bound); the shipped default (window 45, floor and ceiling,
ttm.headroom_quantile 0.70, ttm.upper_bound_utilization 0.90, tier 1's target 0.90:
docs/core.md) stays unless that variant's worst-trace saving is at least 1 point higher and its
mean saving over the traces is not lower, with the shipped model and with --loo-models alike
(two runs; a change must be chosen by both). On the test part the rule's line is printed for
information only. Every run warms up as the scaling benchmark's do (run.WARM_UP).

--functions runs, instead of the eleven, the 27 series of the per-function Azure Functions file
whose mean is at least run.TRIGGER_MIN_MEAN invocations a minute (run.function_traces), on the
same slice: real series the rules were never chosen on. The eleven's 84-minute per-trigger slices
cannot rank variants by their worst trace (3 SLO minutes on one slice moved it by over 50
points), so on these series a rule on the spread of the 27 applies (choose_on_functions, fixed
before any variant but the default ran on them): the variant with the highest mean saving among
those with no more series below 0 and no more over 2x the HPA's actions than the default; it
replaces the default only when its mean is at least 1 point higher, with the shipped model and
with --loo-models alike, and when on the eleven, in both runs, it stays within 2x the HPA's
actions on every trace and its mean saving is not lower.

usage: select_churn.py [--sim build/bin/aether-sim] [--traces DIR] [--model FILE]
                       [--loo-models DIR] [--jobs 2] [--only NAMES] [--five] [--functions]
                       [--variant NAME]... [--test-part] [--json OUT]
"""
import argparse
import concurrent.futures
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import frontier  # noqa: E402
import provenance  # noqa: E402
import run  # noqa: E402  (the trace table and the validation slice)
from select_weight import add_test_part_arg, part_of, simulate  # noqa: E402

HPA_POINTS = [(t, w) for t in run.HPA_TARGETS for w in run.HPA_STABILIZATIONS]
# name: (forecaster, scale-in window minutes, forecast ceiling, further aether-sim flags; a knob
# not named is the config's default)
UB = "--upper-bound-util"
HEADROOM = "--headroom-quantile"
CONF = "--confidence-threshold"
T1 = "--scale-up-threshold"
VARIANTS = {
    "model, window 0, floor+ceiling": ("model", 0, 1, []),
    "auto, window 0, floor+ceiling": ("auto", 0, 1, []),
    "auto, window 10, floor+ceiling": ("auto", 10, 1, []),
    "auto, window 20, floor+ceiling": ("auto", 20, 1, []),
    "auto, window 30, floor+ceiling": ("auto", 30, 1, []),
    "auto, window 45, floor+ceiling": ("auto", 45, 1, []),
    "auto, window 60, floor+ceiling": ("auto", 60, 1, []),
    "model, window 30, floor+ceiling": ("model", 30, 1, []),
    "auto, window 0, floor only": ("auto", 0, 0, []),
    "auto, window 10, floor only": ("auto", 10, 0, []),
    "auto, window 30, floor only": ("auto", 30, 0, []),
    "model, window 10, floor only": ("model", 10, 0, []),
    "auto, window 45, u_b 0.85": ("auto", 45, 1, [UB, "0.85"]),
    "auto, window 45, u_b 0.95": ("auto", 45, 1, [UB, "0.95"]),
    "auto, window 45, u_b 1.00": ("auto", 45, 1, [UB, "1.00"]),
    "auto, window 30, u_b 1.00": ("auto", 30, 1, [UB, "1.00"]),
    "auto, window 45, headroom 0.50": ("auto", 45, 1, [HEADROOM, "0.50"]),
    "auto, window 45, headroom 0.60": ("auto", 45, 1, [HEADROOM, "0.60"]),
    "auto, window 45, headroom 0.80": ("auto", 45, 1, [HEADROOM, "0.80"]),
    "auto, window 45, headroom 0.90": ("auto", 45, 1, [HEADROOM, "0.90"]),
    "auto, window 45, headroom 0.95": ("auto", 45, 1, [HEADROOM, "0.95"]),
    "auto, window 45, conf 0.0": ("auto", 45, 1, [CONF, "0.0"]),
    "auto, window 45, conf 0.5": ("auto", 45, 1, [CONF, "0.5"]),
    "auto, window 45, conf 0.0, u_b 0.95": ("auto", 45, 1, [CONF, "0.0", UB, "0.95"]),
    "auto, window 45, conf 0.0, u_b 1.00": ("auto", 45, 1, [CONF, "0.0", UB, "1.00"]),
    "auto, window 45, T1 0.85": ("auto", 45, 1, [T1, "0.85"]),
    "auto, window 45, T1 0.80": ("auto", 45, 1, [T1, "0.80"]),
    # the defaults until 2026-12-07
    "auto, window 45, T1 0.80, u_b 0.85": ("auto", 45, 1, [T1, "0.80", UB, "0.85"]),
}
DEFAULT = "auto, window 45, floor+ceiling"
MAX_ACTIONS_RATIO = run.MAX_ACTIONS_RATIO
MIN_GAIN = 0.01  # the worst-trace saving a variant must add to replace the default


def matched_text(match):
    """The matched HPA point as the table shows it: '0.78 s1m (0 SLO min)', or '' for none."""
    return f"{match['label']} ({match['slo']} SLO min)" if match else ""


def summarise(table):
    """{variant: dict(worst, mean, median, below, over, n)} over the traces of
    {trace: {variant: row}} for the `auto` variants run on every trace with a saving or its
    bound everywhere; below: traces saving less than 0; over: traces over 2x the HPA's actions
    (or with no ratio)."""
    summary = {}
    for name, (forecaster, *_) in VARIANTS.items():
        if not all(name in table[t] for t in table):
            continue  # not run (--variant)
        rows = [table[t][name] for t in table]
        vals = [r["saving"] if r["saving"] is not None else r["saving_bound"] for r in rows]
        if forecaster != "auto" or None in vals:
            continue
        over = sum(r["actions_vs_hpa"] is None or r["actions_vs_hpa"] > MAX_ACTIONS_RATIO
                   for r in rows)
        summary[name] = dict(worst=min(vals), mean=sum(vals) / len(vals),
                             median=sorted(vals)[len(vals) // 2], below=sum(v < 0 for v in vals),
                             over=over, n=len(vals))
    lines = [f"{n}: worst trace {100 * v['worst']:.1f}%, mean {100 * v['mean']:.1f}%"
             + (f", over {MAX_ACTIONS_RATIO:g}x the HPA's actions" if v["over"] else "")
             + f" (median {100 * v['median']:.1f}%; {v['below']} of {v['n']} traces below 0, "
             f"{v['over']} over {MAX_ACTIONS_RATIO:g}x)"
             for n, v in summary.items()]
    return summary, lines


def choose_default(table):
    """(chosen variant, text) by the rule in the docstring, from {trace: {variant: row}}, a row
    holding 'saving' and 'saving_bound' (fractions or None) and 'actions_vs_hpa' (or None)."""
    summary, lines = summarise(table)
    ok = {n: v for n, v in summary.items() if not v["over"]}
    best = max(ok, key=lambda n: (ok[n]["worst"], ok[n]["mean"])) if ok else DEFAULT
    base = ok.get(DEFAULT)
    if base and (ok[best]["worst"] - base["worst"] < MIN_GAIN or ok[best]["mean"] < base["mean"]):
        best = DEFAULT
    return best, "\n".join(lines + [f"chosen: {best}"])


def choose_on_functions(table):
    """(chosen variant, text) by the rule of the per-function series (--functions, in the
    docstring): the variant of the highest mean saving among those with no more traces below 0
    and no more over 2x the HPA's actions than the default; the default stays unless that mean
    is at least MIN_GAIN higher."""
    summary, lines = summarise(table)
    base = summary.get(DEFAULT)
    if base is None:
        return DEFAULT, "\n".join(lines + [f"chosen: {DEFAULT} (not run)"])
    ok = {n: v for n, v in summary.items()
          if v["below"] <= base["below"] and v["over"] <= base["over"]}
    best = max(ok, key=lambda n: ok[n]["mean"])
    if ok[best]["mean"] - base["mean"] < MIN_GAIN:
        best = DEFAULT
    return best, "\n".join(lines + [f"chosen: {best}"])


def models_of(traces, args, work):
    """{trace name: (model path, kind)}: the family's leave-one-out model with --loo-models when
    the folder holds one (a .pt exported into work), else --model."""
    if args.loo_models and not os.path.isdir(args.loo_models):
        raise SystemExit(f"select_churn: --loo-models {args.loo_models}: no such folder "
                         "(make -C training loo writes training/out/loo)")
    out = {}
    for t in traces:
        path, kind, _ = provenance.choose(args, t["family"], work, run.PYTHON, run.EXPORT_ONNX)
        out[t["name"]] = (path, kind)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sim", default=os.path.join(ROOT, "build", "bin", "aether-sim"))
    p.add_argument("--traces", default=os.path.join(ROOT, "..", "shared", "traces"))
    p.add_argument("--model", default=os.path.join(ROOT, "models", "ttm-aether.onnx"))
    p.add_argument("--loo-models",
                   help="folder of leave-one-out models (without-FAMILY.onnx or .pt): each trace "
                        "runs with its family's instead of --model")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only")
    p.add_argument("--five", action="store_true",
                   help="only the five traces the rules were first chosen on (no per-trigger "
                   "series)")
    p.add_argument("--functions", action="store_true",
                   help="instead of the eleven, one trace per busy function of the per-function "
                   "Azure Functions file (run.function_traces: 27 series, none of them a "
                   "benchmark trace)")
    p.add_argument("--variant", action="append", choices=list(VARIANTS), metavar="NAME",
                   help="run only this variant of VARIANTS (repeatable; default: all)")
    p.add_argument("--json")
    add_test_part_arg(p)
    args = p.parse_args()
    if not os.path.isdir(args.traces):
        print(f"select_churn: no traces in {args.traces}", file=sys.stderr)
        return 77
    work = os.path.join(ROOT, "build", "select-churn")
    os.makedirs(work, exist_ok=True)
    traces = (run.function_traces(args.traces, work) if args.functions else
              run.traces(args.traces, per_trigger=not args.five))
    if args.only:
        traces = [t for t in traces if t["name"] in args.only.split(",")]
    models = models_of(traces, args, work)
    variants = [n for n in VARIANTS if not args.variant or n in args.variant]
    jobs = []
    for t in traces:
        for target, window in HPA_POINTS:
            jobs.append((t, ("hpa", target, window), run.sweep_flags("hpa", target, window)))
        for name in variants:
            fc, window, ceiling, flags = VARIANTS[name]
            jobs.append((t, ("ttm", name),
                         ["--controller", "ttm", "--forecaster", fc,
                          "--model", models[t["name"]][0],
                          "--scale-in-window", str(window), "--forecast-ceiling", str(ceiling)]
                         + flags))
    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futs = {pool.submit(simulate, args, t, part_of(args), extra): (t["name"], key)
                for t, key, extra in jobs}
        for f in concurrent.futures.as_completed(futs):
            name, key = futs[f]
            res = f.result()
            results.setdefault(name, {})[key] = res["hpa" if key[0] == "hpa" else "ttm"]
    table = {}
    for t in traces:
        r = results[t["name"]]
        hpa = [dict(slo=r[key]["slo_violation_minutes"], cost=r[key]["instance_minutes"],
                    actions=r[key]["scaling_actions"], label=run.sweep_label(*key[1:]))
               for key in (("hpa",) + p for p in HPA_POINTS)]
        print(f"\n## {t['name']}")
        print(f"model: {os.path.basename(models[t['name']][0])} ({models[t['name']][1]})")
        print(f"HPA: {len(hpa)} points swept; the safest has "
              f"{min(h['slo'] for h in hpa)} SLO minutes")
        print("| controller | SLO min | instance-min | actions | saving at equal SLO | "
              "actions / matched HPA | matched HPA point | driven by |")
        print("|---|---:|---:|---:|---:|---:|---|---|")
        for name in variants:
            x = r[("ttm", name)]
            pt = dict(slo=x["slo_violation_minutes"], cost=x["instance_minutes"])
            saving, match = frontier.saving_at_equal_slo(pt, hpa)
            bound = frontier.saving_bound(pt, hpa)
            ref = frontier.churn_reference(pt, hpa)
            ratio = frontier.actions_ratio(x["scaling_actions"], ref["actions"])
            ex = x.get("extra", x)
            driven = ", ".join(f"{k[7:]} {ex[k]:.2f}" for k in sorted(ex)
                               if k.startswith("driven_") and ex[k] >= 0.05)
            shown = (f"{100 * saving:.1f}%" if saving is not None else
                     f">= {100 * bound:.1f}%" if bound is not None else "n/a")
            print(f"| ttm {name} | {pt['slo']} | {pt['cost']:.0f} | {x['scaling_actions']} | "
                  f"{shown} | {'n/a' if ratio is None else f'{ratio:.2f}'} | "
                  f"{matched_text(match)} | {driven} |")
            table.setdefault(t["name"], {})[name] = dict(
                slo=pt["slo"], cost=pt["cost"], actions=x["scaling_actions"], saving=saving,
                saving_bound=bound, matched_hpa=match, actions_vs_hpa=ratio, driven=driven)
    chosen, text = (choose_on_functions if args.functions else choose_default)(table)
    where = "test part, for information only" if args.test_part else "validation slices"
    print(f"\n## The default's rule, on the {where}\n{text}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(table=table, chosen=chosen), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
