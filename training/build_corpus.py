#!/usr/bin/python3
"""Builds the training corpus of the default model: many minute series of the 11 features.

  synthetic  every pattern of generate_synthetic.py, several variants each with seeded random
             parameters (base load, day/night amplitude and period, noise, spike rate);
  real       the training part (the first --split % of the trace's minutes, the same
             chronological split as bench/scaling/run.py) of each real trace of the shared
             traces folder, replayed by the simulator under the reactive controller with
             --export-features, as a node running tier 1 would have recorded it;
  augmented  the same training parts with the load changed (amplitude scaled around the mean,
             time stretched, noise, level shifts and a constant offset), replayed again by the
             simulator so the features stay consistent with the load;
  noisy      (--noisy-levels, --wandering-levels) synthetic noise around a moving level, the
             second with a level that also wanders back and forth (make corpus builds 6 of those);
  local      (--local-levels) synthetic noise around a level that moves minute by minute as
             much as the noise, where an exponentially weighted recent mean wins.
With --vary-fleet every series the simulator replays (augmented, coarse and level series) runs
under an HPA at a target picked per file (FLEET_TARGETS, from --seed and the file's name)
instead of the reactive controller: the same load seen through other fleets, so that the
features that depend on the instance count (cpu, latency, event-loop lag) vary for the same
demand, as they do when a forecast sizes the fleet. The real training parts and the test parts
stay reactive (measured in docs/model.md, "Fleet-dependent inputs"; not in make corpus).
The test parts (the rest of each trace) are exported to TEST for evaluation only; nothing of them
enters the corpus. Without the traces folder the corpus is synthetic only, and the builder says
so. Everything is seeded: the same --seed and inputs give the same files.

usage: build_corpus.py --out DIR [--test DIR] [--traces DIR] [--sim PATH] [--split 70]
                       [--seed 42] [--synthetic-variants 3] [--synthetic-days 2]
                       [--augmentations 2] [--coarse N] [--noisy-levels N]
                       [--wandering-levels N] [--local-levels N] [--vary-fleet]
                       [--only FAMILIES]
Writes DIR/*.csv (training-data CSV, one series each) and DIR/manifest.json (per file: family,
kind, what it is, rows). A file's family (synthetic, nasa, azure, bitbrains) is the prefix of
its name, so a leave-one-out training takes the files whose name does not start with it.
"""

import argparse
import json
import os
import subprocess
import sys
import zlib

import aether_python

aether_python.require("numpy")

import numpy as np  # noqa: E402 (after the interpreter check)

import aether_series as series
import generate_synthetic

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BITBRAINS = "bitbrains_rnd_top20vm_cpu_5min.csv"
BITBRAINS_VMS = 6  # the first VM columns of the file (the benchmark uses the first 3)
SIM_FORMATS = ("%.6g",) * series.N_FEATURES


class CorpusError(Exception):
    """A step failed; the message names the file or command."""


def real_traces(trace_dir):
    """The real traces as the simulator reads them (flags as in bench/scaling/run.py)."""
    out = [
        dict(family="nasa", name="nasa", file="nasa_http_1995_requests_1min.csv",
             flags=["--time-column", "timestamp_local", "--value-column", "requests",
                    "--step", "1m", "--mask-column", "outage"]),
        dict(family="azure", name="azure", file="azure_functions_2019_500fn_8h_total_1min.csv",
             flags=["--time-column", "minute_of_day", "--value-column", "total_invocations",
                    "--step", "1m"]),
    ]
    path = os.path.join(trace_dir, BITBRAINS)
    try:
        with open(path) as f:
            header = f.readline().strip().split(",")
    except OSError as e:
        raise CorpusError(f"{path}: cannot read: {e}") from None
    vms = [c for c in header if c.startswith("vm")][:BITBRAINS_VMS]
    if not vms:
        raise CorpusError(f"{path} line 1: no vm<ID>_cpu_pct column")
    for vm in vms:
        out.append(dict(family="bitbrains", name=f"bitbrains-{vm.split('_')[0]}", file=BITBRAINS,
                        flags=["--time-column", "unix_s", "--value-column", vm, "--step", "5m",
                               "--scale", "10"]))
    return out


