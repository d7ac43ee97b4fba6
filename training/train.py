#!/usr/bin/python3
"""Trains the TTM forecaster on a minute series (training-data CSV or JSON export).

Windows are built by the project's model-input rule (aether_series); the split is chronological
(the last --validation-split of the windows, by time, validate); the checkpoint kept is the one
with the best validation loss, and training stops early when that has not improved for
--patience epochs. The loss is the mean absolute error in the unit the model steps in (each
feature's recent minute-to-minute movement), weighted towards cpu_usage and invocations, the two
features the autoscaler acts on. The run ends with the validation error of the model against persistence
(the last minute repeated) for every feature.
"""

import argparse
import copy
import math
import sys
import time

import aether_python

aether_python.require("numpy", "torch")

import numpy as np  # noqa: E402 (after the interpreter check)

import aether_series as series


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be a positive integer")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(description="Train the Aether TTM forecaster.")
    p.add_argument("--data", required=True, nargs="+",
                   help="training data: CSV or JSON exports, or folders of CSVs (a corpus: "
                        "each file one series)")
    p.add_argument("--exclude", default="",
                   help="comma-separated name prefixes of files to leave out of a folder "
                        "(leave-one-out: --exclude nasa)")
    p.add_argument("--windows-per-series", type=int, default=0,
                   help="at most this many windows of each series, evenly spaced in time "
                        "(0: all)")
    p.add_argument("--epochs", type=positive_int, default=100, help="maximum epochs (default 100)")
    p.add_argument("--batch-size", type=positive_int, default=256, help="default 256")
    p.add_argument("--learning-rate", type=float, default=2e-3, help="AdamW step (default 2e-3)")
    p.add_argument("--seq-len", type=positive_int, default=60,
                   help="input window W in minutes, 1..120 (= input_window_minutes; default 60)")
    p.add_argument("--horizon", type=positive_int, default=1,
                   help="minutes predicted H, 1..10 (= prediction_horizon; default 1)")
    p.add_argument("--validation-split", type=float, default=0.2,
                   help="share of windows (the latest) held for validation (default 0.2)")
    p.add_argument("--output", default="model.pt", help="checkpoint file (default model.pt)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--patience", type=positive_int, default=8,
                   help="stop after this many epochs without a better validation loss (8)")
    p.add_argument("--arch", default="tsmixer", choices=("tsmixer", "mixer"),
                   help="tsmixer: features share the time MLPs (default); mixer: the reference "
                        "mixer of the spec")
    p.add_argument("--time-hidden", type=positive_int, default=64,
                   help="tsmixer: hidden width of the time MLP (default 64)")
    p.add_argument("--levels", default="cpu_usage",
                   help="tsmixer: comma-separated ratio features also given unnormalised "
                        "(default cpu_usage; empty for none)")
    p.add_argument("--base-k", type=positive_int, default=1,
                   help="tsmixer: the output is a change from the mean of the last K minutes "
                        "(default 1: the last minute)")
    p.add_argument("--mixture", default="",
                   help="tsmixer: comma-separated simple forecasts (of "
                        + ",".join(series.SIMPLE_FORECASTS) + ") whose gated mean, the gate "
                        "learned per feature and step, is the output (default none: a change "
                        "from the last minute)")
    p.add_argument("--no-residual", dest="residual", action="store_false",
                   help="tsmixer --mixture: no learned correction on top of the gated mean")
    p.add_argument("--gate-stats", action="store_true",
                   help="tsmixer --mixture: the gates also read level statistics of the window "
                        "(how far the short mean is from the longer ones, in noise units, and "
                        "the lag-1 autocorrelation; aether_model.gate_stats)")
    p.add_argument("--gate-backtest", type=int, default=0, metavar="N",
                   help="tsmixer --mixture: the gates also read how each simple forecast did "
                        "from the last N origins inside the window, relative to the others "
                        "(aether_model.backtest_errors; default 0, off)")
    p.add_argument("--d-model", type=positive_int, default=None,
                   help="tsmixer: feature MLP width (default 32); mixer: model width (64)")
    p.add_argument("--layers", type=positive_int, default=None,
                   help="mixer blocks (default: 2 for tsmixer, 3 for mixer)")
    p.add_argument("--expansion", type=positive_int, default=4,
                   help="mixer: channel MLP width as a multiple of d-model (default 4)")
    p.add_argument("--dropout", type=float, default=0.1, help="default 0.1")
    p.add_argument("--short-share", type=float, default=0.1,
                   help="share of training windows cut to W/2..W-1 minutes and left-padded, as "
                        "the node does for a short history (default 0.1)")
    p.add_argument("--focus-weight", type=float, default=3.0,
                   help="loss weight of cpu_usage and invocations relative to the other "
                        "features (default 3)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch threads (default 1: on a small shared machine OpenMP threads "
                        "that spin-wait for busy cores make epochs many times slower)")
    args = p.parse_args(argv)
    checks = [
        (1 <= args.seq_len <= 120, f"--seq-len {args.seq_len}: must be in 1..120"),
        (1 <= args.horizon <= 10, f"--horizon {args.horizon}: must be in 1..10"),
        (0 < args.validation_split < 1,
         f"--validation-split {args.validation_split}: must be between 0 and 1"),
        (args.learning_rate > 0 and math.isfinite(args.learning_rate),
         f"--learning-rate {args.learning_rate}: must be > 0"),
        (0 <= args.dropout < 1, f"--dropout {args.dropout}: must be in [0, 1)"),
        (0 <= args.short_share <= 1, f"--short-share {args.short_share}: must be in [0, 1]"),
        (args.base_k <= args.seq_len, f"--base-k {args.base_k}: must be at most --seq-len"),
        (args.focus_weight > 0, f"--focus-weight {args.focus_weight}: must be > 0"),
        (not args.gate_stats or args.mixture.strip(), "--gate-stats: needs --mixture"),
        (not args.gate_backtest or args.mixture.strip(), "--gate-backtest: needs --mixture"),
        (0 <= args.gate_backtest <= args.seq_len - 3,
         f"--gate-backtest {args.gate_backtest}: must be in 0..--seq-len - 3"),
    ]
    for ok, message in checks:
        if not ok:
            p.error(message)
    names = [n.strip() for n in args.levels.split(",") if n.strip()]
    unknown = [n for n in names if n not in series.FEATURES]
    if unknown:
        p.error(f"--levels: unknown feature(s) {', '.join(unknown)}")
    args.level_indices = [series.FEATURES.index(n) for n in names]
    args.mixture_names = [n.strip() for n in args.mixture.split(",") if n.strip()]
    unknown = [n for n in args.mixture_names if n not in series.SIMPLE_FORECASTS]
    if unknown:
        p.error(f"--mixture: unknown simple forecast(s) {', '.join(unknown)}")
    return args


