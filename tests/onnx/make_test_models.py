#!/usr/bin/python3
"""Writes the small ONNX models the engine's tests load, good and deliberately broken.

  tiny_opset13.onnx   the same at opset 13 with LayerNorm decomposed as older exports write it
  tiny.onnx           a small mixer-like predictor (W=6, H=2, dynamic batch) using the operators
                      and patterns the engine fuses (MatMul+Add, exported GELU, LayerNorm,
                      Transpose) plus a Shape -> Gather -> Concat -> Reshape chain whose values
                      change with the batch; with tiny_input.csv / tiny_expected.csv computed by
                      numpy from the same weights
  bad_*.onnx          one problem each (see BAD below), for the load-error tests
  noschema.onnx       tiny without aether.schema_version (loads with a warning)
  tiny_freq.onnx      tiny plus a second input, an int64 frequency token [batch, 1] that adds
                      row token of an embedding (EMB[t][k] = t * 10 + k) to every output row;
                      aether.inputs = "freq_token=2"; tiny_freq_expected_3.csv is tiny's
                      expected output plus EMB[3]
  tiny_exog.onnx      tiny plus a float input exog [batch, 1, 11] added to the output, listed
                      without a default (must be set)

Run with Debian's interpreter: /usr/bin/python3 make_test_models.py OUTDIR
"""

import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

W, H, F, D = 6, 2, 11, 8


def erf(x):
    return np.vectorize(math.erf)(x).astype(np.float32)


def weights():
    rng = np.random.default_rng(7)
    return {
        "w_in": rng.normal(0, 0.4, (F, D)).astype(np.float32),
        "b_in": rng.normal(0, 0.1, (D,)).astype(np.float32),
        "ln_s": (1 + 0.2 * rng.normal(size=(D,))).astype(np.float32),
        "ln_b": rng.normal(0, 0.1, (D,)).astype(np.float32),
        "w_t": rng.normal(0, 0.4, (W, H)).astype(np.float32),
        "w_out": rng.normal(0, 0.4, (D, F)).astype(np.float32),
        "b_out": rng.normal(0, 0.1, (F,)).astype(np.float32),
    }


def reference(x, p):
    """numpy forward pass of tiny.onnx for x [batch, W, F]."""
    h = x @ p["w_in"] + p["b_in"]
    h = 0.5 * h * (1 + erf(h / np.float32(math.sqrt(2))))
    mu = h.mean(-1, keepdims=True)
    var = ((h - mu) ** 2).mean(-1, keepdims=True)
    h = (h - mu) / np.sqrt(var + 1e-5) * p["ln_s"] + p["ln_b"]
    t = np.transpose(h, (0, 2, 1)) @ p["w_t"]  # [batch, D, H]
    h = np.transpose(t, (0, 2, 1))  # [batch, H, D]
    flat = h.reshape(x.shape[0], H * D).reshape(x.shape[0], H, D)
    return flat @ p["w_out"] + p["b_out"]


def scalar(name, value):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(
        np.array(value, dtype=np.float32), name))


def layernorm_decomposed():
    """LayerNorm over the last axis as PyTorch exports it below opset 17."""
    return [
        helper.make_node("ReduceMean", ["gelu"], ["ln_mean"], axes=[-1]),
        helper.make_node("Sub", ["gelu", "ln_mean"], ["ln_c"]),
        scalar("two", 2.0), scalar("eps", 1e-5),
        helper.make_node("Pow", ["ln_c", "two"], ["ln_sq"]),
        helper.make_node("ReduceMean", ["ln_sq"], ["ln_var"], axes=[-1]),
        helper.make_node("Add", ["ln_var", "eps"], ["ln_ve"]),
        helper.make_node("Sqrt", ["ln_ve"], ["ln_sd"]),
        helper.make_node("Div", ["ln_c", "ln_sd"], ["ln_n"]),
        helper.make_node("Mul", ["ln_n", "ln_s"], ["ln_scaled"]),
        helper.make_node("Add", ["ln_scaled", "ln_b"], ["ln"]),
    ]


