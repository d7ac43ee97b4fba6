#!/usr/bin/python3
"""Does a learned upper quantile of the demand peak size the fleet better than the headroom ring?

Offline check on minute series the model has not seen (the test parts of the real traces). For
every window it compares these upper bounds on the peak of the next H minutes' invocations (the
number the forecast analyzer sizes the fleet's upper term from, docs/core.md):
  ring         the core's: point peak (max predicted invocations over the horizon, at least 0)
               + the q-quantile of the shortfalls (max over a forecast's minutes of actual -
               predicted) of the last 240 forecasts resolved before this one (0 before any);
  ring-scaled  the same ring with each shortfall divided by its window's recent movement (the
               RMS of the last 15 one-minute changes of invocations, aether_model.local_scale)
               and multiplied back by this window's: a state-dependent bound any forecaster
               can have, without a network;
  head         point peak + local scale x m, m from a small head (G -> 16 -> 1) on the
               frozen model's gate input for invocations (its blocks' output, roughness and any
               gate statistics; G wide),
               trained with the pinball loss at quantile q on the corpus (minus --exclude):
               the point forecast is untouched;
  head+ring    the head plus the q-quantile of its own recent misses (conformal; may narrow it);
  head-x-ring  the head's margin times the q-quantile of recent misses in units of it;
  select       per window, ring (q) or head (factor 1), whichever had the lower mean pinball
               loss over the last 240 resolved forecasts.
Per family it prints coverage (share of windows whose actual peak is at or under the bound) and
width (mean(bound - actual peak) / mean(actual peak): the capacity held above the demand), each
method swept over its own knob (ring: the quantile; head: a factor on m), and each method's
width interpolated at equal coverage (0.90 and 0.95). Windows: those with at least
--min-history minutes of history, as evaluate_steps.py; every earlier forecast feeds the rings.

usage: evaluate_upper.py --model M.onnx --corpus DIR --data a-test.csv [...] [--exclude FAMILY]
                         [--quantile 0.95] [--windows-per-series 400] [--epochs 40]
Exit status 2 on bad input.
"""

import argparse
import collections
import os
import sys
import time

import aether_python

aether_python.require("numpy", "torch", "onnx")

import numpy as np  # noqa: E402 (after the interpreter check)

import aether_series as series

RING = 240  # CONF_SHORTFALL_WINDOW
HIDDEN = 16
RING_QUANTILES = (0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 1.0)
HEAD_FACTORS = (0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0)
COVERAGES = (0.90, 0.95)
# select: ring quantile and head factor applied together (one knob for the frontier)
SELECT_PAIRS = tuple(zip(RING_QUANTILES, (0.4, 0.6, 1.0, 1.25, 1.5, 2.0, 2.5)))
INV = series.INVOCATIONS


def window_parts(torch, model, x, batch=4096):
    """(gate input of invocations [S, G], point forecast of invocations [S, H], local scale [S])
    of windows x; G is W + 1, or W + 4 for a model with gate statistics."""
    import aether_model
    window = model.config["window"]
    feats, preds, scales = [], [], []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.from_numpy(np.ascontiguousarray(x[i:i + batch, -window:]))
            feats.append(model.gate_input(xb)[:, INV, :].numpy())
            preds.append(model(xb)[:, :, INV].numpy())
            scales.append(aether_model.local_scale(xb, window)[:, 0, INV].numpy())
    return (np.concatenate(feats).astype(np.float32), np.concatenate(preds).astype(np.float64),
            np.concatenate(scales).astype(np.float64))


def point_peak(pred):
    """[S]: the point forecast's peak over the horizon, at least 0 (what the analyzer sizes on)."""
    return np.maximum(pred, 0.0).max(axis=1)


def actual_peak(y):
    """[S] max actual invocations over the horizon (NaN when every minute is missing)."""
    v = y[:, :, INV].astype(np.float64)
    peak = np.where(np.isnan(v), -np.inf, v).max(axis=1)
    return np.where(np.isfinite(peak), peak, np.nan)