def import_torch():
    try:
        import torch
    except ImportError:
        sys.exit(f"train.py: PyTorch is not importable by {sys.executable}; use /usr/bin/python3 "
                 "with Debian's python3-torch (make -C training setup)")
    return torch


def feature_weights(torch, focus):
    w = torch.ones(series.N_FEATURES)
    w[series.CPU] = focus
    w[series.INVOCATIONS] = focus
    return w


def scaled_loss(torch, model, pred, x, y, weights):
    """Weighted mean |pred - y| in the unit the model moves its output in (its error_scale:
    how much each feature of that window moves per minute), over non-missing targets. Each term
    is capped at 10 units so a sudden jump (a spike onset, which no model can foresee) does not
    dominate the gradient."""
    scale = model.error_scale(x)
    mask = ~torch.isnan(y)
    err = ((pred - torch.nan_to_num(y)).abs() / scale).clamp(max=10.0)
    w = mask * weights
    return (err * w).sum() / w.sum().clamp(min=1e-12)


def shorten(torch, x, history, generator):
    """Windows x left-padded as if only n in [W/2, W) minutes were known (n at most the
    history they really had)."""
    window = x.shape[1]
    half = series.half_window(window)
    if half >= window or len(history) == 0:
        return x
    n = torch.randint(half, window, (x.shape[0],), generator=generator)
    n = torch.minimum(n, history)
    idx = torch.maximum(torch.arange(window)[None, :], (window - n)[:, None])
    return torch.gather(x, 1, idx[:, :, None].expand(-1, -1, x.shape[2]))


def predict(torch, model, x, batch=1024):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(model(x[i:i + batch]))
    return torch.cat(out) if out else torch.zeros(0)


