#!/usr/bin/python3
"""The mixture model's parts against values worked by hand: each simple forecast, the roughness,
level statistics and in-window backtest errors the gate reads, the untrained gate (the plain
mean of the simple forecasts) and bad names."""
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "training"))

import torch  # noqa: E402

import aether_model  # noqa: E402
import aether_series as series  # noqa: E402

W, H = 12, 3


def window(values):
    """[1, W, 11]: values in every feature."""
    x = torch.tensor(values, dtype=torch.float32)[None, :, None]
    return x.repeat(1, 1, series.N_FEATURES)


class SimpleForecasts(unittest.TestCase):
    def test_each_forecast(self):
        # 0, 1, ..., 9, then 20, 26: last 26, last change 6, mean change of the last 5 minutes
        # (26 - 6) / 5 = 4 (the minute 5 before the last holds 6)
        x = window(list(range(10)) + [20, 26])
        names = series.SIMPLE_FORECASTS
        f = aether_model.simple_forecasts(x, H, W, names)[0, series.INVOCATIONS]  # [H, J]
        got = {n: f[:, j].tolist() for j, n in enumerate(names)}
        self.assertEqual(got["last"], [26, 26, 26])
        for h in range(H):
            self.assertAlmostEqual(got["mean3"][h], (9 + 20 + 26) / 3, places=4)
            self.assertAlmostEqual(got["mean10"][h], (sum(range(2, 10)) + 46) / 10, places=4)
            self.assertAlmostEqual(got["meanW"][h], (45 + 46) / 12, places=4)
        self.assertEqual(got["drift1x2"], [32, 38, 38])  # the change for at most 2 steps
        self.assertEqual(got["drift1"], [32, 38, 44])
        for h in range(H):
            self.assertAlmostEqual(got["drift5"][h], 26 + 4.0 * (h + 1), places=4)

    def test_exponential_levels(self):
        # 0 for 10 minutes, then 10, 20: alpha 0.5 weighs the ages 0, 1, 2.. as 1, 1/2, 1/4..
        x = window([0.0] * 10 + [10.0, 20.0])
        f = aether_model.simple_forecasts(x, H, W, ["ewm0.5", "ewm0.3"])[0, series.INVOCATIONS]
        norm5 = sum(0.5 ** a for a in range(W))
        norm3 = sum(0.7 ** a for a in range(W))
        for h in range(H):
            self.assertAlmostEqual(f[h, 0].item(), (20 + 10 * 0.5) / norm5, places=4)
            self.assertAlmostEqual(f[h, 1].item(), (20 + 10 * 0.7) / norm3, places=4)

    def test_roughness(self):
        line = window([2.0 * k for k in range(W)])
        self.assertAlmostEqual(aether_model.roughness(line)[0, 0, 0].item(), 0, places=3)
        # +1, -1, ...: first differences +-2, second differences +-4: sqrt(16 / 4) = 2
        zigzag = window([float(k % 2) for k in range(W)])
        self.assertAlmostEqual(aether_model.roughness(zigzag)[0, 0, 0].item(), 2, places=4)

    def test_gate_stats(self):
        # 0 for 9 minutes, then 3, 3, 3: the short mean 3 is far from the window's 0.75 and from
        # mean10's 0.9, in units of the recent movement sqrt(9 / 11 + (0.02 x 3)^2)
        x = window([0.0] * 9 + [3.0] * 3)
        got = aether_model.gate_stats(x, W)[0, series.INVOCATIONS].tolist()
        local = math.sqrt(9 / 11 + 0.06 ** 2 + 1e-8)
        self.assertAlmostEqual(got[0], math.tanh(2.25 / local), places=4)
        self.assertAlmostEqual(got[1], math.tanh(2.1 / local), places=4)
        # variance (9 x 0.75^2 + 3 x 2.25^2) / 12 = 1.6875; mean squared change 9 / 11
        self.assertAlmostEqual(got[2], 1 - (9 / 11) / (2 * 1.6875), places=4)
        zigzag = window([float(k % 2) for k in range(W)])  # variance 0.25, changes +-1
        self.assertAlmostEqual(aether_model.gate_stats(zigzag, W)[0, 0, 2].item(), -1, places=4)
        flat = window([5.0] * W)  # no movement at all: nothing far, finite
        self.assertEqual(aether_model.gate_stats(flat, W)[0, 0, :2].tolist(), [0, 0])

    def test_gate_stats_model(self):
        net = aether_model.AetherTSMixer(W, H, mixture=["last", "drift1"], residual=False,
                                         levels=[], gate_stats=True)
        x = window([float(k) for k in range(W)])
        width = W + 1 + aether_model.GATE_STATS
        self.assertEqual(tuple(net.gate_input(x).shape), (1, series.N_FEATURES, width))
        self.assertEqual(net.eval()(x)[0, :, series.INVOCATIONS].tolist(), [11.5, 12, 12.5])

    def test_backtest_errors(self):
        # a line 0, 2, .., 22: drift1 continues it exactly; last, cut s = 1..5 minutes short,
        # misses by 2 per step over min(s, 3) steps: 2, 2+4, 2+4+6, 12, 12 = 44 over 12 pairs
        x = window([2.0 * k for k in range(W)])
        got = aether_model.backtest_errors(x, W, H, ["last", "drift1"], 5)[0, series.INVOCATIONS]
        mean = (44 / 12 + 0) / 2
        self.assertAlmostEqual(got[0].item(), (44 / 12) / mean, places=4)  # 2: twice the mean
        self.assertAlmostEqual(got[1].item(), 0, places=6)
        flat = window([5.0] * W)  # every forecast exact: all 0, finite
        errors = aether_model.backtest_errors(flat, W, H, ["last", "mean3"], 5)
        self.assertEqual(errors[0, 0].tolist(), [0, 0])

    def test_gate_backtest_model(self):
        names = ["last", "drift1", "mean3"]
        net = aether_model.AetherTSMixer(W, H, mixture=names, residual=False, levels=[],
                                         gate_stats=True, gate_backtest=5)
        x = window([float(k) for k in range(W)])
        width = W + 1 + aether_model.GATE_STATS + len(names)
        self.assertEqual(tuple(net.gate_input(x).shape), (1, series.N_FEATURES, width))
        # untrained: the plain mean of 11, 12.., 10 (mean3 of 9, 10, 11 = 10)
        out = net.eval()(x)[0, :, series.INVOCATIONS].tolist()
        for h, want in enumerate([(11 + 12 + 10) / 3, (11 + 13 + 10) / 3, (11 + 14 + 10) / 3]):
            self.assertAlmostEqual(out[h], want, places=4)

    def test_gate_backtest_bound(self):
        aether_model.AetherTSMixer(W, H, mixture=["last"], gate_backtest=W - 3)
        with self.assertRaisesRegex(ValueError, "gate_backtest 10: must be in 0..window - 3"):
            aether_model.AetherTSMixer(W, H, mixture=["last"], gate_backtest=W - 2)

    def test_untrained_gate_is_the_mean(self):
        names = ["last", "drift1"]
        net = aether_model.AetherTSMixer(W, H, mixture=names, residual=False, levels=[])
        x = window([float(k) for k in range(W)])
        out = net.eval()(x)[0, :, series.INVOCATIONS].tolist()
        self.assertEqual(out, [11.5, 12, 12.5])  # mean of 11 and 12, 13, 14

    def test_unknown_name(self):
        with self.assertRaisesRegex(ValueError, "unknown simple forecast"):
            aether_model.AetherTSMixer(W, H, mixture=["last", "nope"])