REACTIVE = ("--controller", "reactive")
FLEET_TARGETS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # --vary-fleet: the HPA targets replays run at


def fleet_flags(fleet_seed, name):
    """The controller a replay of file name runs under: the reactive one, or with --vary-fleet
    (fleet_seed = the corpus seed) an HPA at a target picked from the seed and the name alone,
    so that adding a file changes no other file's fleet."""
    if fleet_seed is None:
        return REACTIVE
    target = FLEET_TARGETS[zlib.crc32(f"{fleet_seed}:{name}".encode()) % len(FLEET_TARGETS)]
    return ("--controller", "hpa", "--hpa-target", f"{target:.2f}")


def run_sim(sim, argv, controller=REACTIVE):
    cmd = [sim] + argv + list(controller) + ["--json", "--quiet"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise CorpusError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()[-800:]}")


def segments(data):
    """Continuous runs of minutes of a series: a list of (first minute, load array)."""
    minutes = data.timestamps // series.MINUTE_MS
    load = data.values[:, series.INVOCATIONS]
    cuts = np.flatnonzero(np.diff(minutes) != 1) + 1
    return [(int(minutes[a]), load[a:b]) for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(load)])]


def augment(load, rng, stretch):
    """One augmented copy of a continuous load run (requests per minute)."""
    x = np.nan_to_num(load, nan=np.nanmean(load) if np.isfinite(load).any() else 0.0)
    if stretch != 1.0:  # time stretching: the same shape, faster or slower
        n = max(2, int(round(len(x) * stretch)))
        x = np.interp(np.linspace(0, len(x) - 1, n), np.arange(len(x)), x)
    mean = max(float(x.mean()), 1e-9)
    x = mean + rng.uniform(0.5, 1.6) * (x - mean)  # amplitude scaled around the mean
    level = np.ones(len(x))  # level shifts: the traffic moves to a new level now and then
    t = rng.exponential(1440)
    while t < len(x):
        level[int(t):] *= rng.uniform(0.6, 1.6)
        t += rng.exponential(1440)
    x = x * level + rng.uniform(0.0, 0.5) * mean  # plus a constant share of background load
    noise, eps = np.zeros(len(x)), rng.normal(0.0, rng.uniform(0.0, 0.08), len(x))
    for i in range(len(x)):
        noise[i] = (0.5 * noise[i - 1] if i else 0.0) + eps[i]
    return np.maximum(x * (1.0 + noise), 0.0)


def coarsen(load, step):
    """The load as a monitoring system that records it every `step` minutes sees it once
    interpolated back to minutes (as the simulator does with Bitbrains' 5-minute samples)."""
    x = np.nan_to_num(load, nan=np.nanmean(load) if np.isfinite(load).any() else 0.0)
    knots = np.arange(0, len(x), step)
    return np.interp(np.arange(len(x)), knots, x[knots])


def write_load(path, runs):
    """A one-column load trace of runs [(first minute, load)], each starting at its own first
    minute or, when the run before was stretched past it, a day after that run's end (a gap the
    simulator skips)."""
    at = None
    with open(path, "w") as f:
        f.write("timestamp,load\n")
        for first, load in runs:
            at = first if at is None else max(first, at + generate_synthetic.DAY_MIN)
            for v in load:
                f.write(f"{at * series.MINUTE_MS},{v:.3f}\n")
                at += 1


def add(manifest, out, name, family, kind, what):
    data = series.read_series(os.path.join(out, name))
    manifest.append(dict(file=name, family=family, kind=kind, what=what, rows=len(data)))
    print(f"  {name}: {len(data)} minutes ({what})")