def tiny_graph(input_name="input", output_name="output", extra_nodes=(), window=W,
               decomposed_ln=False):
    p = weights()
    ln = layernorm_decomposed() if decomposed_ln else [
        helper.make_node("LayerNormalization", ["gelu", "ln_s", "ln_b"], ["ln"], axis=-1,
                         epsilon=1e-5)]
    nodes = [
        helper.make_node("MatMul", [input_name, "w_in"], ["mm0"]),
        helper.make_node("Add", ["mm0", "b_in"], ["lin0"]),
        # GELU as PyTorch exports it at opset 17.
        scalar("sqrt2", math.sqrt(2)), scalar("one", 1.0), scalar("half", 0.5),
        helper.make_node("Div", ["lin0", "sqrt2"], ["g_div"]),
        helper.make_node("Erf", ["g_div"], ["g_erf"]),
        helper.make_node("Add", ["g_erf", "one"], ["g_add"]),
        helper.make_node("Mul", ["lin0", "g_add"], ["g_mul"]),
        helper.make_node("Mul", ["g_mul", "half"], ["gelu"]),
    ] + ln + [
        helper.make_node("Transpose", ["ln"], ["ln_t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["ln_t", "w_t"], ["time"]),
        helper.make_node("Transpose", ["time"], ["h"], perm=[0, 2, 1]),
        # Flatten and restore with shapes computed from the batch at run time.
        helper.make_node("Shape", ["h"], ["h_shape"]),
        helper.make_node("Gather", ["h_shape", "zero_idx"], ["batch"], axis=0),
        helper.make_node("Unsqueeze", ["batch", "zero_idx1"], ["batch1"]),
        helper.make_node("Concat", ["batch1", "flat_dim"], ["flat_shape"], axis=0),
        helper.make_node("Reshape", ["h", "flat_shape"], ["flat"]),
        helper.make_node("Concat", ["batch1", "hd_dims"], ["back_shape"], axis=0),
        helper.make_node("Reshape", ["flat", "back_shape"], ["h2"]),
        helper.make_node("MatMul", ["h2", "w_out"], ["mm1"]),
        helper.make_node("Add", ["mm1", "b_out"], [output_name]),
    ] + list(extra_nodes)
    inits = [numpy_helper.from_array(v, k) for k, v in p.items()]
    inits += [numpy_helper.from_array(np.array(0, dtype=np.int64), "zero_idx"),
              numpy_helper.from_array(np.array([0], dtype=np.int64), "zero_idx1"),
              numpy_helper.from_array(np.array([H * D], dtype=np.int64), "flat_dim"),
              numpy_helper.from_array(np.array([H, D], dtype=np.int64), "hd_dims")]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info(input_name, TensorProto.FLOAT,
                                                      ["batch", window, F])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", H, F])], inits)
    return graph, p


def model(graph, meta=None, opset=17):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    base = {"aether.schema_version": "1", "aether.window": str(W), "aether.horizon": str(H),
            "aether.val_wape": "0.25", "aether.val_skill": "0.4"}
    if meta is not None:
        base = meta
    for k, v in base.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    return m


def recurrent_model():
    """An LSTM (layout 1) whose output sequence, reshaped, feeds a bidirectional GRU; its final
    states [batch, 2, F] are the forecast (H = 2): the recurrent layers for the allocation test."""
    rng = np.random.default_rng(3)
    r = lambda *shape: (0.3 * rng.standard_normal(shape)).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for n, a in (
        ("lw", r(1, 4 * F, F)), ("lr", r(1, 4 * F, F)), ("lb", r(1, 8 * F)),
        ("gw", r(2, 3 * F, F)), ("gr", r(2, 3 * F, F)), ("gb", r(2, 6 * F)),
        ("shape", np.array([0, W, F], np.int64)))]
    nodes = [helper.make_node("LSTM", ["input", "lw", "lr", "lb"], ["seq"], hidden_size=F,
                              layout=1),
             helper.make_node("Reshape", ["seq", "shape"], ["flat"]),
             helper.make_node("GRU", ["flat", "gw", "gr", "gb"], ["", "output"], hidden_size=F,
                              layout=1, direction="bidirectional", linear_before_reset=1)]
    graph = helper.make_graph(
        nodes, "tiny_recurrent",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", W, F])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", H, F])], inits)
    return model(graph, opset=14)


def write_csv(path, rows):
    with open(path, "w", encoding="ascii") as f:
        f.write(",".join("f%d" % i for i in range(F)) + "\n")  # header, skipped by the reader
        for row in rows:
            f.write(",".join("%.9g" % float(v) for v in row) + "\n")


