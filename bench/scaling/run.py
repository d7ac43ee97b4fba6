#!/usr/bin/python3
"""Scaling-quality benchmark: every controller of aether-sim on the real traces, side by side.

For each simulator trace of the shared traces README (NASA-HTTP requests, Azure Functions 2019
total invocations, the first three Bitbrains GWA-T-12 VM columns scaled to a load):
  1. chronological split at --split (default 70%) of the trace's minutes;
  2. simulate the training part under the reactive controller and export its per-minute features
     (aether-sim --export-features), as a node running tier 1 would have recorded them;
  3. train a model on the last --train-days of those features with the training pipeline
     (train.py, bounded by --epochs; export_onnx.py);
  4. evaluate every controller on the test part with that model, the ttm controller also with the
     shipped default model (zero-shot) and in forecast-only mode;
  5. sweep the start-up delay (1, 3, 5 minutes).
Writes the tables, the verdicts and the exact commands to --out (docs/benchmarks.md).

usage: run.py [--sim build/bin/aether-sim] [--traces DIR] [--work DIR] [--out docs/benchmarks.md]
              [--epochs N] [--train-days D] [--only NAMES] [--reuse-models] [--report-only]
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PYTHON = "/usr/bin/python3"
CONTROLLERS = "reactive,ttm,hpa,holt-winters,linear,oracle"
ORDER = ["reactive", "hpa", "holt-winters", "linear", "ttm", "ttm (default model)",
         "ttm (shipped 5-minute model)", "ttm-forecast-only", "ttm (upper bound 0.8)", "ttm (upper bound 0.9)", "oracle"]
# ttm.upper_bound_utilization values tried beside the default at the 3-minute start-up
BOUND_SENSITIVITY = ("0.8", "0.9")


def traces(trace_dir):
    """The simulator traces of the README table, with their flags and upstream source."""
    bb = "bitbrains_rnd_top20vm_cpu_5min.csv"
    with open(os.path.join(trace_dir, bb)) as f:
        header = f.readline().strip().split(",")
    vms = [c for c in header if c.startswith("vm")][:3]
    out = [
        dict(name="nasa", file="nasa_http_1995_requests_1min.csv",
             flags=["--time-column", "timestamp_local", "--value-column", "requests",
                    "--step", "1m", "--mask-column", "outage"],
             source="NASA-HTTP logs (Kennedy Space Center WWW server, July-August 1995, "
                    "Internet Traffic Archive): requests per minute; the documented outage "
                    "masked"),
        dict(name="azure", file="azure_functions_2019_500fn_8h_total_1min.csv",
             flags=["--time-column", "minute_of_day", "--value-column", "total_invocations",
                    "--step", "1m"],
             source="Azure Functions 2019 trace (Shahrad et al., ATC'20): total invocations per "
                    "minute of 500 busy functions, 8 hours"),
    ]
    for vm in vms:
        out.append(dict(name=f"bitbrains-{vm.split('_')[0]}", file=bb,
                        flags=["--time-column", "unix_s", "--value-column", vm, "--step", "5m",
                               "--scale", "10"],
                        source=f"Bitbrains GWA-T-12 rnd (Shen, van Beek, Iosup, CCGrid 2015): "
                               f"CPU % of {vm.split('_')[0]}, x10 as requests per minute"))
    return out


class Runner:
    def __init__(self, args):
        self.args = args
        self.commands = []  # (what, command line) for the report

    def show(self, argv):
        """A command line with the repository root and the traces folder made relative."""
        text = " ".join(shlex.quote(a) for a in argv)
        text = text.replace(self.args.traces.rstrip("/") + "/", "${AETHER_SHARED_DIR}/traces/")
        return text.replace(ROOT + "/", "")

    def run(self, what, argv, cwd=None, record=True):
        if record:
            self.commands.append((what, self.show(argv)))
        print("+", self.show(argv), flush=True)
        t0 = time.monotonic()
        p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stdout[-4000:] + p.stderr[-4000:])
            raise SystemExit(f"bench-scaling: {what} failed (exit {p.returncode})")
        return p, time.monotonic() - t0

    def sim(self, what, trace, extra, record=True):
        argv = [self.args.sim, "--trace", os.path.join(self.args.traces, trace["file"])]
        argv += trace["flags"] + extra + ["--json", "--quiet"]
        p, secs = self.run(what, argv, record=record)
        return json.loads(p.stdout), secs


def train(r, trace, features, work):
    """The training part's features, cut to the last --train-days, through the pipeline."""
    with open(features) as f:
        lines = f.readlines()
    keep = r.args.train_days * 1440
    cut = os.path.join(work, f"{trace['name']}-train.csv")
    with open(cut, "w") as f:
        f.write(lines[0])
        f.writelines(lines[1:][-keep:])
    rows = min(keep, len(lines) - 1)
    stem = f"{trace['name']}-h{r.args.horizon}"
    model_pt = os.path.join(work, f"{stem}.pt")
    onnx = os.path.join(work, f"{stem}.onnx")
    training = os.path.join(ROOT, "training")
    train_cmd = [PYTHON, os.path.join(training, "train.py"), "--data", cut, "--epochs",
                 str(r.args.epochs), "--seed", "42", "--seq-len", "60", "--horizon", str(r.args.horizon),
                 "--output", model_pt]
    engine = os.path.join(os.path.dirname(r.args.sim), "aether-model")
    export_cmd = [PYTHON, os.path.join(training, "export_onnx.py"), "--model", model_pt,
                  "--output", onnx]
    if os.path.exists(engine):
        export_cmd += ["--aether-model", engine]
    saved = os.path.join(work, f"{stem}-training.json")
    if r.args.reuse_models and os.path.exists(onnx) and os.path.exists(saved):
        print(f"bench-scaling: reusing {onnx}, trained earlier by the same commands")
        r.commands.append((f"train ({trace['name']}; model reused from an earlier run)",
                           r.show(train_cmd)))
        r.commands.append((f"export ({trace['name']})", r.show(export_cmd)))
        with open(saved) as f:
            return onnx, json.load(f)
    p, secs = r.run(f"train ({trace['name']})", train_cmd, cwd=training)
    skill = None
    for line in p.stdout.splitlines():
        if line.strip().startswith("WAPE (cpu+invocations)/2") and "skill" in line:
            skill = line.split("skill")[-1].strip()
    _, secs2 = r.run(f"export ({trace['name']})", export_cmd, cwd=training)
    info = dict(rows=rows, train_seconds=secs, export_seconds=secs2, skill=skill)
    with open(saved, "w") as f:
        json.dump(info, f, indent=2)
    return onnx, info


