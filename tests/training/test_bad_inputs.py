#!/usr/bin/python3
"""Every training script, given bad input, exits non-zero with a message that names the file,
line, column, flag or value at fault, and never with a Python traceback."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.join(HERE, "..", "..", "training")
sys.path.insert(0, TRAINING)
import aether_series as series  # noqa: E402

T0 = 1767571200000
HEADER = "timestamp," + ",".join(series.FEATURES) + "\n"


def run(script, *args, cwd=None):
    return subprocess.run([sys.executable, os.path.join(TRAINING, script), *args],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


class BadInputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = cls.tmp.name

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def fails(self, script, args, *expected):
        proc = run(script, *args)
        out = proc.stdout + proc.stderr
        self.assertNotEqual(proc.returncode, 0, f"{script} {args} succeeded:\n{out}")
        self.assertNotIn("Traceback", out, f"{script} {args} crashed:\n{out}")
        for text in expected:
            self.assertIn(text, out, f"{script} {args}: expected '{text}' in:\n{out}")

    # generate_synthetic.py ------------------------------------------------------------------

    def test_generate_rejects_bad_flags(self):
        out = self.path("g.csv")
        self.fails("generate_synthetic.py", ["--duration", "48x", "--output", out],
                   "--duration '48x'", "120m, 48h, 2d")
        self.fails("generate_synthetic.py", ["--pattern", "weekly", "--output", out],
                   "invalid choice: 'weekly'")
        self.fails("generate_synthetic.py", ["--base-load", "-5", "--output", out],
                   "--base-load -5")
        self.fails("generate_synthetic.py", ["--duration", "0h", "--output", out],
                   "at least one minute")
        self.fails("generate_synthetic.py", ["--output", self.path("no/such/dir/x.csv")],
                   "no/such/dir/x.csv")
        self.fails("generate_synthetic.py", ["--amplitude", "3", "--output", out],
                   "amplitude 3.0: must be in 0..1.6")
        self.fails("generate_synthetic.py", ["--period", "5", "--output", out],
                   "period 5: must be at least 10 minutes")
        self.fails("generate_synthetic.py", ["--spike-gap", "2x", "--output", out],
                   "--spike-gap '2x'")
        self.fails("generate_synthetic.py", ["--noise", "0.9", "--output", out],
                   "noise 0.9: must be in 0..0.5")

    # train.py ----------------------------------------------------------------------------------

    def test_train_names_the_bad_file_line_and_value(self):
        good_row = f"{T0}," + ",".join(["1"] * 11) + "\n"
        self.fails("train.py", ["--data", self.path("missing.csv")], "missing.csv: file not found")
        self.fails("train.py", ["--data", self.path("missing.csv"), "--gate-stats"],
                   "--gate-stats: needs --mixture")
        cols = self.write("cols.csv", "timestamp,cpu_usage,invocations\n1,0.5,10\n")
        self.fails("train.py", ["--data", cols], "cols.csv line 1: missing column(s): heap_usage")
        bad = self.write("bad.csv", HEADER + good_row + f"{T0 + 60000},0.5,abc"
                         + ",1" * 9 + "\n")
        self.fails("train.py", ["--data", bad],
                   "bad.csv line 3: column 'heap_usage': cannot parse 'abc' as a number")
        ragged = self.write("ragged.csv", HEADER + f"{T0},1,2\n")
        self.fails("train.py", ["--data", ragged], "ragged.csv line 2: 3 cells, the header has 12")
        stamp = self.write("stamp.csv", HEADER + "yesterday," + ",".join(["1"] * 11) + "\n")
        self.fails("train.py", ["--data", stamp], "stamp.csv line 2: timestamp 'yesterday'")
        empty = self.write("empty.csv", "")
        self.fails("train.py", ["--data", empty], "empty.csv: file is empty")

    def test_train_says_how_much_data_it_needs(self):
        rows = "".join(f"{T0 + i * 60000}," + ",".join(["1"] * 11) + "\n" for i in range(90))
        short = self.write("short.csv", HEADER + rows)
        self.fails("train.py", ["--data", short], "short.csv: too little data", "at least 121")

    def test_train_reads_json_and_rejects_a_bad_one(self):
        doc = {"schemaVersion": 1, "features": list(series.FEATURES), "rows": [
            {"timestamp": T0, "values": [1] * 10 + ["high"], "samples": 60}]}
        bad = self.write("bad.json", json.dumps(doc))
        self.fails("train.py", ["--data", bad], "bad.json document 1 rows[0]: 'event_count'")
        doc["features"] = ["cpu"]
        self.fails("train.py", ["--data", self.write("f.json", json.dumps(doc))],
                   "f.json document 1: 'features' must be")
        self.fails("train.py", ["--data", self.write("j.json", '{"rows": [1,]}')],
                   "j.json line 1 column", "invalid JSON")

    def test_train_rejects_bad_flags(self):
        data = self.path("unused.csv")
        self.fails("train.py", ["--data", data, "--horizon", "11"], "--horizon 11: must be in 1..10")
        self.fails("train.py", ["--data", data, "--seq-len", "121"], "--seq-len 121")
        self.fails("train.py", ["--data", data, "--validation-split", "1.5"], "--validation-split")
        self.fails("train.py", ["--data", data, "--epochs", "0"], "--epochs", "positive")
        self.fails("train.py", ["--data", data, "--learning-rate", "-1"], "--learning-rate")
        self.fails("train.py", ["--data", data, "--mixture", "last,drift9"], "--mixture",
                   "unknown simple forecast(s) drift9")
        self.fails("train.py", ["--data", data, "--base-k", "40", "--seq-len", "30"],
                   "--base-k 40: must be at most --seq-len")

    def test_train_rejects_bad_corpora(self):
        folder = self.path("empty-corpus")
        os.makedirs(folder, exist_ok=True)
        self.fails("train.py", ["--data", folder], "empty-corpus: folder holds no .csv file")
        one = os.path.join(self.path("one-corpus"))
        os.makedirs(one, exist_ok=True)
        with open(os.path.join(one, "nasa-train.csv"), "w") as f:
            f.write(HEADER)
        self.fails("train.py", ["--data", one, "--exclude", "nasa"],
                   "one-corpus: no data file left after excluding nasa")
        short = os.path.join(self.path("short-corpus"))
        os.makedirs(short, exist_ok=True)
        for name in ("a.csv", "b.csv"):
            with open(os.path.join(short, name), "w") as f:
                f.write(HEADER + "".join(f"{T0 + 60000 * i}" + ",1" * 11 + "\n"
                                         for i in range(50)))
        self.fails("train.py", ["--data", short, "--horizon", "5"],
                   "no series long enough for --seq-len 60 --horizon 5",
                   "at least 125 minutes")

    # build_corpus.py and evaluate_steps.py ------------------------------------------------------

    def test_corpus_and_step_evaluation_reject_bad_input(self):
        out = self.path("corpus")
        self.fails("build_corpus.py", ["--out", out, "--split", "0"], "--split 0: must be in 1..99")
        self.fails("build_corpus.py", ["--out", out, "--synthetic-days", "0"],
                   "--synthetic-days 0: must be at least 1")
        self.fails("build_corpus.py", ["--out", out, "--wandering-levels", "-1"],
                   "--wandering-levels -1: must be at least 0")
        traces = self.path("traces")
        os.makedirs(traces, exist_ok=True)
        self.fails("build_corpus.py", ["--out", out, "--traces", traces, "--synthetic-days", "1",
                                       "--synthetic-variants", "1", "--sim", self.path("no-sim")],
                   "no-sim: the simulator is not built")
        junk = self.write("junk2.pt", "not a checkpoint")
        self.fails("evaluate_steps.py", ["--model", junk, "--data", self.path("x.csv")],
                   "junk2.pt: not a checkpoint")
        self.fails("evaluate_steps.py", ["--model", junk, "--data", "x.csv", "--min-history",
                                         "500"], "--min-history")
        self.fails("evaluate_upper.py", ["--model", junk, "--corpus", out, "--data", "x.csv"],
                   "junk2.pt: not a checkpoint")
        self.fails("evaluate_upper.py", ["--model", junk, "--corpus", out, "--data", "x.csv",
                                         "--quantile", "1.5"], "--quantile 1.5: must be in")
        h5 = os.path.join(TRAINING, "..", "models", "ttm-aether-h5.onnx")
        self.fails("evaluate_upper.py", ["--model", h5, "--corpus", out, "--data", "x.csv"],
                   "not a mixture model")

    # export_onnx.py and evaluate.py ------------------------------------------------------------

    def test_export_and_evaluate_reject_what_is_not_a_checkpoint(self):
        junk = self.write("junk.pt", "not a checkpoint")
        self.fails("export_onnx.py", ["--model", self.path("none.pt"), "--output",
                                      self.path("x.onnx")], "none.pt: file not found")
        self.fails("export_onnx.py", ["--model", junk, "--output", self.path("x.onnx")],
                   "junk.pt: not a checkpoint written by train.py")
        self.fails("export_onnx.py", [], "give --model M --output F")
        self.fails("evaluate.py", ["--model", junk], "junk.pt: not a checkpoint")

    def test_export_rejects_ensembles_that_do_not_fit_together(self):
        import aether_model  # noqa: E402 (torch only for this test)

        def checkpoint(name, data, names=("last", "drift1")):
            net = aether_model.AetherTSMixer(8, 2, mixture=list(names), residual=False, levels=[])
            aether_model.save_checkpoint(self.path(name), net, {"seed": 1, "train_data": data})
            return self.path(name)
        a = checkpoint("a.pt", "corpus A")
        other_data = checkpoint("b.pt", "corpus B")
        other_arch = checkpoint("c.pt", "corpus A", names=("last", "mean3"))
        out = self.path("e.onnx")
        self.fails("export_onnx.py", ["--model", a, other_data, "--output", out],
                   "b.pt: trained on 'corpus B'", "an ensemble's members share data")
        self.fails("export_onnx.py", ["--model", a, other_arch, "--output", out],
                   "c.pt: ensemble members differ in architecture")
        self.fails("export_onnx.py", ["--model", a, self.path("none.pt"), "--output", out],
                   "none.pt: file not found")
        self.assertFalse(os.path.exists(out))

    def test_validate_rejects_bad_model_files(self):
        self.fails("export_onnx.py", ["--validate", self.path("none.onnx")],
                   "none.onnx: file not found")
        self.fails("export_onnx.py", ["--validate", self.write("junk.onnx", "garbage")],
                   "junk.onnx: not a readable ONNX file")
        import onnx
        from onnx import TensorProto, helper
        graph = helper.make_graph(
            [helper.make_node("Identity", ["x"], ["output"])], "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 60, 11])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 60, 11])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        onnx.save(model, self.path("name.onnx"))
        self.fails("export_onnx.py", ["--validate", self.path("name.onnx")],
                   "name.onnx: Expected input tensor named 'input'")
        graph = model.graph  # make_model copied it
        graph.input[0].name = "input"
        graph.node[0].input[0] = "input"
        onnx.save(model, self.path("meta.onnx"))
        self.fails("export_onnx.py", ["--validate", self.path("meta.onnx")],
                   "meta.onnx: metadata_props lack aether.schema_version")
        for key, value in [("aether.schema_version", "2"), ("aether.window", "60"),
                           ("aether.horizon", "60"), ("aether.features", ",".join(series.FEATURES)),
                           ("aether.normalization", "per-window"), ("aether.val_wape", "0.1"),
                           ("aether.val_skill", "0.1"), ("aether.train_seed", "1"),
                           ("aether.train_data", "x")]:
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(model, self.path("schema.onnx"))
        self.fails("export_onnx.py", ["--validate", self.path("schema.onnx")],
                   "Model trained with a different feature schema")
        model.metadata_props[0].value = "1"
        graph.node[0].op_type = "Sin"  # valid ONNX, not implemented by the engine
        onnx.save(model, self.path("op.onnx"))
        self.fails("export_onnx.py", ["--validate", self.path("op.onnx")],
                   "op.onnx: operators the engine does not implement: Sin")
        graph.node[0].op_type = "Identity"
        model.metadata_props[1].value = "30"  # aether.window
        onnx.save(model, self.path("shape.onnx"))
        self.fails("export_onnx.py", ["--validate", self.path("shape.onnx")],
                   "shape.onnx: input shape ['batch', 60, 11], expected [batch, 30, 11]")


if __name__ == "__main__":
    unittest.main(verbosity=1)
