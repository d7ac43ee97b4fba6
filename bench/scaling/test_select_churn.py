#!/usr/bin/python3
"""select_churn.py's default rule and churn ratio on hand-made tables (no traces needed)."""
import argparse
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import select_churn as sc  # noqa: E402

W10, W60 = "auto, window 10, floor+ceiling", "auto, window 60, floor+ceiling"
DEF = sc.DEFAULT
MODEL = "model, window 30, floor+ceiling"


def row(saving, ratio, bound=None):
    return dict(saving=saving, saving_bound=bound, actions_vs_hpa=ratio)


def table(**per_trace):
    """{trace: {variant: row}}: every variant not given saves 0 at 1x the HPA's actions."""
    out = {}
    for trace, rows in per_trace.items():
        out[trace] = {name: row(0.0, 1.0) for name in sc.VARIANTS}
        out[trace].update(rows)
    return out


class Rule(unittest.TestCase):
    def test_default_stays_without_a_clear_gain(self):
        # window 10's worst trace saves 0.5 points more than the default's: under the 1-point margin.
        t = table(a={DEF: row(0.100, 1.0), W10: row(0.105, 1.5)},
                  b={DEF: row(0.300, 1.0), W10: row(0.400, 1.5)})
        self.assertEqual(sc.choose_default(t)[0], DEF)

    def test_clear_gain_replaces_the_default(self):
        t = table(a={DEF: row(0.10, 1.0), W10: row(0.20, 1.5)},
                  b={DEF: row(0.30, 1.0), W10: row(0.30, 1.5)})
        chosen, text = sc.choose_default(t)
        self.assertEqual(chosen, W10)
        self.assertIn(f"chosen: {W10}", text)

    def test_a_lower_mean_keeps_the_default(self):
        # window 10 gains 2 points on the worst trace over the default but loses 20 on the other.
        t = table(a={DEF: row(0.10, 1.0), W10: row(0.12, 1.5)},
                  b={DEF: row(0.50, 1.0), W10: row(0.30, 1.5)})
        self.assertEqual(sc.choose_default(t)[0], DEF)

    def test_churn_over_2x_on_any_trace_excludes(self):
        t = table(a={DEF: row(0.10, 1.0), W10: row(0.30, 2.01)},
                  b={DEF: row(0.10, 1.0), W10: row(0.30, 1.0)})
        chosen, text = sc.choose_default(t)
        self.assertEqual(chosen, DEF)
        self.assertIn("over 2x the HPA's actions", text)

    def test_a_default_over_2x_is_replaced_by_any_eligible_variant(self):
        t = table(a={DEF: row(0.20, 3.0), W60: row(0.05, 1.0)},
                  b={DEF: row(0.20, 1.0), W60: row(0.05, 1.0)})
        # the default is over 2x on a; every other variant saves 0 at 1x but window 60
        self.assertEqual(sc.choose_default(t)[0], W60)

    def test_the_lower_bound_counts_and_the_model_alone_does_not(self):
        t = table(a={DEF: row(0.10, 1.0), W10: row(None, 1.0, bound=0.40), MODEL: row(0.9, 1.0)},
                  b={DEF: row(0.10, 1.0), W10: row(0.40, 1.0), MODEL: row(0.9, 1.0)})
        self.assertEqual(sc.choose_default(t)[0], W10)

    def test_a_variant_with_no_saving_nor_bound_is_not_eligible(self):
        t = table(a={DEF: row(0.10, 1.0), W10: row(None, 1.0)},
                  b={DEF: row(0.10, 1.0), W10: row(0.90, 1.0)})
        self.assertEqual(sc.choose_default(t)[0], DEF)


