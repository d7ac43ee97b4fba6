#!/usr/bin/env python3
"""Writes the small, real ONNX models the end-to-end tests load.

Each model maps input [batch, W, 11] to output [batch, H, 11] with one Linear layer over the time
axis whose weights repeat the last minute (a persistence forecast), exported by torch.onnx at
opset 17 with the metadata the node reads. Variants differ only in what the tests need:

  good.onnx        W=8, H=2, aether.val_wape 0.1 (initial confidence 0.9)
  rising.onnx      W=8, H=2, forecasts twice the last minute (a load rise: scale-up advice)
  lowconf.onnx     same graph, aether.val_wape 0.9 (initial confidence 0.1)
  window16.onnx    W=16 (does not match a W=8 config: rejected on load)
  schema2.onnx     aether.schema_version "2" (rejected: different feature schema)
  corrupt.onnx     random bytes (not a protobuf)

usage: make_models.py OUTDIR
"""
import os
import sys

import onnx
import torch

FEATURES = ["cpu_usage", "heap_usage", "event_loop_lag_ms", "latency_ms", "invocations",
            "gc_pause_ms", "latency_p50", "latency_p95", "latency_p99", "error_rate",
            "event_count"]


class Persistence(torch.nn.Module):
    def __init__(self, window, horizon, gain):
        super().__init__()
        self.time = torch.nn.Linear(window, horizon)
        with torch.no_grad():
            self.time.weight.zero_()
            self.time.weight[:, window - 1] = gain
            self.time.bias.zero_()

    def forward(self, x):
        return self.time(x.transpose(1, 2)).transpose(1, 2)


def export(path, window, horizon, val_wape, schema="1", gain=1.0):
    model = Persistence(window, horizon, gain).eval()
    tmp = path + ".tmp"
    torch.onnx.export(model, torch.zeros(1, window, 11), tmp, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"},
                                                             "output": {0: "batch"}},
                      opset_version=17)
    m = onnx.load(tmp)
    os.remove(tmp)
    meta = {"aether.schema_version": schema, "aether.window": str(window),
            "aether.horizon": str(horizon), "aether.features": ",".join(FEATURES),
            "aether.normalization": "none", "aether.val_wape": str(val_wape),
            "aether.val_skill": "0", "aether.train_seed": "0",
            "aether.train_data": "none (persistence weights set by hand for tests)"}
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)


def export_memory_hog(path, window=8, horizon=2, repeats=16384):
    """A file of a few hundred bytes whose plan needs megabytes: the input tiled `repeats` times
    along the features, then sliced back to [batch, horizon, 11]."""
    from onnx import TensorProto, helper
    ints = lambda name, v: helper.make_tensor(name, TensorProto.INT64, [len(v)], v)
    graph = helper.make_graph(
        [helper.make_node("Tile", ["input", "repeats"], ["wide"]),
         helper.make_node("Slice", ["wide", "starts", "ends", "axes"], ["output"])],
        "memory_hog",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", window, 11])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", horizon, 11])],
        [ints("repeats", [1, 1, repeats]), ints("starts", [window - horizon, 0]),
         ints("ends", [window, 11]), ints("axes", [1, 2])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    for k, v in {"aether.schema_version": "1", "aether.window": str(window),
                 "aether.horizon": str(horizon), "aether.val_wape": "0.1"}.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    export(os.path.join(out, "good.onnx"), 8, 2, 0.1)
    export(os.path.join(out, "lowconf.onnx"), 8, 2, 0.9)
    export(os.path.join(out, "rising.onnx"), 8, 2, 0.1, gain=2.0)
    export(os.path.join(out, "window16.onnx"), 16, 2, 0.1)
    export(os.path.join(out, "schema2.onnx"), 8, 2, 0.1, schema="2")
    export_memory_hog(os.path.join(out, "memory_hog.onnx"))
    with open(os.path.join(out, "corrupt.onnx"), "wb") as f:
        f.write(bytes((i * 73 + 11) % 256 for i in range(4096)))
    print("models written to", out)


if __name__ == "__main__":
    main()