def build_synthetic(out, manifest, seed, variants, days):
    rng = np.random.default_rng(seed)
    minutes = days * generate_synthetic.DAY_MIN
    for p_i, pattern in enumerate(generate_synthetic.PATTERNS):
        for v in range(variants):
            base = float(np.exp(rng.uniform(np.log(0.5), np.log(3000))))  # requests/s
            shape = generate_synthetic.Shape(
                amplitude=float(rng.uniform(0.3, 1.4)),
                period=int(rng.choice([1440, 1440, 720, 480])),
                noise=float(rng.uniform(0.01, 0.1)),
                spike_gap=float(rng.uniform(60, 360)))
            s = seed + 100 * p_i + v
            ts, values = generate_synthetic.generate(pattern, minutes, base, s, shape=shape)
            name = f"synthetic-{pattern}-{v}.csv"
            series.write_csv(os.path.join(out, name), ts, values, generate_synthetic.FORMATS)
            add(manifest, out, name, "synthetic", "synthetic",
                f"{pattern}, seed {s}, base {base:.1f} req/s, amplitude {shape.amplitude:.2f}, "
                f"period {shape.period} min, noise {shape.noise:.3f}, "
                f"spikes every {shape.spike_gap:.0f} min")


def noisy_level(rng, minutes, wander=False):
    """A load that is noise around a slowly moving level: a random-walk level (requests per
    minute, 100..100,000) with a level shift about every 3 hours, plus white noise of 3..15%
    (as a busy fleet of small functions looks minute by minute). With wander, the level also
    wanders back and forth around that: a mean-reverting (AR(1)) swing of 3..20% that forgets
    in 3..40 minutes, so the best guess of the next minutes is a short recent mean, neither the
    last minute nor the window's mean."""
    base = float(np.exp(rng.uniform(np.log(100), np.log(100000))))
    walk = np.cumsum(rng.normal(0.0, rng.uniform(0.0005, 0.004), minutes))
    shifts = np.cumsum(np.where(rng.random(minutes) < 1 / 180, rng.normal(0, 0.1, minutes), 0))
    noise = rng.normal(0, rng.uniform(0.03, 0.15), minutes)
    if wander:
        walk = walk + mean_reverting(rng, minutes, float(rng.uniform(0.03, 0.20)),
                                     float(np.exp(rng.uniform(np.log(3), np.log(40)))))
    level = base * np.exp(walk + shifts)
    return np.maximum(level * (1 + noise), 0.0)


def local_level(rng, minutes):
    """A load whose level itself moves minute by minute as much as the noise around it (the
    "local level" of a structural time-series model): a random walk of step 1..10% per minute
    (in the log of the load) plus white noise of 0.6..2 times that step, so the best guess of
    the next minutes is an exponentially weighted recent mean of weight about 0.3..0.8 on the
    last minute, not the last minute alone (its noise) nor a long mean (the level has moved),
    and no trend. A level shift about every 3 hours."""
    base = float(np.exp(rng.uniform(np.log(100), np.log(100000))))
    step = float(np.exp(rng.uniform(np.log(0.01), np.log(0.10))))
    walk = np.cumsum(rng.normal(0.0, step, minutes))
    walk = walk - np.linspace(0.0, walk[-1] - walk[0], minutes)  # no net trend over the series
    shifts = np.cumsum(np.where(rng.random(minutes) < 1 / 180, rng.normal(0, 0.1, minutes), 0))
    noise = rng.normal(0, step * float(rng.uniform(0.6, 2.0)), minutes)
    return np.maximum(base * np.exp(walk + shifts) * (1 + noise), 0.0)


def mean_reverting(rng, minutes, spread, memory):
    """[minutes] AR(1) series of stationary standard deviation spread, forgetting a factor e
    every memory minutes."""
    a = np.exp(-1.0 / memory)
    shocks = rng.normal(0.0, spread * np.sqrt(1 - a * a), minutes)
    out = np.empty(minutes)
    value = float(rng.normal(0.0, spread))
    for t in range(minutes):
        value = a * value + shocks[t]
        out[t] = value
    return out


def build_levels(sim, out, manifest, rng, count, days, kind, what, make, fleet_seed):
    """count synthetic series make(rng, minutes) (the level generators above), replayed by the
    simulator as DIR/synthetic-KIND-k.csv; rng is the kind's own stream, so that adding one kind
    changes no other file."""
    work = os.path.join(out, "load")
    os.makedirs(work, exist_ok=True)
    for k in range(count):
        load = make(rng, days * generate_synthetic.DAY_MIN)
        replay(sim, out, work, manifest, f"synthetic-{kind}-{k}.csv", "synthetic",
               f"synthetic: {what}", [(29_000_000, load)], fleet_seed)