def evaluate(r, trace, split, model, default_model, delay):
    test = ["--from", f"{split}%", "--startup-delay", delay]
    res, secs = r.sim(f"evaluate ({trace['name']}, start-up {delay})", trace,
                      test + ["--controller", CONTROLLERS, "--model", model])
    if delay == "3m":
        zs, _ = r.sim(f"zero-shot default model ({trace['name']})", trace,
                      test + ["--controller", "ttm", "--model", default_model])
        res["ttm (default model)"] = zs["ttm"]
        h5, _ = r.sim(f"zero-shot shipped 5-minute model ({trace['name']})", trace,
                      test + ["--controller", "ttm", "--model", r.args.h5_model])
        res["ttm (shipped 5-minute model)"] = h5["ttm"]
        fo, _ = r.sim(f"forecast-only ({trace['name']})", trace,
                      test + ["--controller", "ttm", "--mode", "forecast-only", "--model", model])
        res.update(fo)
        for bound in BOUND_SENSITIVITY:
            b, _ = r.sim(f"ttm with ttm.upper_bound_utilization {bound} ({trace['name']})", trace,
                         test + ["--controller", "ttm", "--upper-bound-util", bound, "--model",
                                 model])
            res[f"ttm (upper bound {bound})"] = b["ttm"]
    return res, secs