def shortfall(pred, y):
    """[S] max over a forecast's minutes of actual - predicted invocations (NaN: none known)."""
    d = y[:, :, INV].astype(np.float64) - pred
    d = np.where(np.isnan(d), -np.inf, d).max(axis=1)
    return np.where(np.isfinite(d), d, np.nan)


def ring_apply(values, ends, horizon, stat, empty):
    """[S] per window, stat(array) of the non-missing values of the last RING windows resolved
    before it (those that end at least horizon minutes earlier); `empty` before any."""
    out = np.full(len(ends), float(empty))
    hist = collections.deque(maxlen=RING)
    j = 0
    for i, end in enumerate(ends):
        while j < len(ends) and ends[j] + horizon <= end:
            if not np.isnan(values[j]):
                hist.append(values[j])
            j += 1
        if hist:
            out[i] = stat(np.fromiter(hist, float))
    return out


def ring_quantile(values, ends, horizon, q, floor=0.0, empty=0.0):
    """ring_apply with the q-quantile (core rule: the smallest value with at least a share q
    at or below it, never below floor: 0 in the core)."""
    return ring_apply(values, ends, horizon,
                      lambda v: max(floor, np.sort(v)[int(np.ceil(q * len(v))) - 1]), empty)


def pinball_of(actual, bound, q):
    """[S] the pinball loss of each bound at quantile q (NaN where actual is)."""
    d = actual - bound
    return np.maximum(q * d, (q - 1) * d)


def select(actual, ring, head, ends, horizon, q):
    """[S] True where the head's bound had the lower mean pinball loss over the last RING
    resolved forecasts (the ring wins ties and before any)."""
    ring_loss = ring_apply(pinball_of(actual, ring, q), ends, horizon, np.mean, 0.0)
    head_loss = ring_apply(pinball_of(actual, head, q), ends, horizon, np.mean, 0.0)
    return head_loss < ring_loss


class Head:
    """point peak + local x m(gate input): m from G -> HIDDEN -> 1 (GELU)."""

    def __init__(self, torch, width):
        self.net = torch.nn.Sequential(torch.nn.Linear(width, HIDDEN), torch.nn.GELU(),
                                       torch.nn.Linear(HIDDEN, 1))

    def margin(self, torch, feats):
        self.net.eval()
        with torch.no_grad():
            return self.net(torch.from_numpy(feats))[:, 0].numpy().astype(np.float64)


def pinball(torch, m, z, q):
    d = z - m
    return torch.maximum(q * d, (q - 1) * d).mean()


def head_data(torch, model, paths, horizon, limit):
    """(train, validation) of (gate input, z = (actual peak - point peak) / local): the latest
    20% of each series' windows validate, as train.py; z is clipped to +-50 units so that a
    jump no window announces does not dominate the loss."""
    parts = ([], [])
    for path in paths:
        data = series.read_series(path)
        w = model.config["window"]
        samples = series.make_samples(series.prepare(data, w), w, horizon, limit)
        if len(samples) < 10:
            continue
        feats, pred, local = window_parts(torch, model, samples.x)
        z = (actual_peak(samples.y) - point_peak(pred)) / local
        keep = np.isfinite(z)
        n_val = int(round(len(samples) * 0.2))
        for part, sel in ((0, slice(0, len(samples) - n_val)), (1, slice(len(samples) - n_val,
                                                                          None))):
            k = keep[sel]
            parts[part].append((feats[sel][k], np.clip(z[sel][k], -50, 50).astype(np.float32)))
    if not parts[0]:
        raise ValueError(f"{', '.join(paths)}: no series with 10 windows to train the head on")
    return [(np.concatenate([a for a, _ in p]), np.concatenate([b for _, b in p]))
            for p in parts]