def main(argv=None):
    started = time.monotonic()
    args = parse_args(argv)
    W, H = args.seq_len, args.horizon
    try:
        paths = series.corpus_files(args.data, [e for e in args.exclude.split(",") if e])
        print(f"Loading data from {', '.join(args.data)} ({len(paths)} series)...")
        loaded = [series.read_series(path) for path in paths]
    except series.DataError as e:
        print(f"train.py: {e}", file=sys.stderr)
        return 2
    train_parts, val_parts, minutes, used = [], [], 0, []
    for data in loaded:
        if len(loaded) == 1:
            print(f"  {len(data)} samples, {series.N_FEATURES} features ({data.span_text()})")
        if data.duplicates:
            print(f"  note: {data.source}: {data.duplicates} rows repeated a minute; kept the "
                  "last of each")
        missing = int(np.isnan(data.values).sum())
        if missing and len(loaded) == 1:
            print(f"  note: {missing} missing values (carried forward by the model-input rule)")
        prep = series.prepare(data, W)
        samples = series.make_samples(prep, W, H, args.windows_per_series)
        n_val = int(round(len(samples) * args.validation_split))
        n_train = len(samples) - n_val
        if len(prep.filled) < 2 * W + H or n_val < 1 or n_train < 1:
            if len(loaded) == 1:
                print(f"train.py: {data.source}: too little data: {len(prep.filled)} usable "
                      f"minutes give {len(samples)} windows; --seq-len {W} --horizon {H} needs "
                      f"at least {2 * W + H} minutes (2 x seq-len + horizon) of continuous "
                      f"history (24 hours or more recommended)", file=sys.stderr)
                return 2
            print(f"  note: {data.source}: skipped, too short for --seq-len {W} ({len(samples)} "
                  "windows)")
            continue
        train_parts.append(samples.subset(slice(0, n_train)))
        val_parts.append(samples.subset(slice(n_train, None)))
        minutes += len(data)
        used.append(data)
    if not train_parts:
        print(f"train.py: {', '.join(args.data)}: no series long enough for --seq-len {W} "
              f"--horizon {H} (each needs at least {2 * W + H} minutes)", file=sys.stderr)
        return 2
    train, val = series.concat_samples(train_parts), series.concat_samples(val_parts)
    train_data = used[0].describe() if len(used) == 1 else \
        f"corpus of {len(used)} series, {minutes} minutes ({series.corpus_summary(used)})"
    # torch is imported only now: bad data is reported without waiting for it.
    torch = import_torch()
    import aether_model

    aether_model.limit_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    print(f"  {len(train) + len(val)} sequences (seq_len={W}, horizon={H})")
    print(f"  Training: {len(train)}, Validation: {len(val)} (the latest "
          f"{args.validation_split:g} of each series)")
    print(f"  Device: cpu ({args.threads} threads)")

    if args.arch == "tsmixer":
        model = aether_model.AetherTSMixer(W, H, time_hidden=args.time_hidden,
                                           feature_hidden=args.d_model or 32,
                                           layers=args.layers or 2,
                                           dropout=args.dropout, levels=args.level_indices,
                                           base_k=args.base_k, mixture=args.mixture_names,
                                           residual=args.residual,
                                           gate_stats=args.gate_stats,
                                           gate_backtest=args.gate_backtest)
    else:
        model = aether_model.AetherMixer(W, H, d_model=args.d_model or 64, layers=args.layers or 3,
                                         expansion=args.expansion, dropout=args.dropout)
    print(f"  Model parameters: {aether_model.parameter_count(model):,}")
    xt, yt = torch.from_numpy(train.x), torch.from_numpy(train.y)
    ht = torch.from_numpy(train.history)
    xv, yv = torch.from_numpy(val.x), torch.from_numpy(val.y)
    weights = feature_weights(torch, args.focus_weight)
    opt = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=4)
    gen = torch.Generator().manual_seed(args.seed)

    persist_loss = scaled_loss(torch, model, torch.from_numpy(
        series.persistence(val.x, H)), xv, yv, weights).item()
    print(f"  Persistence (last value) val_loss={persist_loss:.6f}")
    best_loss, best_state, best_epoch, stale = math.inf, None, 0, 0
    epoch_times = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.monotonic()
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        total, count = 0.0, 0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            x, y = xt[idx], yt[idx]
            cut = torch.rand(len(idx), generator=gen) < args.short_share
            if cut.any():
                x = x.clone()
                x[cut] = shorten(torch, x[cut], ht[idx][cut], gen)
            loss = scaled_loss(torch, model, model(x), x, y, weights)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * len(idx)
            count += len(idx)
        val_loss = scaled_loss(torch, model, predict(torch, model, xv), xv, yv,
                               weights).item()
        sched.step(val_loss)
        epoch_times.append(time.monotonic() - t0)
        mark = ""
        if val_loss < best_loss:
            best_loss, best_epoch, stale = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
            mark = " *"
        else:
            stale += 1
        print(f"  Epoch {epoch:4d}/{args.epochs}: train_loss={total / count:.6f} "
              f"val_loss={val_loss:.6f} ({epoch_times[-1]:.1f}s){mark}")
        if stale >= args.patience:
            print(f"  Early stop: no better validation loss for {args.patience} epochs")
            break

    model.load_state_dict(best_state)
    model.eval()
    pred = predict(torch, model, xv).numpy()
    cmp = series.Comparison(pred, series.persistence(val.x, H), val.y)
    print(f"\nTraining complete. Best validation loss: {best_loss:.6f} (epoch {best_epoch})")
    print(f"Validation error against persistence (last value), {len(val)} windows:")
    for line in cmp.table():
        print(line)
    info = {
        "seed": args.seed,
        "train_data": train_data,
        "val_wape": cmp.val_wape(),
        "val_skill": cmp.skill(),
        "persistence_val_wape": cmp.val_wape(persist=True),
        "best_epoch": best_epoch,
        "best_val_loss": best_loss,
        "args": {k: v for k, v in vars(args).items() if k not in ("output", "threads")},
    }
    aether_model.save_checkpoint(args.output, model, info)
    print(f"Model saved to {args.output}")
    mean_epoch = sum(epoch_times) / len(epoch_times)
    print(f"Wall time: {time.monotonic() - started:.1f}s "
          f"({len(epoch_times)} epochs, {mean_epoch:.2f}s per epoch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
