#!/usr/bin/python3
"""Synthetic workload patterns and the service metrics they produce, as training-data CSV.

This is the one place where the project's workload patterns are defined: the C tools (the
simulator and the load generator) read the CSVs written here, the `invocations` column being the
load. One row per minute: `timestamp` (Unix ms) and the 11 FeatureIndex v1 features.

Load (requests per second offered to the service) follows a pattern:
  steady   constant base load with noise
  diurnal  day/night cycle: peak around 13:00 UTC, trough around 23:00 UTC, about 0.4x..1.8x
  spike    diurnal base with random spikes (sudden rise, decay over minutes; some plateau)
  ramp     gradual growth from half the base load to twice it, in ramps separated by plateaus
  mixed    diurnal x growth trend + spikes (the realistic default)

The metrics then follow from the load the way they do for a real service with a fixed capacity
(--capacity requests/s at full CPU): cpu = load / capacity; latency from an M/M/1-like queue
(mean = service time / (1 - utilisation), exponential percentiles), a backlog and timeouts when
the load exceeds capacity; errors rising near saturation; heap and GC pauses with the request
rate; event-loop lag with the queueing delay; event_count = requests + background work.
The same --seed gives the same bytes.
"""

import argparse
import math
import re
import sys

import aether_python

aether_python.require("numpy")

import numpy as np  # noqa: E402 (after the interpreter check)

import aether_series as series

PATTERNS = ("diurnal", "spike", "ramp", "steady", "mixed")
DEFAULT_START_MS = 1767571200000  # 2026-01-05T00:00:00Z, a Monday
DAY_MIN = 1440

# Output precision per feature (same order as series.FEATURES).
FORMATS = ("%.4f", "%.4f", "%.3f", "%.3f", "%d", "%.3f", "%.3f", "%.3f", "%.3f", "%.5f", "%d")


def parse_duration(text, flag="--duration"):
    """'48h', '120m', '2d' (or a bare number of minutes) -> minutes."""
    m = re.fullmatch(r"\s*(\d+)\s*([mhd]?)\s*", text)
    if not m:
        raise ValueError(f"{flag} '{text}': expected a number with unit m, h or d "
                         "(e.g. 120m, 48h, 2d)")
    minutes = int(m.group(1)) * {"": 1, "m": 1, "h": 60, "d": DAY_MIN}[m.group(2)]
    if minutes < 1:
        raise ValueError(f"{flag} '{text}': must be at least one minute")
    if minutes > 366 * DAY_MIN:
        raise ValueError(f"{flag} '{text}': at most 366 days")
    return minutes


# ---------------------------------------------------------------------------------------------
# Load patterns: each returns the offered load in requests/s for every minute, before noise.