def train_head(torch, model, paths, horizon, q, limit, epochs, seed):
    torch.manual_seed(seed)
    (ft, zt), (fv, zv) = head_data(torch, model, paths, horizon, limit)
    head = Head(torch, ft.shape[1])
    opt = torch.optim.AdamW(head.net.parameters(), lr=3e-3, weight_decay=1e-4)
    ft, zt, fv, zv = (torch.from_numpy(a) for a in (ft, zt, fv, zv))
    gen = torch.Generator().manual_seed(seed)
    best, best_state = float("inf"), None
    for _ in range(epochs):
        head.net.train()
        order = torch.randperm(len(ft), generator=gen)
        for i in range(0, len(order), 256):
            idx = order[i:i + 256]
            loss = pinball(torch, head.net(ft[idx])[:, 0], zt[idx], q)
            opt.zero_grad()
            loss.backward()
            opt.step()
        head.net.eval()
        with torch.no_grad():
            val = pinball(torch, head.net(fv)[:, 0], zv, q).item()
        if val < best:
            best, best_state = val, {k: v.clone() for k, v in head.net.state_dict().items()}
    head.net.load_state_dict(best_state)
    const = np.quantile(zv.numpy(), q)  # the best constant m on validation, for reference
    const_loss = pinball(torch, torch.full_like(zv, float(const)), zv, q).item()
    return head, len(ft), len(fv), best, const_loss


def score_file(torch, model, head, data, horizon, q, min_history):
    """Per window scored: actual peak, and per method and knob the bound (dict of arrays)."""
    w = model.config["window"]
    span = max(w, min_history)
    samples = series.make_samples(series.prepare(data, span), span, horizon)
    samples = samples.subset(samples.history >= w)  # forecasts that feed the rings
    feats, pred, local = window_parts(torch, model, samples.x)
    peak = point_peak(pred)
    short = shortfall(pred, samples.y)
    scored = (samples.history >= span) & np.isfinite(actual_peak(samples.y))
    m = head.margin(torch, feats)
    bounds = {}
    for rq in RING_QUANTILES:
        bounds[("ring", rq)] = peak + ring_quantile(short, samples.ends, horizon, rq)
        bounds[("ring-scaled", rq)] = peak + local * ring_quantile(short / local, samples.ends,
                                                                   horizon, rq)
    for c in HEAD_FACTORS:
        bounds[("head", c)] = np.maximum(peak + c * local * m, 0.0)
    # The head calibrated online by the ring (conformal): its own misses, additive (may also
    # narrow it) or as a factor on its margin.
    actual = actual_peak(samples.y)
    upper = np.maximum(peak + local * m, 0.0)
    margin = local * np.maximum(m, 0.1)
    for rq in RING_QUANTILES:
        bounds[("head+ring", rq)] = np.maximum(
            upper + ring_quantile(actual - upper, samples.ends, horizon, rq, -np.inf), 0.0)
        bounds[("head-x-ring", rq)] = peak + margin * ring_quantile(
            (actual - peak) / margin, samples.ends, horizon, rq, -np.inf, 1.0)
    # Per forecast the one of ring (q) and head (factor 1) with the lower recent pinball loss,
    # then each knob pair of the two applied to the one chosen.
    chosen = select(actual, peak + ring_quantile(short, samples.ends, horizon, q), upper,
                    samples.ends, horizon, q)
    for rq, c in SELECT_PAIRS:
        bounds[("select", rq)] = np.where(chosen, np.maximum(peak + c * local * m, 0.0),
                                          bounds[("ring", rq)])
    print(f"  {os.path.basename(data.source)}: select chose the head for "
          f"{np.mean(chosen[scored]):.3f} of the forecasts")
    return actual[scored], {k: v[scored] for k, v in bounds.items()}


def coverage_width(actual, bound):
    return float(np.mean(actual <= bound)), float(np.mean(bound - actual) / np.mean(actual))


def at_coverage(points, target):
    """Width interpolated at coverage `target` from (coverage, width) points; NaN when the
    sweep does not bracket it."""
    pts = sorted(points)
    for (c0, w0), (c1, w1) in zip(pts, pts[1:]):
        if c0 <= target <= c1:
            return w0 if c1 == c0 else w0 + (w1 - w0) * (target - c0) / (c1 - c0)
    return float("nan")


def family(path):
    name = os.path.basename(path)
    return name.split("-")[0]


