#!/usr/bin/python3
"""The benchmark's model provenance (provenance.py): in-corpus or zero-shot from the metadata."""
import os
import sys
import tempfile
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import provenance as pv  # noqa: E402

SHIPPED = "corpus of 43 series, 1949464 minutes (azure 7, bitbrains 18, nasa 3, synthetic 15)"


class Provenance(unittest.TestCase):
    def test_families_of_the_corpus(self):
        self.assertEqual(pv.corpus_families(SHIPPED), {"azure", "bitbrains", "nasa", "synthetic"})
        self.assertIsNone(pv.corpus_families("mixed synthetic, 7 days"))
        self.assertIsNone(pv.corpus_families(None))

    def test_in_corpus_or_zero_shot(self):
        self.assertEqual(pv.kind_of("nasa", SHIPPED), "in-corpus")
        self.assertEqual(pv.kind_of("alibaba", SHIPPED), "zero-shot")
        self.assertEqual(pv.kind_of("nasa", "corpus of 2 series (azure 1, synthetic 1)"),
                         "zero-shot")
        self.assertEqual(pv.kind_of("nasa", ""), "unknown")

    def test_leave_one_out_model_wins_when_given(self):
        with tempfile.TemporaryDirectory() as d:
            loo = os.path.join(d, "without-nasa.onnx")
            open(loo, "w").close()
            args = types.SimpleNamespace(loo_models=d, model=os.path.join(d, "missing.onnx"))
            path, kind, _ = pv.choose(args, "nasa", d, sys.executable, "unused")
            self.assertEqual((path, kind), (loo, "zero-shot"))
            # no file for azure: the shipped model, whose provenance cannot be read here
            path, kind, _ = pv.choose(args, "azure", d, sys.executable, "unused")
            self.assertEqual((path, kind), (args.model, "unknown"))


if __name__ == "__main__":
    unittest.main()