def verdict(res, key="ttm"):
    """ttm vs hpa: wins when SLO minutes <= hpa's and instance-minutes < hpa's; gap closed."""
    t, h, o = res[key], res["hpa"], res["oracle"]
    slo_ok = t["slo_violation_minutes"] <= h["slo_violation_minutes"]
    cheaper = t["instance_minutes"] < h["instance_minutes"]
    gap = h["instance_minutes"] - o["instance_minutes"]
    closed = (h["instance_minutes"] - t["instance_minutes"]) / gap if gap > 0 else float("nan")
    return slo_ok, cheaper, closed


def others_text(res):
    """The other baselines (reactive and the classical predictors) and how ttm compares."""
    parts = []
    for name in ("reactive", "holt-winters", "linear"):
        t, b = res["ttm"], res[name]
        slo_ok = t["slo_violation_minutes"] <= b["slo_violation_minutes"]
        cheaper = t["instance_minutes"] < b["instance_minutes"]
        parts.append(f"{name}: {'beats' if slo_ok and cheaper else win_text(slo_ok, cheaper)}")
    return "; ".join(parts)


def win_text(slo_ok, cheaper):
    if slo_ok and cheaper:
        return "yes"
    why = [w for w, bad in (("more SLO minutes", not slo_ok), ("not cheaper", not cheaper)) if bad]
    return "no: " + ", ".join(why)


def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}"