def replay(sim, out, work, manifest, name, family, what, runs, fleet_seed):
    """Writes runs [(first minute, load)] as a load trace and replays it into out/name under
    the controller of fleet_flags."""
    load_file = os.path.join(work, name)
    write_load(load_file, runs)
    controller = fleet_flags(fleet_seed, name)
    run_sim(sim, ["--trace", load_file, "--time-column", "timestamp", "--value-column",
                  "load", "--time-format", "unix-ms", "--step", "1m", "--export-features",
                  os.path.join(out, name)], controller)
    if controller != REACTIVE:
        what += f"; replayed under the HPA at {controller[-1]}"
    add(manifest, out, name, family, what.split(":")[0], what)


def build_real(out, test_dir, manifest, trace_dir, sim, split, seed, augmentations, only,
               coarse, fleet_seed):
    rng = np.random.default_rng(seed + 7)
    rng_coarse = np.random.default_rng(seed + 11)  # its own stream: --coarse changes no other file
    work = os.path.join(out, "load")
    os.makedirs(work, exist_ok=True)
    traces = [t for t in real_traces(trace_dir) if not only or t["family"] in only]
    if not traces:
        raise CorpusError(f"--only {','.join(only)}: no such trace family (nasa, azure, "
                          "bitbrains)")
    for trace in traces:
        src = ["--trace", os.path.join(trace_dir, trace["file"])] + trace["flags"]
        name = f"{trace['name']}-train.csv"
        run_sim(sim, src + ["--to", f"{split}%", "--export-features", os.path.join(out, name)])
        add(manifest, out, name, trace["family"], "real",
            f"{trace['file']} {' '.join(trace['flags'][:4])}: first {split}% of the minutes")
        if test_dir:
            run_sim(sim, src + ["--from", f"{split}%", "--export-features",
                                os.path.join(test_dir, f"{trace['name']}-test.csv")])
        runs = segments(series.read_series(os.path.join(out, name)))
        count = augmentations * (3 if trace["family"] == "azure" else 1)  # 8 h only: more copies
        for k in range(count):
            stretch = float(rng.choice([0.5, 0.75, 1.0, 1.5, 2.0]))
            aug = [(first, augment(load, rng, stretch)) for first, load in runs if len(load) > 1]
            replay(sim, out, work, manifest, f"{trace['name']}-aug{k}.csv", trace["family"],
                   f"augmented: {name} load time-stretched x{stretch}, amplitude, level shifts, "
                   "offset, noise", aug, fleet_seed)
        for k in range(coarse if trace["family"] != "bitbrains" else 0):  # already 5-minute
            step = int(rng_coarse.choice([2, 5, 10]))
            runs_c = [(first, coarsen(augment(load, rng_coarse, 1.0), step)) for first, load in runs
                      if len(load) > step]
            replay(sim, out, work, manifest, f"{trace['name']}-coarse{k}.csv", trace["family"],
                   f"coarse: {name} load augmented, recorded every {step} minutes and "
                   "interpolated", runs_c, fleet_seed)


