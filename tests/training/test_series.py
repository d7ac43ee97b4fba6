#!/usr/bin/python3
"""Unit tests of the training side's data handling (training/aether_series.py): the readers and
the model-input rule of DESIGN.md (carry-forward, never seen = 0, left-padding of short
histories, gaps filled up to W/4 minutes, longer gaps restart the history)."""

import json
import math
import os
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "training"))
import aether_series as series  # noqa: E402

NAN = math.nan
T0 = 1767571200000
MIN = series.MINUTE_MS


def make(rows, minutes=None):
    """Series with row i at minute minutes[i] (default i); rows are 11-value lists or scalars
    (a scalar fills every feature)."""
    minutes = list(range(len(rows))) if minutes is None else minutes
    values = [r if isinstance(r, list) else [r] * 11 for r in rows]
    return series.Series([T0 + m * MIN for m in minutes], values, "test")


class ModelInputRule(unittest.TestCase):
    def test_full_window_is_the_last_w_minutes_oldest_first(self):
        x = series.model_input(make([float(i) for i in range(10)]), 4)
        self.assertEqual(x.shape, (4, 11))
        self.assertEqual(x.dtype, np.float32)
        np.testing.assert_array_equal(x[:, 0], [6, 7, 8, 9])

    def test_missing_values_are_carried_forward(self):
        rows = [[1.0] * 11, [2.0] * 11, [NAN] * 11, [4.0] + [NAN] * 10]
        x = series.model_input(make(rows), 4)
        np.testing.assert_array_equal(x[:, 0], [1, 2, 2, 4])
        np.testing.assert_array_equal(x[:, 5], [1, 2, 2, 2])

    def test_feature_never_seen_is_zero(self):
        rows = [[NAN] + [1.0] * 10, [NAN] + [2.0] * 10, [5.0] + [3.0] * 10]
        x = series.model_input(make(rows), 3)
        np.testing.assert_array_equal(x[:, 0], [0, 0, 5])

    def test_short_history_is_left_padded_with_the_oldest_minute(self):
        x = series.model_input(make([3.0, 4.0, 5.0]), 6)  # W/2 = 3 minutes: enough
        np.testing.assert_array_equal(x[:, 1], [3, 3, 3, 3, 4, 5])

    def test_history_shorter_than_half_a_window_gives_nothing(self):
        self.assertIsNone(series.model_input(make([1.0, 2.0]), 6))
        self.assertIsNotNone(series.model_input(make([1.0]), 1))  # W/2 is at least 1
        self.assertIsNotNone(series.model_input(make([1.0]), 3))  # max(1, 3 // 2) = 1

    def test_short_gap_is_filled_as_missing_minutes(self):
        # W = 8: gaps of up to 2 minutes are carried forward.
        data = make([1.0, 2.0, 3.0, 7.0], minutes=[0, 1, 2, 5])
        x = series.model_input(data, 8)
        np.testing.assert_array_equal(x[:, 0], [1, 1, 1, 2, 3, 3, 3, 7])

    def test_long_gap_restarts_the_history(self):
        # Gap of 3 minutes > max(1, 8 // 4) = 2: only the 4 minutes after it count.
        data = make([9.0, 9.0, 9.0, 1.0, 2.0, 3.0, 4.0], minutes=[0, 1, 2, 6, 7, 8, 9])
        x = series.model_input(data, 8)
        np.testing.assert_array_equal(x[:, 0], [1, 1, 1, 1, 1, 2, 3, 4])
        # ... and fewer than W/2 minutes after the gap means no forecast yet.
        self.assertIsNone(series.model_input(make([9.0, 9.0, 1.0], minutes=[0, 1, 9]), 8))

    def test_carry_forward_does_not_cross_a_restart(self):
        rows = [[7.0] * 11, [NAN] + [1.0] * 10, [NAN] + [2.0] * 10]
        x = series.model_input(make(rows, minutes=[0, 10, 11]), 4)
        np.testing.assert_array_equal(x[:, 0], [0, 0, 0, 0])


class TrainingSamples(unittest.TestCase):
    def test_windows_and_targets_follow_the_rule(self):
        data = make([float(i) for i in range(12)])
        s = series.make_samples(series.prepare(data, 4), 4, 2)
        # Ends from W/2 - 1 = 1 to 12 - 2 - 1 = 9.
        self.assertEqual(list(s.ends), list(range(1, 10)))
        np.testing.assert_array_equal(s.x[0, :, 0], [0, 0, 0, 1])  # 2 minutes, padded
        np.testing.assert_array_equal(s.y[0, :, 0], [2, 3])
        np.testing.assert_array_equal(s.x[-1, :, 0], [6, 7, 8, 9])
        np.testing.assert_array_equal(s.y[-1, :, 0], [10, 11])

    def test_targets_never_cross_a_restart_and_missing_targets_stay_missing(self):
        data = make([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], minutes=[0, 1, 2, 3, 20, 21])
        s = series.make_samples(series.prepare(data, 4), 4, 1)
        self.assertEqual(list(s.ends), [1, 2])  # after the restart: too short for W/2
        rows = [[1.0] * 11, [2.0] * 11, [NAN] * 11, [4.0] * 11]
        s = series.make_samples(series.prepare(make(rows), 2), 2, 1)
        # The window ending before the all-missing minute has no target and is dropped.
        self.assertEqual(list(s.ends), [0, 2])

    def test_window_indices_pad_on_the_left(self):
        idx = series.window_indices([9, 9], [10, 3], 5)
        np.testing.assert_array_equal(idx, [[5, 6, 7, 8, 9], [7, 7, 7, 8, 9]])