def table(res):
    rows = ["| controller | SLO-violation minutes | instance-minutes | scaling actions | "
            "p95 latency ms | mean utilisation | forecast MAE (req/min) | MASE vs persistence |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in ORDER:
        if name not in res:
            continue
        x = res[name]
        rows.append(f"| {name} | {x['slo_violation_minutes']:,} | {x['instance_minutes']:,.0f} | "
                    f"{x['scaling_actions']:,} | {x['p95_latency_ms']:.0f} | "
                    f"{x['mean_utilisation']:.3f} | {fmt(x.get('mae'))} | "
                    f"{fmt(x.get('mase'), 3)} |")
    return rows


def ttm_detail(res):
    rows = []
    for name in ("ttm", "ttm (default model)", "ttm (shipped 5-minute model)",
                 "ttm-forecast-only", "ttm (upper bound 0.8)",
                 "ttm (upper bound 0.9)"):
        x = res.get(name)
        if not x:
            continue
        rows.append(f"- {name}: {int(x.get('predictions', 0)):,} forecasts; recommendations "
                    f"scale_up {int(x.get('rec_scale_up', 0)):,}, scale_down "
                    f"{int(x.get('rec_scale_down', 0)):,}, hold "
                    f"{int(x.get('rec_hold', 0)):,} (of which low confidence "
                    f"{int(x.get('holds_low_confidence', 0)):,}); a floor in force "
                    f"{fmt(x.get('floor_minutes'), 0)} min, a ceiling "
                    f"{fmt(x.get('ceiling_minutes'), 0)} min; confidence at the end "
                    f"{fmt(x.get('final_confidence'), 2)}")
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sim", default=os.path.join(ROOT, "build", "bin", "aether-sim"))
    p.add_argument("--traces", default=os.path.join(ROOT, "..", "shared", "traces"))
    p.add_argument("--work", default=os.path.join(ROOT, "build", "bench-scaling"))
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    p.add_argument("--default-model", default=os.path.join(ROOT, "models", "ttm-aether.onnx"))
    p.add_argument("--h5-model", default=os.path.join(ROOT, "models", "ttm-aether-h5.onnx"))
    p.add_argument("--split", type=int, default=70, help="train on the first SPLIT%% (70)")
    p.add_argument("--epochs", type=int, default=6, help="training epochs per trace (6)")
    p.add_argument("--horizon", type=int, default=5,
                   help="forecast horizon of the trained models, minutes (5: at least the "
                        "longest start-up delay of the sweep)")
    p.add_argument("--train-days", type=int, default=7,
                   help="train on the last D days of the training part (7)")
    p.add_argument("--only", help="comma-separated trace names (default: all)")
    p.add_argument("--report-only", action="store_true",
                   help="rewrite --out from the results an earlier run saved in --work")
    p.add_argument("--reuse-models", action="store_true",
                   help="keep models an earlier run trained in --work (same data and flags)")
    args = p.parse_args()
    args.traces = os.path.abspath(args.traces)
    args.sim = os.path.abspath(args.sim)
    args.work = os.path.abspath(args.work)  # train.py runs in training/
    args.out = os.path.abspath(args.out)
    os.makedirs(args.work, exist_ok=True)
    r = Runner(args)
    saved = os.path.join(args.work, "results.json")
    if args.report_only:
        with open(saved) as f:
            s = json.load(f)
        r.commands = s["commands"]
        args.reuse_models = s["reuse_models"]
        write_report(args, r, s["results"], s["seconds"])
        print(f"bench-scaling: wrote {args.out} from {saved}")
        return
    started = time.monotonic()
    results = []
    for trace in traces(args.traces):
        if args.only and trace["name"] not in args.only.split(","):
            continue
        features = os.path.join(args.work, f"{trace['name']}-features.csv")
        r.sim(f"export training features ({trace['name']})", trace,
              ["--to", f"{args.split}%", "--controller", "reactive", "--export-features",
               features])
        model, info = train(r, trace, features, args.work)
        main_res, secs = evaluate(r, trace, args.split, model, args.default_model, "3m")
        sweep = {"3m": main_res}
        for delay in ("1m", "5m"):
            sweep[delay], _ = evaluate(r, trace, args.split, model, args.default_model, delay)
        results.append(dict(trace=trace, info=info, main=main_res, sweep=sweep, sim_seconds=secs))
        with open(os.path.join(args.work, f"{trace['name']}-results.json"), "w") as f:
            json.dump(dict(info=info, sweep=sweep), f, indent=2)
    seconds = time.monotonic() - started
    with open(saved, "w") as f:
        json.dump(dict(results=results, commands=r.commands, seconds=seconds,
                       reuse_models=args.reuse_models), f)
    write_report(args, r, results, seconds)
    print(f"bench-scaling: wrote {args.out}")


def write_report(args, r, results, seconds):
    L = ["# Scaling quality on real traces", "",
         "Generated by `make bench-scaling` (`bench/scaling/run.py`); do not edit by hand. Every "
         "number below comes from `aether-sim` replaying the trace through the node's own "
         "decision core (tier 1 every simulated second, the TTM manager every simulated minute "
         "with the model run by the project's ONNX engine) and through the baseline "
         "controllers. The service model, the SLO and every controller are described in "
         "[simulator.md](simulator.md).", "",
         "## Set-up", "",
         "The benchmark's set-up (capacity, SLO, start-up delays, baselines) was fixed before "
         "looking at any result. The sizing rules of the forecast tier and the default of "
         "`ttm.upper_bound_utilization` (0.85) were chosen after exploratory runs on these "
         "traces, so the `ttm` rows are not an out-of-sample test of those choices; the rows "
         "with the upper bound at 0.8 and 0.9 show how much the verdict depends on it.", "",
         "- Capacity per instance sized so that the trace's 99.5th-percentile load needs 20 "
         "instances at 70% utilisation (`--peak-instances 20`, sized on the whole trace so that "
         "both parts share it); min 1, max 60 instances; start-up delay 3 minutes.",
         "- SLO: a minute violates it when the load exceeds 90% of the ready capacity or any "
         "request is dropped. p95 latency from the M/M/c model is reported beside it.",
         "- HPA: target 0.6, tolerance 0.1, sync 15 s, 5-minute scale-down stabilisation, "
         "Kubernetes' default scale-up limit. Holt-Winters and linear: the HPA plus a demand "
         "forecast over the start-up delay (the larger target wins). Oracle: perfect foresight "
         "at 90% utilisation (the SLO limit), instances requested exactly one start-up delay "
         "ahead.",
         f"- Split: chronological, the first {args.split}% of each trace's minutes for "
         f"training, the rest for evaluation. The model is trained on the features the reactive "
         f"controller produced over the last {args.train_days} days of the training part "
         f"(all of it when shorter), window 60, horizon {args.horizon} (at least the start-up "
         f"delay, so the forecast reaches the minutes new instances will serve), "
         f"{args.epochs} epochs, seed 42. "
         "`ttm (default model)` is the shipped `models/ttm-aether.onnx` (horizon 1) and "
         "`ttm (shipped 5-minute model)` the shipped `models/ttm-aether-h5.onnx`, both trained "
         "on synthetic patterns only, never on these traces (zero-shot).",
         f"- Wall time of this run: {seconds / 60:.1f} min on a machine of 2 shared cores"
         + (" (models reused from an earlier run of the same training commands; their "
            "training times are given per trace)" if args.reuse_models else "") + ".", ""]
    L += ["## Verdict: does `ttm` beat `hpa`?", "",
          "`ttm` wins on a trace when it has no more SLO-violation minutes than `hpa` and fewer "
          "instance-minutes; *gap closed* is (hpa - ttm) / (hpa - oracle) instance-minutes "
          "(1 = as cheap as perfect foresight, 0 = as costly as the HPA, negative = costlier).",
          "", "| trace | start-up | ttm SLO min | hpa SLO min | ttm inst-min | hpa inst-min | "
          "oracle inst-min | ttm wins | gap closed | against the other baselines |",
          "|---|---|---:|---:|---:|---:|---:|---|---:|---|"]
    for x in results:
        for delay in ("1m", "3m", "5m"):
            res = x["sweep"][delay]
            slo_ok, cheaper, closed = verdict(res)
            L.append(f"| {x['trace']['name']} | {delay} | "
                     f"{res['ttm']['slo_violation_minutes']:,} | "
                     f"{res['hpa']['slo_violation_minutes']:,} | "
                     f"{res['ttm']['instance_minutes']:,.0f} | "
                     f"{res['hpa']['instance_minutes']:,.0f} | "
                     f"{res['oracle']['instance_minutes']:,.0f} | "
                     f"{win_text(slo_ok, cheaper)} | {closed:.2f} | {others_text(res)} |")
    L += ["", "The same verdict at the 3-minute start-up with other values of "
          "`ttm.upper_bound_utilization` (default 0.85):", "",
          "| trace | upper bound | ttm SLO min | hpa SLO min | ttm inst-min | hpa inst-min | "
          "ttm wins | gap closed |", "|---|---:|---:|---:|---:|---:|---|---:|"]
    for x in results:
        res = x["sweep"]["3m"]
        for bound in BOUND_SENSITIVITY:
            key = f"ttm (upper bound {bound})"
            if key not in res:
                continue
            slo_ok, cheaper, closed = verdict(res, key)
            L.append(f"| {x['trace']['name']} | {bound} | "
                     f"{res[key]['slo_violation_minutes']:,} | "
                     f"{res['hpa']['slo_violation_minutes']:,} | "
                     f"{res[key]['instance_minutes']:,.0f} | "
                     f"{res['hpa']['instance_minutes']:,.0f} | "
                     f"{win_text(slo_ok, cheaper)} | {closed:.2f} |")
    L.append("")
    for x in results:
        t = x["trace"]
        L += [f"## {t['name']}", "", f"Source: {t['source']}.", "",
              f"Training: {x['info']['rows']:,} minutes of features, train.py "
              f"{x['info']['train_seconds']:.0f} s, export {x['info']['export_seconds']:.0f} s; "
              f"validation skill over persistence (cpu + invocations WAPE): "
              f"{x['info']['skill'] or 'not reported'}.", "",
              f"Test part, start-up delay 3 min (all controllers in {x['sim_seconds']:.1f} s):",
              ""]
        L += table(x["main"])
        L += [""] + ttm_detail(x["main"]) + [""]
        for delay in ("1m", "5m"):
            L += [f"Start-up delay {delay}:", ""] + table(x["sweep"][delay]) + [""]
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis.md")
    if os.path.exists(notes):
        with open(notes) as f:
            L += [f.read().rstrip(), ""]
    L += ["## Exact commands", "",
          "Run from the repository root; `${AETHER_SHARED_DIR}` is the shared folder beside the "
          "clone. Intermediate files go to `build/bench-scaling/`.", "", "```"]
    for what, cmd in r.commands:
        L += [f"# {what}", cmd]
    L += ["```", ""]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    main()