class Ensemble(unittest.TestCase):
    """The shipped model is the mean of several members trained with different seeds."""

    @staticmethod
    def member(seed, names=("last", "drift1")):
        torch.manual_seed(seed)
        net = aether_model.AetherTSMixer(W, H, mixture=list(names), residual=False, levels=[],
                                         gate_stats=True)
        with torch.no_grad():  # trained-looking gates: each member weighs the forecasts its way
            for p in net.parameters():
                p.add_(0.3 * torch.randn_like(p))
        return net.eval()

    def test_output_is_the_members_mean(self):
        a, b, c = self.member(1), self.member(2), self.member(3)
        x = window([float(k * 5 % 7) for k in range(W)])  # last 6, last change +5
        ens = aether_model.Ensemble([a, b, c]).eval()
        want = (a(x) + b(x) + c(x)) / 3
        self.assertFalse(torch.allclose(a(x), b(x)), "the members must differ for this test")
        self.assertTrue(torch.allclose(ens(x), want, atol=1e-6))
        self.assertEqual(ens.config["members"], 3)
        # the gate inputs side by side, for a head that reads them (evaluate_upper.py)
        width = a.gate_input(x).shape[-1]
        self.assertEqual(tuple(ens.gate_input(x).shape), (1, series.N_FEATURES, 3 * width))

    def test_architecture_round_trip(self):
        ens = aether_model.Ensemble([self.member(1), self.member(2)])
        text = aether_model.architecture_json(ens)
        again = aether_model.from_architecture(text)
        self.assertIsInstance(again, aether_model.Ensemble)
        again.load_state_dict(ens.state_dict())  # same parameter names, same shapes
        x = window([float(k) for k in range(W)])
        self.assertTrue(torch.equal(again.eval()(x), ens.eval()(x)))
        single = aether_model.from_architecture(aether_model.architecture_json(self.member(1)))
        self.assertIsInstance(single, aether_model.AetherTSMixer)

    def test_bad_ensembles(self):
        with self.assertRaisesRegex(ValueError, "at least one member"):
            aether_model.Ensemble([])
        with self.assertRaisesRegex(ValueError, "differ in architecture"):
            aether_model.Ensemble([self.member(1), self.member(2, names=("last", "mean3"))])
        text = aether_model.architecture_json(aether_model.Ensemble([self.member(1)]))
        for bad in (0, 17, "2"):
            with self.assertRaisesRegex(ValueError, "members = "):
                aether_model.from_architecture(text.replace('"members": 1', f'"members": {bad!r}'
                                                            .replace("'", '"')))


class WanderingLevel(unittest.TestCase):
    def test_mean_reverting_swing(self):
        import numpy as np
        import build_corpus
        rng = np.random.default_rng(1)
        swing = build_corpus.mean_reverting(rng, 200_000, 0.1, 10.0)
        self.assertAlmostEqual(swing.std(), 0.1, delta=0.005)  # its stationary spread
        lag1 = np.corrcoef(swing[1:], swing[:-1])[0, 1]
        self.assertAlmostEqual(lag1, math.exp(-1 / 10), delta=0.01)  # forgets e in 10 minutes

    def test_wandering_level_is_seeded_and_positive(self):
        import numpy as np
        import build_corpus
        a = build_corpus.noisy_level(np.random.default_rng(3), 500, wander=True)
        b = build_corpus.noisy_level(np.random.default_rng(3), 500, wander=True)
        plain = build_corpus.noisy_level(np.random.default_rng(3), 500)
        self.assertTrue((a == b).all())
        self.assertTrue((a >= 0).all())
        self.assertFalse((a == plain).all())


if __name__ == "__main__":
    unittest.main()
