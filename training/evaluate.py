#!/usr/bin/python3
"""Held-out comparison of a trained model with persistence, per workload pattern.

For every pattern of generate_synthetic.py (or for the CSV/JSON files given with --data) it
builds every window by the model-input rule, forecasts with the checkpoint and with persistence
(the last minute repeated), and prints the error of both: WAPE of cpu_usage and invocations (the
node's confidence measure), their mean, the skill 1 - model/persistence, and the number of the 11
features on which the model's MAE is lower. The synthetic series use seeds the training data
does not (--seed, default 1000 + pattern number), so this is data the model has never seen.
"""

import argparse
import sys

import aether_python

aether_python.require("numpy", "torch")

import numpy as np  # noqa: E402 (after the interpreter check)

import aether_series as series
import generate_synthetic


def forecast(torch, model, x, batch=1024):
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(model(torch.from_numpy(x[i:i + batch])).numpy())
    return np.concatenate(out) if out else np.zeros((0,))


def compare(torch, model, data):
    """(Comparison over all H minutes, [(model, persistence) mean WAPE for each minute ahead],
    number of windows); (None, [], 0) when the data has no window."""
    cfg = model.config
    samples = series.make_samples(series.prepare(data, cfg["window"]), cfg["window"],
                                  cfg["horizon"])
    if len(samples) == 0:
        return None, [], 0
    pred = forecast(torch, model, samples.x)
    persist = series.persistence(samples.x, cfg["horizon"])
    steps = []
    for h in range(cfg["horizon"]):
        one = slice(h, h + 1)
        cmp = series.Comparison(pred[:, one], persist[:, one], samples.y[:, one])
        steps.append((cmp.val_wape(), cmp.val_wape(persist=True)))
    return series.Comparison(pred, persist, samples.y), steps, len(samples)


def main(argv=None):
    p = argparse.ArgumentParser(description="Compare a model with persistence per pattern.")
    p.add_argument("--model", required=True, help="checkpoint from train.py")
    p.add_argument("--data", nargs="*", default=[], help="CSV/JSON files instead of synthetic")
    p.add_argument("--patterns", default=",".join(generate_synthetic.PATTERNS),
                   help="comma-separated synthetic patterns (default: all)")
    p.add_argument("--duration", default="48h", help="length of each synthetic series (48h)")
    p.add_argument("--base-load", type=float, default=100.0,
                   help="base load of the synthetic series, requests/s (default 100)")
    p.add_argument("--seed", type=int, default=1000,
                   help="seed of the first pattern; pattern i uses seed + i (default 1000)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit(f"evaluate.py: PyTorch is not importable by {sys.executable}; use "
                 "/usr/bin/python3 with Debian's python3-torch")
    import aether_model
    aether_model.limit_threads(args.threads)
    try:
        model, info = aether_model.load_checkpoint(args.model)
    except ValueError as e:
        print(f"evaluate.py: {e}", file=sys.stderr)
        return 2

    datasets = []
    try:
        if args.data:
            datasets = [(path, series.read_series(path)) for path in args.data]
        else:
            minutes = generate_synthetic.parse_duration(args.duration)
            for i, pattern in enumerate(p for p in args.patterns.split(",") if p):
                if pattern not in generate_synthetic.PATTERNS:
                    raise ValueError(f"--patterns: unknown pattern '{pattern}' (choose from "
                                     f"{', '.join(generate_synthetic.PATTERNS)})")
                ts, values = generate_synthetic.generate(pattern, minutes, args.base_load,
                                                         args.seed + i)
                datasets.append((f"{pattern} (seed {args.seed + i})",
                                 series.Series(ts, values, pattern)))
    except (series.DataError, ValueError) as e:
        print(f"evaluate.py: {e}", file=sys.stderr)
        return 2

    cfg = model.config
    print(f"Model {args.model}: W={cfg['window']} H={cfg['horizon']}, trained on "
          f"{info.get('train_data', '?')} (seed {info.get('seed', '?')})")
    print(f"{'data':<24} {'windows':>7} {'WAPE cpu':>17} {'WAPE invocations':>17} "
          f"{'mean':>15} {'skill':>7} {'features':>8}")
    print(f"{'':<24} {'':>7} {'model/persist':>17} {'model/persist':>17} "
          f"{'model/persist':>15} {'':>7} {'beaten':>8}")
    beaten_all = True
    steps = []
    for name, data in datasets:
        cmp, per_step, n = compare(torch, model, data)
        if cmp is None:
            print(f"{name:<24} too short for W={cfg['window']}")
            beaten_all = False
            continue
        beaten = sum(cmp.mae(f) < cmp.mae(f, persist=True) for f in range(series.N_FEATURES))
        cpu = f"{cmp.wape(series.CPU):.4f}/{cmp.wape(series.CPU, True):.4f}"
        inv = f"{cmp.wape(series.INVOCATIONS):.4f}/{cmp.wape(series.INVOCATIONS, True):.4f}"
        mean = f"{cmp.val_wape():.4f}/{cmp.val_wape(True):.4f}"
        print(f"{name:<24} {n:>7} {cpu:>17} {inv:>17} {mean:>15} {cmp.skill():>+7.3f} "
              f"{beaten:>5}/11")
        beaten_all &= cmp.skill() > 0
        if cfg["horizon"] > 1:
            steps.append((name, per_step))
    for name, skills in steps:
        print(f"  {name}: mean WAPE model/persistence per minute ahead: "
              + ", ".join(f"+{h + 1} {m:.4f}/{p:.4f}" for h, (m, p) in enumerate(skills)))
    print("Model beats persistence on every data set" if beaten_all else
          "Model does NOT beat persistence on every data set")
    return 0 if beaten_all else 1


if __name__ == "__main__":
    sys.exit(main())