def main(argv=None):
    p = argparse.ArgumentParser(description="Learned upper quantile vs the headroom ring.")
    p.add_argument("--model", required=True, help="checkpoint from train.py, or a .onnx model")
    p.add_argument("--corpus", required=True, help="training corpus folder (build_corpus.py)")
    p.add_argument("--data", required=True, nargs="+", help="test-part CSVs (unseen data)")
    p.add_argument("--exclude", default="", help="corpus name prefixes left out of the head's "
                                                 "training (leave-one-out)")
    p.add_argument("--quantile", type=float, default=0.95)
    p.add_argument("--windows-per-series", type=int, default=400,
                   help="head training: at most this many windows of each series (0: all)")
    p.add_argument("--epochs", type=int, default=40, help="head training epochs (default 40)")
    p.add_argument("--min-history", type=int, default=60, choices=range(1, 121),
                   metavar="1..120", help="score only windows with this much history (60)")
    p.add_argument("--seed", type=int, default=42, help="head initialisation and order (42)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = p.parse_args(argv)
    if not 0.5 <= args.quantile < 1:
        p.error(f"--quantile {args.quantile}: must be in [0.5, 1)")
    if args.epochs < 1 or args.windows_per_series < 0:
        p.error(f"--epochs {args.epochs} must be >= 1, --windows-per-series "
                f"{args.windows_per_series} >= 0")
    import torch
    import aether_model
    import evaluate_steps
    aether_model.limit_threads(args.threads)
    started = time.monotonic()
    try:
        model, _ = evaluate_steps.load_model(args.model)
        if not model.config.get("mixture"):
            raise ValueError(f"{args.model}: not a mixture model (the head reads its gate input)")
        paths = series.corpus_files([args.corpus], [e for e in args.exclude.split(",") if e])
        tests = [(path, series.read_series(path)) for path in args.data]
        model.eval()
        horizon = model.config["horizon"]
        head, n_train, n_val, val_loss, const_loss = train_head(
            torch, model, paths, horizon, args.quantile, args.windows_per_series, args.epochs,
            args.seed)
    except (ValueError, series.DataError) as e:
        print(f"evaluate_upper.py: {e}", file=sys.stderr)
        return 2
    print(f"Model {args.model}, H={horizon}; head q={args.quantile} trained on {len(paths)} "
          f"series (excluded: {args.exclude or 'none'}), {n_train} / {n_val} windows; "
          f"validation pinball {val_loss:.4f} (best constant margin: {const_loss:.4f}); "
          f"{time.monotonic() - started:.0f} s")
    pooled = collections.defaultdict(lambda: ([], collections.defaultdict(list)))
    for path, data in tests:
        actual, bounds = score_file(torch, model, head, data, horizon, args.quantile,
                                    args.min_history)
        acc = pooled[family(path)]
        acc[0].append(actual)
        for k, v in bounds.items():
            acc[1][k].append(v)
    print("| family | windows | method | knob | coverage | width |")
    print("|---|---:|---|---:|---:|---:|")
    summary = []
    for fam, (actuals, bounds) in pooled.items():
        actual = np.concatenate(actuals)
        sweeps = collections.defaultdict(list)
        for (method, knob), parts in bounds.items():
            cov, width = coverage_width(actual, np.concatenate(parts))
            sweeps[method].append((cov, width))
            print(f"| {fam} | {len(actual)} | {method} | {knob:g} | {cov:.3f} | {width:.3f} |")
        for method, pts in sweeps.items():
            summary.append((fam, method, [at_coverage(pts, c) for c in COVERAGES]))
    print("\nWidth at equal coverage (interpolated; nan: the sweep does not reach it)")
    print("| family | method | " + " | ".join(f"width at {c:.2f}" for c in COVERAGES) + " |")
    print("|---|---|" + "---:|" * len(COVERAGES))
    for fam, method, widths in summary:
        print(f"| {fam} | {method} | " + " | ".join(f"{w:.3f}" for w in widths) + " |")
    print(f"Wall time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
