#!/usr/bin/python3
"""What a mixture model's gate does on data it has not seen: per step, the mean weight it gives
each simple forecast, the MASE of each simple forecast alone (MAE over persistence's at the same
step), of the best fixed one (an oracle: chosen on this very data) and of the model.

usage: diagnose_gate.py --model out/loo/without-azure.pt --data out/corpus/azure-train.csv
                        [--feature invocations] [--tail 0.25]
--tail F scores only the last F of each file's windows (0: all of them).
"""

import argparse
import sys

import aether_python

aether_python.require("numpy", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import aether_model  # noqa: E402
import aether_series as series  # noqa: E402
from evaluate_steps import step_errors  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description="Gate weights and simple-forecast MASE per step.")
    p.add_argument("--model", required=True, help="mixture checkpoint from train.py")
    p.add_argument("--data", required=True, nargs="+", help="CSV files the model has not seen")
    p.add_argument("--feature", default="invocations", choices=series.FEATURES)
    p.add_argument("--tail", type=float, default=0.0)
    p.add_argument("--candidates", default=",".join(aether_model.SIMPLE_FORECASTS),
                   help="simple forecasts scored alone (default: every one the model knows)")
    args = p.parse_args(argv)
    model, _ = aether_model.load_checkpoint(args.model)
    model.eval()
    cfg = model.config
    W, H, names = cfg["window"], cfg["horizon"], cfg["mixture"]
    if not names:
        print("diagnose_gate.py: not a mixture model", file=sys.stderr)
        return 2
    f = series.FEATURES.index(args.feature)
    cands = args.candidates.split(",")
    for path in args.data:
        # the windows evaluate_steps.py scores: at least 60 minutes of history
        span = max(W, 60)
        samples = series.make_samples(series.prepare(series.read_series(path), span), span, H)
        samples = samples.subset(samples.history >= span)
        if args.tail > 0:
            keep = np.zeros(len(samples), dtype=bool)
            keep[int(len(samples) * (1 - args.tail)):] = True
            samples = samples.subset(keep)
        x = torch.from_numpy(np.ascontiguousarray(samples.x[:, -W:]))
        y = samples.y[:, :, f].astype(np.float64)

        with torch.no_grad():
            weights, preds = [], []
            for i in range(0, len(x), 4096):
                xb = x[i:i + 4096]
                weights.append(model.gate_weights(model.gate_input(xb))[:, f].numpy())  # [B, H, J]
                preds.append(model(xb)[:, :, f].numpy())
            simple = aether_model.simple_forecasts(x, H, W, cands)[:, f].numpy()  # [S, H, K]
        weights = np.concatenate(weights)
        persist = step_errors(np.repeat(samples.x[:, -1:, f].astype(np.float64), H, axis=1), y)
        print(f"{path}: {len(samples)} windows")
        print("step | " + " | ".join(f"w {n}" for n in names) + " | "
              + " | ".join(f"MASE {n}" for n in cands) + " | best fixed | model")
        mase_c = np.array([step_errors(simple[:, :, k].astype(np.float64), y) / persist
                           for k in range(len(cands))])  # [K, H]
        model_mase = step_errors(np.concatenate(preds).astype(np.float64), y) / persist
        for h in range(H):
            best = int(mase_c[:, h].argmin())
            print(f"{h + 1} | " + " | ".join(f"{weights[:, h, j].mean():.2f}"
                                             for j in range(len(names))) + " | "
                  + " | ".join(f"{mase_c[k, h]:.3f}" for k in range(len(cands)))
                  + f" | {cands[best]} {mase_c[best, h]:.3f} | {model_mase[h]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