def main(argv=None):
    p = argparse.ArgumentParser(description="Build the training corpus of the default model.")
    p.add_argument("--out", required=True, help="folder for the corpus CSVs and manifest.json")
    p.add_argument("--test", help="folder for the test parts of the real traces (evaluation)")
    p.add_argument("--traces", default=os.environ.get(
        "AETHER_TRACES", os.path.join(ROOT, "..", "shared", "traces")),
        help="the shared traces folder (default ../shared/traces or $AETHER_TRACES)")
    p.add_argument("--sim", default=os.path.join(ROOT, "build", "bin", "aether-sim"))
    p.add_argument("--split", type=int, default=70, help="training part: first SPLIT%% (70)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--synthetic-variants", type=int, default=3,
                   help="series per synthetic pattern (3)")
    p.add_argument("--synthetic-days", type=int, default=2, help="days per synthetic series (2)")
    p.add_argument("--augmentations", type=int, default=2,
                   help="augmented copies per real trace (2; Azure's 8 hours get 3x as many)")
    p.add_argument("--coarse", type=int, default=0,
                   help="copies per real trace (not Bitbrains, already 5-minute) whose load is "
                        "recorded every 2, 5 or 10 minutes and interpolated (default 0)")
    p.add_argument("--noisy-levels", type=int, default=0,
                   help="synthetic series of noise around a moving level (default 0)")
    p.add_argument("--wandering-levels", type=int, default=0,
                   help="synthetic series of noise around a level that also wanders back and "
                        "forth (a mean-reverting swing; default 0)")
    p.add_argument("--local-levels", type=int, default=0,
                   help="synthetic series of noise around a level that moves minute by minute "
                        "as much as the noise (a local-level random walk; default 0)")
    p.add_argument("--vary-fleet", action="store_true",
                   help="replay the simulated series under an HPA at a target picked per file "
                        "(0.3..0.8) instead of the reactive controller, so that the "
                        "fleet-dependent features vary for the same load (default off)")
    p.add_argument("--only", default="",
                   help="comma-separated real trace families to use (default: all)")
    args = p.parse_args(argv)
    if not 1 <= args.split <= 99:
        p.error(f"--split {args.split}: must be in 1..99")
    for flag, value, least in (("--synthetic-variants", args.synthetic_variants, 1),
                               ("--synthetic-days", args.synthetic_days, 1),
                               ("--augmentations", args.augmentations, 0),
                               ("--coarse", args.coarse, 0),
                               ("--noisy-levels", args.noisy_levels, 0),
                               ("--wandering-levels", args.wandering_levels, 0),
                               ("--local-levels", args.local_levels, 0)):
        if value < least:
            p.error(f"{flag} {value}: must be at least {least}")
    os.makedirs(args.out, exist_ok=True)
    if args.test:
        os.makedirs(args.test, exist_ok=True)
    manifest = []
    fleet_seed = args.seed if args.vary_fleet else None
    try:
        print(f"Synthetic series -> {args.out}")
        build_synthetic(args.out, manifest, args.seed, args.synthetic_variants,
                        args.synthetic_days)
        levels = ((args.noisy_levels, 13, "noisylevel", "noise around a moving level",
                   noisy_level),
                  (args.wandering_levels, 17, "wanderlevel", "noise around a wandering level",
                   lambda rng, minutes: noisy_level(rng, minutes, wander=True)),
                  (args.local_levels, 19, "locallevel",
                   "noise around a level that moves as much as the noise", local_level))
        for count, stream, kind, what, make in levels:
            if count:
                rng = np.random.default_rng(args.seed + stream)  # own stream: no other file moves
                build_levels(args.sim, args.out, manifest, rng, count, args.synthetic_days, kind,
                             what, make, fleet_seed)
        if not os.path.isdir(args.traces):
            print(f"build_corpus.py: note: no traces folder at {args.traces}: the corpus is "
                  "SYNTHETIC ONLY (the shipped model is built with the real traces)")
            real = False
        elif not os.access(args.sim, os.X_OK):
            raise CorpusError(f"{args.sim}: the simulator is not built (make), needed to turn "
                              "the real traces into features")
        else:
            print(f"Real traces from {args.traces} (training parts: first {args.split}%)")
            build_real(args.out, args.test, manifest, args.traces, args.sim, args.split,
                       args.seed, args.augmentations, [o for o in args.only.split(",") if o],
                       args.coarse, fleet_seed)
            real = True
    except (CorpusError, series.DataError, ValueError, OSError) as e:
        print(f"build_corpus.py: {e}", file=sys.stderr)
        return 2
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(dict(seed=args.seed, split=args.split, real_traces=real,
                       vary_fleet=args.vary_fleet, files=manifest), f, indent=1)
    rows = sum(m["rows"] for m in manifest)
    print(f"Corpus: {len(manifest)} series, {rows} minutes"
          f"{'' if real else ' (synthetic only)'} -> {args.out}/manifest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