class Metrics(unittest.TestCase):
    def test_wape_matches_the_confidence_definition(self):
        self.assertEqual(series.wape(0.0, 0.0), 0.0)
        self.assertEqual(series.wape(2.0, 0.0), 1.0)
        self.assertAlmostEqual(series.wape(1.0, 4.0), 0.25)

    def test_comparison_against_persistence(self):
        x = np.zeros((2, 3, 11), np.float32)
        x[:, -1, :] = 10.0
        y = np.full((2, 1, 11), 12.0, np.float32)
        y[1, 0, 3] = np.nan
        pred = np.full((2, 1, 11), 11.0, np.float32)
        cmp = series.Comparison(pred, series.persistence(x, 1), y)
        self.assertAlmostEqual(cmp.mae(series.CPU), 1.0)
        self.assertAlmostEqual(cmp.mae(series.CPU, persist=True), 2.0)
        self.assertEqual(cmp.count[3], 1)
        self.assertAlmostEqual(cmp.val_wape(), 1.0 / 12.0)
        self.assertAlmostEqual(cmp.skill(), 0.5)


class Readers(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, text):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def header(self):
        return "timestamp," + ",".join(series.FEATURES) + "\n"

    def test_csv_empty_cells_are_missing_and_rows_are_sorted(self):
        path = self.write("a.csv", self.header() + f"{T0 + MIN}," + ",".join(["2"] * 11) + "\n"
                          + f"{T0}," + ",".join(["1"] + [""] * 10) + "\n")
        s = series.read_series(path)
        self.assertEqual(list(s.timestamps), [T0, T0 + MIN])
        self.assertEqual(s.values[0, 0], 1.0)
        self.assertTrue(np.isnan(s.values[0, 1]))

    def test_csv_columns_in_another_order_are_found_by_name(self):
        names = list(reversed(series.FEATURES))
        path = self.write("b.csv", "timestamp," + ",".join(names) + "\n" + f"{T0},"
                          + ",".join(str(i) for i in range(11)) + "\n")
        s = series.read_series(path)
        self.assertEqual(s.values[0, 0], 10.0)  # cpu_usage was the last column

    def test_json_export_and_appended_exports(self):
        doc = {"schemaVersion": 1, "features": list(series.FEATURES), "blueprint": "web",
               "rows": [{"timestamp": T0, "values": [1.0] * 10 + [None], "samples": 60},
                        {"timestamp": T0 + MIN, "values": [2.0] * 11, "samples": 60}]}
        later = dict(doc, rows=[{"timestamp": T0 + MIN, "values": [3.0] * 11, "samples": 60}])
        path = self.write("m.json", json.dumps(doc) + "\n" + json.dumps(later) + "\n")
        s = series.read_series(path)
        self.assertEqual(len(s), 2)
        self.assertEqual(s.duplicates, 1)
        self.assertEqual(s.values[1, 0], 3.0)  # the later export wins
        self.assertTrue(np.isnan(s.values[0, 10]))

    def test_errors_name_file_line_column_and_value(self):
        path = self.write("bad.csv", self.header() + f"{T0}," + ",".join(["1"] * 10) + ",x\n")
        with self.assertRaisesRegex(series.DataError, r"bad.csv line 2: column 'event_count': "
                                                      r"cannot parse 'x'"):
            series.read_series(path)
        path = self.write("cols.csv", "timestamp,cpu_usage\n1,0.5\n")
        with self.assertRaisesRegex(series.DataError, r"cols.csv line 1: missing column\(s\): "
                                                      r"heap_usage"):
            series.read_series(path)
        path = self.write("v.json", '{"schemaVersion": 2, "features": [], "rows": []}')
        with self.assertRaisesRegex(series.DataError, "schemaVersion is 2"):
            series.read_series(path)
        path = self.write("broken.json", '{"schemaVersion": 1,\n "rows": [}')
        with self.assertRaisesRegex(series.DataError, r"broken.json line 2 column \d+"):
            series.read_series(path)
        path = self.write("neg.csv", self.header() + f"{T0}," + ",".join(["-1"] * 11) + "\n")
        with self.assertRaisesRegex(series.DataError, "negative"):
            series.read_series(path)
        with self.assertRaisesRegex(series.DataError, "file not found"):
            series.read_series(os.path.join(self.dir.name, "nope.csv"))


if __name__ == "__main__":
    unittest.main(verbosity=1)
