#!/usr/bin/python3
"""evaluate_upper.py's measuring parts against values worked by hand: the core's ring rule
(last 240 resolved, the smallest value with a share q at or below it, never below 0), the
peaks and shortfalls with missing minutes, coverage and width, and the interpolation at equal
coverage."""
import math
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "training"))

import numpy as np  # noqa: E402

import aether_series as series  # noqa: E402
import evaluate_upper as eu  # noqa: E402

INV = series.INVOCATIONS


def targets(rows):
    """[S, H, 11] with invocations = rows (NaN = missing), the rest 0."""
    y = np.zeros((len(rows), len(rows[0]), series.N_FEATURES), np.float32)
    y[:, :, INV] = rows
    return y


class Ring(unittest.TestCase):
    def test_only_resolved_forecasts_count(self):
        # horizon 2: the forecast ending at minute e resolves for forecasts ending at e + 2 on
        ends = np.array([0, 1, 2, 3, 4])
        values = np.array([5.0, 1.0, 3.0, 2.0, 4.0])
        got = eu.ring_quantile(values, ends, 2, 0.5)
        # e=0, 1: nothing resolved (0); e=2: {5} -> 5; e=3: {5, 1} -> smallest with half at or
        # below: 1; e=4: {5, 1, 3} -> ceil(1.5) = 2nd smallest = 3
        np.testing.assert_array_equal(got, [0.0, 0.0, 5.0, 1.0, 3.0])

    def test_floor_empty_and_missing(self):
        ends = np.arange(4)
        values = np.array([-3.0, np.nan, -1.0, 7.0])
        # core rule: never below 0
        np.testing.assert_array_equal(eu.ring_quantile(values, ends, 1, 0.95),
                                      [0.0, 0.0, 0.0, 0.0])
        # no floor, 1 before any: NaN is skipped, the max of {-3, -1} is -1
        np.testing.assert_array_equal(
            eu.ring_quantile(values, ends, 1, 1.0, -np.inf, 1.0), [1.0, -3.0, -3.0, -1.0])

    def test_window_keeps_the_last_240(self):
        n = eu.RING + 10
        ends = np.arange(n + 1)
        values = np.concatenate([np.full(10, 100.0), np.arange(eu.RING, dtype=float), [0.0]])
        # the last forecast sees values[10..n-1] = 0..239 only: the q=1 value is 239, not 100
        self.assertEqual(eu.ring_quantile(values, ends, 1, 1.0)[-1], eu.RING - 1)
        # and its median: ceil(0.5 x 240) = the 120th smallest = 119
        self.assertEqual(eu.ring_quantile(values, ends, 1, 0.5)[-1], 119)


class Select(unittest.TestCase):
    def test_pinball(self):
        # q = 0.9: a miss of 10 costs 9, an excess of 10 costs 1
        np.testing.assert_allclose(eu.pinball_of(np.array([20.0, 0.0, np.nan]),
                                                 np.array([10.0, 10.0, 5.0]), 0.9),
                                   [9.0, 1.0, np.nan])

    def test_the_bound_with_the_lower_recent_loss_is_chosen(self):
        # horizon 1; the ring always 10 over the actual (loss 0.5 each at q = 0.95), the head
        # exact (loss 0) for the first three forecasts, then 100 under (loss 95)
        actual = np.array([100.0, 100.0, 100.0, 100.0, 100.0, 100.0])
        ring = actual + 10
        head = np.array([100.0, 100.0, 100.0, 0.0, 0.0, 0.0])
        got = eu.select(actual, ring, head, np.arange(6), 1, 0.95)
        # e=0: nothing resolved, ring; e=1..3: head's mean 0 < 0.5; e=4: head's mean over
        # {0, 0, 0, 95} = 23.75 > 0.5, ring; e=5 likewise
        np.testing.assert_array_equal(got, [False, True, True, True, False, False])


class Peaks(unittest.TestCase):
    def test_peak_and_shortfall_skip_missing_minutes(self):
        y = targets([[1.0, np.nan, 4.0], [np.nan, np.nan, np.nan], [2.0, 9.0, 3.0]])
        pred = np.array([[2.0, 2.0, 2.0], [1.0, 1.0, 1.0], [5.0, 5.0, 5.0]])
        np.testing.assert_array_equal(eu.actual_peak(y), [4.0, np.nan, 9.0])
        np.testing.assert_array_equal(eu.shortfall(pred, y), [2.0, np.nan, 4.0])


class Coverage(unittest.TestCase):
    def test_coverage_and_width(self):
        actual = np.array([10.0, 20.0, 30.0, 40.0])
        bound = np.array([12.0, 20.0, 25.0, 43.0])  # 3 of 4 at or under; excess 2+0-5+3 = 0
        cov, width = eu.coverage_width(actual, bound)
        self.assertEqual(cov, 0.75)
        self.assertEqual(width, 0.0)
        cov, width = eu.coverage_width(actual, actual * 1.5)
        self.assertEqual((cov, width), (1.0, 0.5))

    def test_width_at_equal_coverage(self):
        points = [(1.0, 0.4), (0.80, 0.1), (0.90, 0.2)]  # 0.95: halfway from 0.90
        self.assertAlmostEqual(eu.at_coverage(points, 0.95), 0.2 + 0.2 * 0.5)
        self.assertAlmostEqual(eu.at_coverage(points, 0.90), 0.2)
        self.assertTrue(math.isnan(eu.at_coverage(points, 0.75)))


if __name__ == "__main__":
    unittest.main()
