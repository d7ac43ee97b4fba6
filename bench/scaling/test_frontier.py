#!/usr/bin/python3
"""The scaling benchmark's equal-SLO arithmetic (frontier.py) on tiny hand-made cases."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import frontier as fr  # noqa: E402


def pt(slo, cost, label=""):
    return dict(slo=slo, cost=cost, label=label)


# An HPA swept over its target: a lower target costs more and violates less.
HPA = [pt(40, 100, "0.9"), pt(20, 120, "0.8"), pt(10, 150, "0.7"), pt(10, 160, "0.65"),
       pt(2, 200, "0.6")]


class Frontier(unittest.TestCase):
    def test_dominated_points_leave(self):
        f = fr.frontier(HPA + [pt(30, 130, "worse")])
        self.assertEqual([p["label"] for p in f], ["0.6", "0.7", "0.8", "0.9"])

    def test_cheapest_within(self):
        self.assertEqual(fr.cheapest_within(HPA, 10)["label"], "0.7")
        self.assertEqual(fr.cheapest_within(HPA, 19)["label"], "0.7")
        self.assertEqual(fr.cheapest_within(HPA, 20)["label"], "0.8")
        self.assertIsNone(fr.cheapest_within(HPA, 1))

    def test_saving_at_equal_slo(self):
        s, b = fr.saving_at_equal_slo(pt(10, 120), HPA)
        self.assertAlmostEqual(s, 1 - 120 / 150)
        self.assertEqual(b["label"], "0.7")
        # cheaper than the HPA's default 0.6 but with more SLO minutes: compared at its own SLO
        s, b = fr.saving_at_equal_slo(pt(15, 140), HPA)
        self.assertAlmostEqual(s, 1 - 140 / 150)
        # a loss is negative
        s, _ = fr.saving_at_equal_slo(pt(40, 110), HPA)
        self.assertAlmostEqual(s, 1 - 110 / 100)
        # better SLO than any HPA point: no credit
        self.assertEqual(fr.saving_at_equal_slo(pt(0, 10), HPA), (None, None))

    def test_choose_on_validation(self):
        knob = [pt(30, 90, "0.95"), pt(12, 115, "0.85"), pt(5, 170, "0.7")]
        # savings: 0.95 -> 1 - 90/120 = 0.25; 0.85 -> 1 - 115/150 = 0.233; 0.7 -> 1 - 170/200
        self.assertEqual(fr.choose(knob, HPA)["label"], "0.95")
        # tie on saving: fewer SLO minutes wins
        tie = [pt(20, 96, "a"), pt(10, 120, "b")]  # both 0.2
        self.assertEqual(fr.choose(tie, HPA)["label"], "b")
        # nothing matched: the fewest SLO minutes
        none = [pt(1, 500, "x"), pt(0, 900, "y")]
        self.assertEqual(fr.choose(none, HPA)["label"], "y")

    def test_saving_bound_for_a_point_safer_than_the_baseline(self):
        # safer than the HPA's safest point (2 SLO min at 200): at least 1 - 150/200 saved
        self.assertAlmostEqual(fr.saving_bound(pt(1, 150), HPA), 0.25)
        self.assertIsNone(fr.saving_bound(pt(10, 120), HPA))  # matched: no bound needed
        self.assertIsNone(fr.saving_bound(pt(2, 150), HPA))   # matched by the 0.6 point

    def test_actions_ratio(self):
        self.assertEqual(fr.actions_ratio(6, 4), 1.5)
        self.assertEqual(fr.actions_ratio(0, 0), 0.0)
        self.assertEqual(fr.actions_ratio(3, 0), float("inf"))

    def test_churn_reference(self):
        hpa = [dict(p, actions=a) for p, a in zip(HPA, (10, 20, 30, 40, 50))]
        self.assertEqual(fr.churn_reference(pt(12, 140), hpa)["label"], "0.7")  # equal SLO
        self.assertEqual(fr.churn_reference(pt(0, 300), hpa)["label"], "0.6")  # safer: safest
        self.assertIsNone(fr.churn_reference(pt(0, 300), []))

    def test_choice_within_the_churn_budget(self):
        hpa = [dict(p, actions=a) for p, a in zip(HPA, (10, 20, 30, 40, 50))]
        knob = [dict(pt(30, 90, "0.95"), actions=41),   # the best saving, 41 / 20 = 2.05x
                dict(pt(12, 115, "0.85"), actions=60),  # 60 / 30 = 2x: in budget
                dict(pt(1, 300, "0.6"), actions=100)]   # safer than all: 100 / 50 = 2x
        within = fr.within_churn(knob, hpa, 2.0)
        self.assertEqual([p["label"] for p in within], ["0.85", "0.6"])
        self.assertEqual(fr.choose(within, hpa)["label"], "0.85")
        self.assertEqual(fr.within_churn(knob, hpa, 1.5), [])

    def test_dominates(self):
        self.assertTrue(fr.dominates(pt(5, 100), pt(6, 100)))
        self.assertTrue(fr.dominates(pt(5, 90), pt(5, 100)))
        self.assertFalse(fr.dominates(pt(5, 100), pt(5, 100)))
        self.assertFalse(fr.dominates(pt(4, 110), pt(5, 100)))

    def test_value_over(self):
        self.assertAlmostEqual(fr.value_over(0.10, [0.02, None, 0.12]), -0.02)
        self.assertIsNone(fr.value_over(None, [0.1]))
        self.assertIsNone(fr.value_over(0.1, [None, None]))

    def test_cost_on_frontier_interpolates(self):
        # HPA frontier: (2, 200), (10, 150), (20, 120), (40, 100)
        self.assertAlmostEqual(fr.cost_on_frontier(HPA, 10), 150)
        self.assertAlmostEqual(fr.cost_on_frontier(HPA, 6), 175)    # halfway 200 -> 150
        self.assertAlmostEqual(fr.cost_on_frontier(HPA, 15), 135)   # halfway 150 -> 120
        self.assertAlmostEqual(fr.cost_on_frontier(HPA, 25), 115)   # a quarter 120 -> 100
        self.assertAlmostEqual(fr.cost_on_frontier(HPA, 90), 100)   # beyond: the cheapest
        self.assertIsNone(fr.cost_on_frontier(HPA, 1))              # safer than every point
        self.assertIsNone(fr.cost_on_frontier([], 5))

    def test_value_against_frontier(self):
        # 140 at 6 SLO minutes, where the frontier costs 175: 1 - 140/175 = 0.2
        self.assertAlmostEqual(fr.value_against_frontier(pt(6, 140), HPA), 0.2)
        self.assertAlmostEqual(fr.value_against_frontier(pt(25, 138), HPA), 1 - 138 / 115)
        self.assertIsNone(fr.value_against_frontier(pt(0, 50), HPA))

    def test_model_value_frontier_against_frontier(self):
        model_sweep = [pt(50, 260), pt(30, 300), pt(10, 400)]
        drift_sweep = [pt(12, 410), pt(8, 440), pt(4, 500)]
        hw_sweep = [pt(40, 280), pt(20, 330), pt(11, 390)]
        model = dict(name="model", point=model_sweep[1], sweep=model_sweep)
        drift = dict(name="drift", point=drift_sweep[1], sweep=drift_sweep)
        hw = dict(name="holt-winters", point=hw_sweep[2], sweep=hw_sweep)
        v = fr.model_value_ff(model, [drift, hw])
        # forward: the model's 300 at 30 SLO min; drift's frontier there (beyond its least safe
        # point) costs 410: 1 - 300/410; Holt-Winters' interpolated 330 + (30-20)/(40-20) x
        # (280-330) = 305: 1 - 300/305 = 0.0164, the worse of the two
        self.assertEqual(v["forward"][1], "holt-winters")
        self.assertAlmostEqual(v["forward"][0], 1 - 300 / 305)
        # reverse: drift's point (8, 440) is safer than the model's whole frontier: no value;
        # Holt-Winters' (11, 390): the model's frontier at 11 = 400 + (11-10)/(30-10) x (300-400)
        # = 395, so 1 - 395/390 < 0
        self.assertEqual(v["reverse"][1], "holt-winters")
        self.assertAlmostEqual(v["reverse"][0], 1 - 395 / 390)
        # nothing comparable
        far = dict(name="x", point=pt(0, 10), sweep=[pt(0, 10)])
        self.assertEqual(fr.model_value_ff(dict(name="m", point=pt(0, 5), sweep=[pt(0, 5)]),
                                           []), dict(forward=(None, None),
                                                     reverse=(None, None)))
        self.assertEqual(fr.model_value_ff(model, [far])["reverse"], (None, None))


if __name__ == "__main__":
    unittest.main()