def _diurnal(t_min, start_ms, rng, amplitude=1.0, period=DAY_MIN):
    """Relative day/night shape, mean about 1: peak near 13:00 UTC, trough near 23:00 (the fall
    after the peak is steeper than the slow rise through the night and morning),
    each day's amplitude a little different. `amplitude` scales the swing (1: 0.4x..1.8x),
    `period` is the cycle's length in minutes (a day by default)."""
    tod = ((start_ms // series.MINUTE_MS + t_min) % period) / period  # 0..1 of the cycle
    day = (start_ms // series.MINUTE_MS + t_min) // period
    days = np.unique(day)
    day_swing = dict(zip(days, rng.uniform(0.85, 1.15, len(days))))
    amp = amplitude * np.array([day_swing[d] for d in day])
    shape = 0.6 * np.cos(2 * np.pi * (tod - 0.52)) + 0.12 * np.cos(4 * np.pi * (tod - 0.58))
    return 1.0 + amp * shape


def _spikes(n, rng, mean_gap_min, base):
    """Additive spikes: Poisson arrivals, 1-3 minute rise, exponential decay (5-25 min time
    constant); one in three holds a plateau of 10-40 minutes first (a flash crowd)."""
    extra = np.zeros(n)
    t = rng.exponential(mean_gap_min)
    while t < n:
        onset = int(t)
        height = base * rng.uniform(1.0, 2.5)
        rise = int(rng.integers(1, 4))
        plateau = int(rng.integers(10, 41)) if rng.random() < 1 / 3 else 0
        tau = rng.uniform(5, 25)
        length = min(n - onset, rise + plateau + int(6 * tau))
        k = np.arange(length)
        shape = np.where(k < rise, (k + 1) / rise,
                         np.where(k < rise + plateau, 1.0, np.exp(-(k - rise - plateau) / tau)))
        extra[onset:onset + length] += height * shape
        t += rise + plateau + rng.exponential(mean_gap_min)
    return extra


def _ramp_growth(n, rng, start_level, end_level):
    """From start_level to end_level through ramps (20-60% of their slot) and plateaus."""
    episodes = max(1, round(n / 240))  # one ramp per ~4 hours
    slot = n / episodes
    level = np.full(n, float(start_level))
    step = (end_level - start_level) / episodes
    for e in range(episodes):
        length = max(1, int(slot * rng.uniform(0.2, 0.6)))
        begin = int(e * slot + rng.uniform(0, slot - length))
        k = np.arange(n)
        level += step * np.clip((k - begin + 1) / length, 0.0, 1.0)
    return level


class Shape:
    """The knobs of a pattern beyond its name (the defaults are the patterns as documented):
    amplitude scales the day/night swing, period is the cycle's length in minutes, noise the
    standard deviation of the multiplicative AR(1) noise, spike_gap the mean minutes between
    spikes (spike and mixed)."""

    def __init__(self, amplitude=1.0, period=DAY_MIN, noise=0.035, spike_gap=None):
        checks = [(0 <= amplitude <= 1.6, f"amplitude {amplitude}: must be in 0..1.6"),
                  (period >= 10, f"period {period}: must be at least 10 minutes"),
                  (0 <= noise <= 0.5, f"noise {noise}: must be in 0..0.5"),
                  (spike_gap is None or spike_gap >= 10,
                   f"spike gap {spike_gap}: must be at least 10 minutes")]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        self.amplitude, self.period = amplitude, period
        self.noise, self.spike_gap = noise, spike_gap


def load_pattern(pattern, n, base_load, start_ms, rng, shape=None):
    """Offered load (requests/s) per minute for a pattern, with noise."""
    shape = shape or Shape()
    t = np.arange(n)

    def cycle():
        return _diurnal(t, start_ms, rng, shape.amplitude, shape.period)

    if pattern == "steady":
        load = np.full(n, float(base_load))
    elif pattern == "diurnal":
        load = base_load * cycle()
    elif pattern == "spike":
        load = base_load * cycle() + _spikes(n, rng, shape.spike_gap or 180, base_load)
    elif pattern == "ramp":
        load = base_load * _ramp_growth(n, rng, 0.5, 2.0)
    elif pattern == "mixed":
        trend = 1.0 + 0.5 * t / max(1, n - 1)
        load = base_load * cycle() * trend + _spikes(n, rng, shape.spike_gap or 240, base_load)
    else:
        raise ValueError(f"unknown pattern '{pattern}' (choose from {', '.join(PATTERNS)})")
    # Multiplicative noise with short memory (bursts last a few minutes), as request rates do.
    noise = np.zeros(n)
    eps = rng.normal(0.0, shape.noise, n)
    for i in range(n):
        noise[i] = (0.6 * noise[i - 1] if i else 0.0) + eps[i]
    return np.maximum(load * (1.0 + noise), 0.0)


# ---------------------------------------------------------------------------------------------
# Service model: from offered load to the 11 features.


def service_metrics(load, capacity, rng, service_ms=12.0, timeout_ms=5000.0):
    """[n, 11] minute aggregates of a service with `capacity` requests/s at full CPU."""
    n = len(load)
    out = np.zeros((n, series.N_FEATURES))
    requests = rng.poisson(load * 60.0).astype(np.float64)  # requests answered this minute
    backlog = 0.0  # requests queued beyond what the service could serve
    heap_drift = 0.0
    for i in range(n):
        offered = requests[i] / 60.0
        backlog = max(0.0, backlog + (offered - capacity) * 60.0)
        backlog = min(backlog, capacity * timeout_ms / 1000.0)  # older requests time out
        busy = min(1.0, offered / capacity + backlog / (capacity * 60.0))
        rho = min(busy, 0.97)
        wait_backlog_ms = 1000.0 * backlog / capacity
        mean_ms = 1.0 + service_ms / (1.0 - rho) + wait_backlog_ms
        mean_ms *= 1.0 + rng.normal(0.0, 0.03)
        cpu = np.clip(0.02 + 0.96 * busy + rng.normal(0.0, 0.008), 0.0, 1.0)
        heap_drift = 0.9 * heap_drift + rng.normal(0.0, 0.006)
        heap = np.clip(0.28 + 0.4 * busy + heap_drift, 0.0, 0.98)
        gc = requests[i] * 0.0025 * (1.0 + 2.0 * heap) * (1.0 + rng.normal(0.0, 0.1))
        lag = 0.4 + 0.08 * (mean_ms - 1.0 - service_ms) + abs(rng.normal(0.0, 0.1))
        overload = max(0.0, offered - capacity) / max(offered, 1e-9)
        timed_out = 0.5 * backlog / max(capacity * timeout_ms / 1000.0, 1e-9)
        error = 0.002 + 0.25 * max(0.0, busy - 0.85) ** 2 + overload + 0.2 * timed_out
        error = min(1.0, error * (1.0 + rng.normal(0.0, 0.1)))
        background = rng.poisson(60.0 + 0.02 * requests[i])
        out[i] = (cpu, heap, max(lag, 0.0), mean_ms, requests[i], max(gc, 0.0),
                  mean_ms * math.log(2.0), mean_ms * math.log(20.0), mean_ms * math.log(100.0),
                  max(error, 0.0), requests[i] + background)
    return out


def generate(pattern, minutes, base_load=100.0, seed=42, capacity=None,
             start_ms=DEFAULT_START_MS, missing_rate=0.0, shape=None):
    """(timestamps [n] Unix ms, values [n, 11] with NaN = missing) for a pattern.
    capacity defaults to 3 x base_load requests/s; shape: a Shape (default: as documented)."""
    if base_load <= 0:
        raise ValueError(f"--base-load {base_load}: must be > 0 (requests per second)")
    capacity = 3.0 * base_load if capacity is None else capacity
    if capacity <= 0:
        raise ValueError(f"--capacity {capacity}: must be > 0 (requests per second)")
    if not 0.0 <= missing_rate < 1.0:
        raise ValueError(f"--missing-rate {missing_rate}: must be in [0, 1)")
    rng = np.random.default_rng(seed)
    load = load_pattern(pattern, minutes, base_load, start_ms, rng, shape)
    values = service_metrics(load, capacity, rng)
    if missing_rate > 0:
        values[rng.random(values.shape) < missing_rate] = np.nan
    timestamps = start_ms + series.MINUTE_MS * np.arange(minutes, dtype=np.int64)
    return timestamps, values


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Generate synthetic minute metrics (training-data CSV) for a workload pattern.")
    p.add_argument("--pattern", default="mixed", choices=PATTERNS,
                   help="workload pattern (default: mixed)")
    p.add_argument("--duration", default="48h", help="length: 120m, 48h, 2d (default: 48h)")
    p.add_argument("--base-load", type=float, default=100.0,
                   help="mean offered load in requests/s (default: 100)")
    p.add_argument("--capacity", type=float, default=None,
                   help="requests/s the service handles at full CPU (default: 3 x base load)")
    p.add_argument("--missing-rate", type=float, default=0.0,
                   help="share of cells left empty, to exercise missing values (default: 0)")
    p.add_argument("--start", type=int, default=DEFAULT_START_MS,
                   help="first minute, Unix ms (default: 2026-01-05T00:00Z)")
    p.add_argument("--amplitude", type=float, default=1.0,
                   help="day/night swing relative to the documented one, 0..1.6 (default: 1)")
    p.add_argument("--period", default="1d",
                   help="length of the day/night cycle: 90m, 12h, 1d (default: 1d)")
    p.add_argument("--noise", type=float, default=0.035,
                   help="standard deviation of the multiplicative load noise (default: 0.035)")
    p.add_argument("--spike-gap", default=None,
                   help="mean time between spikes: 2h, 90m (default: 3h spike, 4h mixed)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    p.add_argument("--output", default="synthetic.csv", help="CSV file (default: synthetic.csv)")
    args = p.parse_args(argv)
    try:
        minutes = parse_duration(args.duration)
        if args.start < 0 or args.start % series.MINUTE_MS:
            raise ValueError(f"--start {args.start}: must be a whole minute in Unix ms")
        shape = Shape(args.amplitude, parse_duration(args.period, "--period"), args.noise,
                      parse_duration(args.spike_gap, "--spike-gap") if args.spike_gap else None)
        timestamps, values = generate(args.pattern, minutes, args.base_load, args.seed,
                                      args.capacity, args.start, args.missing_rate, shape)
        series.write_csv(args.output, timestamps, values, FORMATS)
    except (ValueError, OSError) as e:
        print(f"generate_synthetic.py: {e}", file=sys.stderr)
        return 2
    inv = values[:, series.INVOCATIONS]
    print(f"Generated {minutes} minutes of '{args.pattern}' load (seed {args.seed}) "
          f"-> {args.output}")
    print(f"  invocations/min: min {np.nanmin(inv):.0f}, mean {np.nanmean(inv):.0f}, "
          f"max {np.nanmax(inv):.0f}; cpu max {np.nanmax(values[:, series.CPU]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