def main(out):
    os.makedirs(out, exist_ok=True)
    graph, p = tiny_graph()
    tiny = model(graph)
    onnx.checker.check_model(tiny)
    onnx.save(tiny, os.path.join(out, "tiny.onnx"))
    x = np.random.default_rng(11).normal(0, 1, (1, W, F)).astype(np.float32)
    write_csv(os.path.join(out, "tiny_input.csv"), x[0])
    with open(os.path.join(out, "tiny_expected.csv"), "w", encoding="ascii") as f:
        for row in reference(x, p)[0]:
            f.write(",".join("%.9g" % float(v) for v in row) + "\n")

    # The same model at opset 13, LayerNorm in its decomposed form (fused back by the engine).
    tiny13 = model(tiny_graph(decomposed_ln=True)[0], opset=13)
    onnx.checker.check_model(tiny13)
    onnx.save(tiny13, os.path.join(out, "tiny_opset13.onnx"))

    meta = {"aether.window": str(W), "aether.horizon": str(H)}
    onnx.save(model(tiny_graph()[0], meta=meta), os.path.join(out, "noschema.onnx"))

    # Extra inputs: a frequency token with a default, and an exogenous input without one.
    tokens = 4
    emb = (np.arange(tokens)[:, None] * 10 + np.arange(F)[None, :]).astype(np.float32)
    g, _ = tiny_graph(output_name="pre")
    g.input.append(helper.make_tensor_value_info("freq_token", TensorProto.INT64, ["batch", 1]))
    g.initializer.append(numpy_helper.from_array(emb, "freq_emb"))
    g.node.append(helper.make_node("Gather", ["freq_emb", "freq_token"], ["freq_vec"], axis=0))
    g.node.append(helper.make_node("Add", ["pre", "freq_vec"], ["output"]))
    g.output[0].name = "output"
    freq = model(g, meta={"aether.schema_version": "1", "aether.window": str(W),
                          "aether.horizon": str(H), "aether.inputs": "freq_token=2"})
    onnx.checker.check_model(freq)
    onnx.save(freq, os.path.join(out, "tiny_freq.onnx"))
    with open(os.path.join(out, "tiny_freq_expected_3.csv"), "w", encoding="ascii") as f:
        for row in (reference(x, p) + emb[3])[0]:
            f.write(",".join("%.9g" % float(v) for v in row) + "\n")
    g, _ = tiny_graph(output_name="pre")
    g.input.append(helper.make_tensor_value_info("exog", TensorProto.FLOAT, ["batch", 1, F]))
    g.node.append(helper.make_node("Add", ["pre", "exog"], ["output"]))
    g.output[0].name = "output"
    onnx.save(model(g, meta={"aether.schema_version": "1", "aether.inputs": " exog "}),
              os.path.join(out, "tiny_exog.onnx"))

    onnx.save(recurrent_model(), os.path.join(out, "tiny_recurrent.onnx"))

    bad = {}
    unlisted = onnx.ModelProto()
    unlisted.CopyFrom(freq)
    del unlisted.metadata_props[:]
    bad["bad_extra_input_unlisted"] = unlisted
    wrong = onnx.ModelProto()
    wrong.CopyFrom(freq)
    for e in wrong.metadata_props:
        if e.key == "aether.inputs":
            e.value = "freq_token=2,season"
    bad["bad_extra_input_missing"] = wrong
    badval = onnx.ModelProto()
    badval.CopyFrom(freq)
    for e in badval.metadata_props:
        if e.key == "aether.inputs":
            e.value = "freq_token=1.5"
    bad["bad_extra_input_default"] = badval
    bad["bad_input_name"] = model(tiny_graph(input_name="x")[0])
    bad["bad_output_name"] = model(tiny_graph(output_name="y")[0])
    unsupported, _ = tiny_graph(output_name="pre")
    unsupported.node.append(helper.make_node("GridSample", ["pre", "pre"], ["output"]))
    bad["bad_unsupported_op"] = model(unsupported)
    # Three unsupported nodes (one in another domain): the error lists every one.
    several, _ = tiny_graph(output_name="pre")
    several.node.append(helper.make_node("GridSample", ["pre", "pre"], ["g"], name="grid"))
    several.node.append(helper.make_node("Frobnicate", ["g"], ["f"], name="frob"))
    several.node.append(helper.make_node("Op", ["f"], ["output"], name="custom", domain="x.y"))
    m_several = model(several)
    m_several.opset_import.append(helper.make_opsetid("x.y", 1))
    bad["bad_unsupported_ops"] = m_several
    bad["bad_schema"] = model(tiny_graph()[0], meta={"aether.schema_version": "2"})
    ext = model(tiny_graph()[0])
    t = ext.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", "weights.bin"
    bad["bad_external_data"] = ext
    for name, m in bad.items():
        onnx.save(m, os.path.join(out, name + ".onnx"))
    data = tiny.SerializeToString()
    with open(os.path.join(out, "bad_truncated.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(out, "bad_garbage.onnx"), "wb") as f:
        f.write(bytes((i * 37 + 11) % 256 for i in range(4096)))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_test_models.py OUTDIR")
    sys.exit(main(sys.argv[1]))