class FunctionsRule(unittest.TestCase):
    """choose_on_functions: the mean, with no more traces below 0 or over 2x than the default."""

    def test_a_higher_mean_with_no_more_losses_replaces_the_default(self):
        # the default: mean -0.05, 2 below 0, 1 over 2x; window 10: mean +0.05, 1 below, 1 over
        t = table(a={DEF: row(-0.10, 3.0), W10: row(0.20, 3.0)},
                  b={DEF: row(-0.05, 1.0), W10: row(-0.10, 1.0)},
                  c={DEF: row(0.00, 1.0), W10: row(0.05, 1.0)})
        chosen, text = sc.choose_on_functions(t)
        self.assertEqual(chosen, W10)
        self.assertIn(f"{DEF}: worst trace -10.0%, mean -5.0%", text)
        self.assertIn("(median -5.0%; 2 of 3 traces below 0, 1 over 2x)", text)

    def test_more_traces_below_0_or_over_2x_exclude_a_higher_mean(self):
        below = table(a={DEF: row(0.00, 1.0), W10: row(0.90, 1.0)},
                      b={DEF: row(0.00, 1.0), W10: row(-0.01, 1.0)})
        self.assertEqual(sc.choose_on_functions(below)[0], DEF)  # one more below 0
        over = table(a={DEF: row(0.00, 1.0), W10: row(0.90, 2.5)},
                     b={DEF: row(0.00, 1.0), W10: row(0.90, 1.0)})
        self.assertEqual(sc.choose_on_functions(over)[0], DEF)  # one more over 2x

    def test_under_a_point_of_mean_keeps_the_default(self):
        t = table(a={DEF: row(0.100, 1.0), W10: row(0.109, 1.0)},
                  b={DEF: row(0.100, 1.0), W10: row(0.109, 1.0)})
        self.assertEqual(sc.choose_on_functions(t)[0], DEF)
        t["a"][W10] = row(0.111, 1.0)
        t["b"][W10] = row(0.111, 1.0)
        self.assertEqual(sc.choose_on_functions(t)[0], W10)


class Models(unittest.TestCase):
    def test_leave_one_out_models_where_the_folder_has_one(self):
        with tempfile.TemporaryDirectory() as loo:
            open(os.path.join(loo, "without-azure.onnx"), "w").close()
            args = argparse.Namespace(loo_models=loo, model=os.path.join(loo, "shipped.onnx"))
            traces = [dict(name="azure-http", family="azure"), dict(name="nasa", family="nasa")]
            models = sc.models_of(traces, args, loo)
            self.assertEqual(models["azure-http"],
                             (os.path.join(loo, "without-azure.onnx"), "zero-shot"))
            self.assertEqual(models["nasa"][0], args.model)  # none for nasa: the shipped one
            args.loo_models = None
            self.assertEqual(sc.models_of(traces, args, loo)["azure-http"][0], args.model)
            args.loo_models = os.path.join(loo, "missing")
            with self.assertRaisesRegex(SystemExit, "missing: no such folder"):
                sc.models_of(traces, args, loo)


class Functions(unittest.TestCase):
    """run.function_traces on a hand-made per-function file of three functions over 3 minutes."""
    HEADER = "HashOwner,HashApp,HashFunction,Trigger,480,481,482\n"

    def traces(self, body):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        with open(os.path.join(d, sc.run.AZURE_FUNCTIONS), "w") as f:
            f.write(self.HEADER + body)
        return d, sc.run.function_traces(d, os.path.join(d, "out"))

    def test_busy_functions_become_columns_busiest_first(self):
        d, traces = self.traces("o,a,aaaaaaaa11,http,10,10,10\n"   # mean 10: kept
                                "o,a,bbbbbbbb22,queue,30,0,60\n"   # mean 30: kept, first
                                "o,a,cccccccc33,timer,9,9,11\n")   # mean 9.67: left out
        self.assertEqual([t["name"] for t in traces],
                         ["azure-fn-queue-bbbbbbbb", "azure-fn-http-aaaaaaaa"])
        self.assertEqual(traces[0]["family"], "azure")
        self.assertEqual(traces[0]["flags"][:4], ["--time-column", "minute_of_day",
                                                  "--value-column", "fn_queue_bbbbbbbb"])
        with open(traces[0]["file"]) as f:
            self.assertEqual(f.read().split(), ["minute_of_day,fn_queue_bbbbbbbb,fn_http_aaaaaaaa",
                                                "480,30,10", "481,0,10", "482,60,10"])

    def test_a_malformed_row_names_the_file_and_line(self):
        with self.assertRaisesRegex(SystemExit, r"1min.csv:3: 6 fields, the header has 7"):
            self.traces("o,a,f1,http,1,2,3\no,a,f2,http,1,2\n")
        with self.assertRaisesRegex(SystemExit, r"1min.csv:2: could not convert"):
            self.traces("o,a,f1,http,1,x,3\n")


if __name__ == "__main__":
    unittest.main()
