#!/usr/bin/python3
"""Per-step error of a model against persistence and drift on minute series it has not seen.

For every window of each data file (the model-input rule; only windows with at least
--min-history minutes of history (and 31 for drift), so models of different W are scored on the
same minutes) it
forecasts the next H minutes with the checkpoint and with two simple forecasters, and prints per
step h = 1..H the mean absolute error of --feature (invocations: the load) and the MASE of each
forecaster, i.e. its MAE divided by the MAE of persistence at the same step:
  persistence  the last minute, repeated;
  drift        the last minute plus h times the recent slope, (x[t] - x[t-k]) / k; k = 5, 15 and
               30 minutes are all tried and the best of them at each step is reported (a baseline
               tuned on the test data itself, so a strong one).

usage: evaluate_steps.py --model out/model.pt --data a.csv [b.csv ...] [--feature invocations]
                         [--min-history 60] [--markdown]
Exit status 1 when, on some file, the model's MASE is not below 1 and below drift's at every
step from 3 on (the goal of the default model), 2 on bad input.
"""

import argparse
import os
import sys

import aether_python

aether_python.require("numpy", "torch", "onnx")

import numpy as np  # noqa: E402 (after the interpreter check)

import aether_series as series

DRIFT_K = (5, 15, 30)


def forecast(torch, model, x, batch=2048):
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(model(torch.from_numpy(x[i:i + batch])).numpy())
    return np.concatenate(out)


def drift(x, f, horizon, k):
    """[S, H] last value + h x slope over the last k minutes of feature f."""
    last = x[:, -1, f].astype(np.float64)
    slope = (last - x[:, -1 - k, f]) / k
    return last[:, None] + slope[:, None] * np.arange(1, horizon + 1)[None, :]


def step_errors(pred, y):
    """Per step: mean |pred - y| over the non-missing targets ([H])."""
    mask = ~np.isnan(y)
    err = np.where(mask, np.abs(pred - np.nan_to_num(y)), 0.0)
    return err.sum(axis=0) / np.maximum(mask.sum(axis=0), 1)


def score(torch, model, data, f, min_history):
    """Rows (step, MAE model, MAE persistence, MAE drift, best drift k), and the window count."""
    W, H = model.config["window"], model.config["horizon"]
    # The windows are built as long as the longest look-back (the model's W, drift's k, the
    # history asked for); only full ones are scored, so each forecaster sees the same minutes
    # and the model gets exactly its last W.
    span = max(W, min_history, max(DRIFT_K) + 1)
    samples = series.make_samples(series.prepare(data, span), span, H)
    samples = samples.subset(samples.history >= span)
    if len(samples) == 0:
        return [], 0
    y = samples.y[:, :, f].astype(np.float64)
    pred = forecast(torch, model, np.ascontiguousarray(samples.x[:, -W:]))
    model_mae = step_errors(pred[:, :, f].astype(np.float64), y)
    persist_mae = step_errors(np.repeat(samples.x[:, -1:, f].astype(np.float64), H, axis=1), y)
    drift_mae = np.array([step_errors(drift(samples.x, f, H, k), y) for k in DRIFT_K])
    best = drift_mae.argmin(axis=0)
    rows = [(h + 1, model_mae[h], persist_mae[h], drift_mae[best[h], h], DRIFT_K[best[h]])
            for h in range(H)]
    return rows, len(samples)


def load_model(path):
    """(model, info) from a train.py checkpoint or, for a .onnx file, the PyTorch model rebuilt
    from it (aether.architecture and the initializers, as export_onnx.py --validate does)."""
    import aether_model
    if not path.endswith(".onnx"):
        return aether_model.load_checkpoint(path)
    import onnx
    import torch
    import export_onnx
    try:
        proto = onnx.load(path)
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except Exception as e:  # onnx raises several kinds for a file that is not a model
        raise ValueError(f"{path}: not a readable ONNX file: {e}") from None
    meta = {p.key: p.value for p in proto.metadata_props}
    try:
        model = export_onnx.model_from_file(onnx, torch, proto, meta)
    except export_onnx.ValidationError as e:
        raise ValueError(f"{path}: {e}") from None
    return model, {"train_data": meta.get("aether.train_data", "?")}


def main(argv=None):
    p = argparse.ArgumentParser(description="Per-step MAE and MASE of a model, persistence "
                                            "and drift.")
    p.add_argument("--model", required=True, help="checkpoint from train.py, or a .onnx model")
    p.add_argument("--data", required=True, nargs="+", help="CSV/JSON files (unseen data)")
    p.add_argument("--feature", default="invocations", choices=series.FEATURES)
    p.add_argument("--min-history", type=int, default=60, choices=range(1, 121),
                   metavar="1..120",
                   help="score only windows with this much history (default 60)")
    p.add_argument("--markdown", action="store_true", help="print a markdown table")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit(f"evaluate_steps.py: PyTorch is not importable by {sys.executable}")
    import aether_model
    aether_model.limit_threads(args.threads)
    try:
        model, info = load_model(args.model)
        datasets = [(path, series.read_series(path)) for path in args.data]
    except (ValueError, series.DataError) as e:
        print(f"evaluate_steps.py: {e}", file=sys.stderr)
        return 2
    model.eval()
    f = series.FEATURES.index(args.feature)
    cfg = model.config
    print(f"Model {args.model}: W={cfg['window']} H={cfg['horizon']}, trained on "
          f"{info.get('train_data', '?')}; feature {args.feature}")
    if args.markdown:
        print("| data | windows | step | MAE model | MAE persistence | MAE drift (k) | "
              "MASE model | MASE drift |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
    met = True
    for path, data in datasets:
        rows, n = score(torch, model, data, f, args.min_history)
        name = os.path.basename(path)
        if not rows:
            print(f"{name}: no window with {args.min_history} minutes of history")
            met = False
            continue
        for h, m, pe, d, k in rows:
            mase, mase_d = m / pe if pe else float("nan"), d / pe if pe else float("nan")
            if h >= 3:
                met &= mase < 1.0 and mase < mase_d
            if args.markdown:
                print(f"| {name} | {n} | {h} | {m:.2f} | {pe:.2f} | {d:.2f} ({k}) | "
                      f"{mase:.3f} | {mase_d:.3f} |")
            else:
                print(f"{name:<28} {n:>7} step {h}: MAE model {m:10.2f}  persistence {pe:10.2f}"
                      f"  drift {d:10.2f} (k={k:2d})  MASE model {mase:.3f}  drift {mase_d:.3f}")
    print("Goal met: MASE below 1 and below drift's from step 3 on, on every file" if met else
          "Goal NOT met on every file (MASE >= 1 or >= drift's at some step >= 3)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
