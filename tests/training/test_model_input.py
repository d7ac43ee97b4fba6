#!/usr/bin/python3
"""The model-input rule is one rule: the training side (training/aether_series.py) and the core
(ae_model_input, through the model_input_c helper) must build the same window from the same
history. Histories: random series with missing cells, short and long gaps, short histories,
features never seen, for several window sizes.
Usage: test_model_input.py PATH/TO/model_input_c"""

import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "training"))
import aether_series as series  # noqa: E402

T0 = 1767571200000


def random_history(rng):
    """(timestamps, values) with gaps of 1..40 minutes, missing cells, a feature never seen."""
    n = int(rng.integers(1, 90))
    steps = np.where(rng.random(n) < 0.1, rng.integers(2, 41, n), 1)
    steps[0] = 0
    minutes = np.cumsum(steps)
    values = np.round(rng.random((n, series.N_FEATURES)) * 100, 3)
    values[rng.random(values.shape) < 0.15] = np.nan
    if rng.random() < 0.5:
        values[:, int(rng.integers(0, series.N_FEATURES))] = np.nan
    return T0 + minutes * series.MINUTE_MS, values


def main():
    helper = sys.argv[1]
    rng = np.random.default_rng(2026)
    cases = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "h.csv")
        for case in range(150):
            ts, values = random_history(rng)
            window = int(rng.choice([1, 2, 3, 5, 8, 16, 30, 60]))
            series.write_csv(path, ts, values, ["%.3f"] * series.N_FEATURES)
            expected = series.model_input(series.read_series(path), window)
            out = subprocess.run([helper, path, str(window)], capture_output=True, text=True,
                                 check=True).stdout
            if out.strip() == "none":
                got = None
            else:
                got = np.array([[float(v) for v in line.split(",")]
                                for line in out.splitlines()], dtype=np.float32)
            same = (got is None and expected is None) or (
                got is not None and expected is not None and got.shape == expected.shape
                and np.array_equal(got, expected))
            if not same:
                print(f"case {case}: W={window}, {len(ts)} rows; minutes "
                      f"{((ts - T0) // series.MINUTE_MS).tolist()}")
                print(f"  training side:\n{expected}\n  core:\n{got}")
                return 1
            cases += 1
    print(f"model-input rule: training side and core agree on {cases} histories")
    return 0


if __name__ == "__main__":
    sys.exit(main())
