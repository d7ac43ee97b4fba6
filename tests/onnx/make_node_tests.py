#!/usr/bin/python3
"""Node tests the ONNX test data (1.12) does not have, in the backend-test layout.

Writes one folder per case into OUT (model.onnx + test_data_set_0/{input,output}_N.pb), for
`aether-model conformance OUT`: float CumSum (libonnx-testdata's are double), Pad's wrap mode
(opset 19) and reflect with pads wider than the input, Pad with axes (18), 1-D and 2-D Conv with
groups, dilations and asymmetric pads, a Conv followed by BatchNormalization (folded by the
engine), ConvTranspose, BatchNormalization after Gemm / MatMul and over tokens, a reverse GRU
with sequence_lens, TopK with ties, 1-D pooling with dilations (AveragePool 19) and ceil_mode,
Gelu (20), and operators declared at opset 21. Expected values come from PyTorch and numpy, not from the
engine.

Run with Debian's interpreter: /usr/bin/python3 make_node_tests.py OUT
"""

import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(17)


def write_case(out, name, nodes, inputs, outputs, opset, initializers=()):
    """inputs / outputs: lists of (name, array); the graph declares their types and shapes."""
    def info(n, a):
        t = TensorProto.FLOAT if a.dtype == np.float32 else TensorProto.INT64
        return helper.make_tensor_value_info(n, t, a.shape)

    graph = helper.make_graph(nodes, name, [info(n, a) for n, a in inputs],
                              [info(n, a) for n, a in outputs],
                              [a if isinstance(a, TensorProto) else numpy_helper.from_array(a, n)
                               for n, a in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    d = os.path.join(out, "test_" + name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for kind, arrays in (("input", inputs), ("output", outputs)):
        for i, (n, a) in enumerate(arrays):
            with open(os.path.join(d, "test_data_set_0", "%s_%d.pb" % (kind, i)), "wb") as f:
                f.write(numpy_helper.from_array(a, n).SerializeToString())


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def cumsum_cases(out):
    x = rand(3, 5)
    for exclusive in (0, 1):
        for reverse in (0, 1):
            y = np.flip(x, 1) if reverse else x
            c = np.cumsum(y, axis=1)
            if exclusive:
                c = np.concatenate([np.zeros((3, 1), np.float32), c[:, :-1]], axis=1)
            c = np.flip(c, 1) if reverse else c
            node = helper.make_node("CumSum", ["x", "axis"], ["y"], exclusive=exclusive,
                                    reverse=reverse)
            write_case(out, "cumsum_float_excl%d_rev%d" % (exclusive, reverse), [node],
                       [("x", x)], [("y", np.ascontiguousarray(c, np.float32))], 14,
                       [("axis", np.array(-1, np.int64))])


def pad_cases(out):
    x = rand(2, 3, 4)
    pads = np.array([0, 2, 5, 1, 4, 3], np.int64)  # reflect/wrap wider than the input
    width = [(0, 1), (2, 4), (5, 3)]
    for mode, opset in (("reflect", 18), ("edge", 18), ("wrap", 19), ("constant", 21)):
        ins = ["x", "pads", "value"] if mode == "constant" else ["x", "pads"]
        node = helper.make_node("Pad", ins, ["y"], mode=mode)
        if mode == "constant":
            y = np.pad(x, width, mode="constant", constant_values=1.5)
        elif mode == "wrap":  # periodic; numpy 1.24's wrap differs when a pad exceeds the size
            y = x
            for axis, (before, after) in enumerate(width):
                n = x.shape[axis]
                y = np.take(y, np.arange(-before, n + after) % n, axis=axis)
        else:
            y = np.pad(x, width, mode=mode)
        inits = [("pads", pads)] + ([("value", np.array(1.5, np.float32))]
                                    if mode == "constant" else [])
        write_case(out, "pad_%s_wide_opset%d" % (mode, opset), [node], [("x", x)],
                   [("y", y.astype(np.float32))], opset, inits)
    # Axes (opset 18) and negative pads (cropping).
    node = helper.make_node("Pad", ["x", "pads", "", "axes"], ["y"], mode="constant")
    y = np.pad(x, [(0, 0), (0, 0), (2, 0)])[:, 1:, :]
    write_case(out, "pad_axes_crop", [node], [("x", x)], [("y", y.astype(np.float32))], 18,
               [("pads", np.array([2, -1, 0, 0], np.int64)), ("axes", np.array([-1, 1], np.int64))])


def conv_cases(out):
    # 1-D: groups, dilation, asymmetric pads, stride; bias.
    x, w, b = rand(2, 6, 17), rand(4, 3, 3), rand(4)
    xp = np.pad(x, [(0, 0), (0, 0), (2, 1)])
    y = F.conv1d(torch.from_numpy(xp), torch.from_numpy(w), torch.from_numpy(b), stride=2,
                 dilation=2, groups=2).numpy()
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[2, 1], strides=[2],
                            dilations=[2], group=2)
    write_case(out, "conv1d_groups_dilation_asym_pads", [node], [("x", x)], [("y", y)], 11,
               [("w", w), ("b", b)])
    # Stride 1 (the engine's per-tap matrix-product path): groups, dilation, asymmetric pads, a
    # kernel wider than the input once padded on one side only.
    x, w, b = rand(3, 4, 9), rand(6, 2, 4), rand(6)
    xp = np.pad(x, [(0, 0), (0, 0), (3, 5)])
    y = F.conv1d(torch.from_numpy(xp), torch.from_numpy(w), torch.from_numpy(b), dilation=3,
                 groups=2).numpy()
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[3, 5], dilations=[3], group=2)
    write_case(out, "conv1d_stride1_groups_dilation", [node], [("x", x)], [("y", y)], 11,
               [("w", w), ("b", b)])
    # Depthwise 2-D with stride and dilations, no bias.
    x, w = rand(1, 4, 9, 8), rand(4, 1, 3, 2)
    y = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=(2, 1), padding=(1, 1),
                 dilation=(1, 2), groups=4).numpy()
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], strides=[2, 1],
                            dilations=[1, 2], group=4)
    write_case(out, "conv2d_depthwise", [node], [("x", x)], [("y", y)], 11, [("w", w)])
    # Conv (no bias) -> BatchNormalization: the engine folds the statistics into the weights.
    x, w = rand(2, 3, 12), rand(5, 3, 3)
    g, beta, mean = rand(5), rand(5), rand(5)
    var = (np.abs(rand(5)) + 0.5).astype(np.float32)
    c = F.conv1d(torch.from_numpy(x), torch.from_numpy(w), padding=1)
    y = F.batch_norm(c, torch.from_numpy(mean), torch.from_numpy(var), torch.from_numpy(g),
                     torch.from_numpy(beta), training=False, eps=1e-3).numpy()
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1]),
             helper.make_node("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["y"],
                              epsilon=1e-3)]
    write_case(out, "conv_batchnorm_folded", nodes, [("x", x)], [("y", y)], 15,
               [("w", w), ("g", g), ("beta", beta), ("mean", mean), ("var", var)])


def conv_transpose_cases(out):
    # 1-D: groups, stride, dilation, pads, output_padding, bias (PyTorch's ConvTranspose1d).
    x, w, b = rand(2, 4, 7), rand(4, 3, 3), rand(6)
    y = F.conv_transpose1d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                           stride=3, padding=2, output_padding=1, groups=2, dilation=2).numpy()
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[3], pads=[2, 2],
                            output_padding=[1], group=2, dilations=[2])
    write_case(out, "conv_transpose1d_groups_stride_dilation", [node], [("x", x)], [("y", y)],
               11, [("w", w), ("b", b)])
    # 2-D, no bias, asymmetric strides.
    x, w = rand(1, 3, 4, 5), rand(3, 2, 2, 3)
    y = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=(2, 1),
                           padding=(0, 1)).numpy()
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 1], pads=[0, 1, 0, 1])
    write_case(out, "conv_transpose2d_strides", [node], [("x", x)], [("y", y)], 11, [("w", w)])


def batchnorm_cases(out):
    """BatchNormalization without a Conv before it: after Gemm ([N, C]), after MatMul
    ([N, C, L], channels on axis 1), and between two Transposes (BatchNorm1d over tokens, which
    the engine runs over the last axis)."""
    g, beta, mean = rand(5), rand(5), rand(5)
    var = (np.abs(rand(5)) + 0.5).astype(np.float32)
    stats = [("g", g), ("beta", beta), ("mean", mean), ("var", var)]
    bn = lambda c: F.batch_norm(c, torch.from_numpy(mean), torch.from_numpy(var),
                                torch.from_numpy(g), torch.from_numpy(beta), training=False,
                                eps=1e-4)
    norm = helper.make_node("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["y"],
                            epsilon=1e-4)
    x, w, b = rand(3, 4), rand(5, 4), rand(5)
    y = bn(torch.from_numpy(x @ w.T + b)).numpy()
    gemm = helper.make_node("Gemm", ["x", "w", "b"], ["c"], transB=1)
    write_case(out, "gemm_batchnorm", [gemm, norm], [("x", x)], [("y", y)], 15,
               [("w", w), ("b", b)] + stats)
    # Folded into the product: Gemm with B not transposed and C of shape [1, N], MatMul + Add
    # and a bias-less MatMul on a matrix input.
    x, w, b = rand(3, 4), rand(4, 5), rand(1, 5)
    y = bn(torch.from_numpy(x @ w + b)).numpy()
    gemm = helper.make_node("Gemm", ["x", "w", "b"], ["c"])
    write_case(out, "gemm_batchnorm_folded", [gemm, norm], [("x", x)], [("y", y)], 15,
               [("w", w), ("b", b)] + stats)
    b = rand(5)
    y = bn(torch.from_numpy(x @ w + b)).numpy()
    nodes = [helper.make_node("MatMul", ["x", "w"], ["p"]),
             helper.make_node("Add", ["p", "b"], ["c"]), norm]
    write_case(out, "matmul_add_batchnorm_folded", nodes, [("x", x)], [("y", y)], 15,
               [("w", w), ("b", b)] + stats)
    y = bn(torch.from_numpy(x @ w)).numpy()
    write_case(out, "matmul_batchnorm_folded", [helper.make_node("MatMul", ["x", "w"], ["c"]),
                                                norm], [("x", x)], [("y", y)], 15,
               [("w", w)] + stats)
    # The same after a Relu: the engine derives that its input is a matrix.
    y = bn(torch.from_numpy(np.maximum(x, 0) @ w)).numpy()
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("MatMul", ["r", "w"], ["c"]),
             norm]
    write_case(out, "relu_matmul_batchnorm_folded", nodes, [("x", x)], [("y", y)], 15,
               [("w", w)] + stats)
    # [B, T, N] with T == N: BatchNorm normalises T, which the weight cannot carry (not folded).
    x = rand(2, 5, 4)
    y = bn(torch.from_numpy(x @ w)).numpy()
    write_case(out, "matmul_rank3_batchnorm", [helper.make_node("MatMul", ["x", "w"], ["c"]),
                                               norm], [("x", x)], [("y", y)], 15,
               [("w", w)] + stats)
    x, w = rand(2, 6, 3), rand(5, 6)
    y = bn(torch.from_numpy(w @ x)).numpy()
    mm = helper.make_node("MatMul", ["w", "x"], ["c"])
    write_case(out, "matmul_batchnorm", [mm, norm], [("x", x)], [("y", y)], 15,
               [("w", w)] + stats)
    x = rand(2, 7, 5)
    y = bn(torch.from_numpy(x).transpose(1, 2)).transpose(1, 2).numpy()
    nodes = [helper.make_node("Transpose", ["x"], ["c"], perm=[0, 2, 1]),
             helper.make_node("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["n"],
                              epsilon=1e-4),
             helper.make_node("Transpose", ["n"], ["y"], perm=[0, 2, 1])]
    write_case(out, "batchnorm_tokens_last_axis", nodes, [("x", x)],
               [("y", np.ascontiguousarray(y))], 15, stats)


def gru_reverse_cases(out):
    """A reverse GRU with sequence_lens: PyTorch's GRU (linear_before_reset=1) run on each
    sequence's valid steps backwards; ONNX orders the gates z, r, h where PyTorch has r, z, n."""
    seq, batch, inp, hid, lens = 5, 2, 3, 4, [5, 3]
    torch.manual_seed(5)
    gru = torch.nn.GRU(inp, hid)
    x = rand(seq, batch, inp)
    order = lambda t: np.concatenate([t[hid:2 * hid], t[:hid], t[2 * hid:]]).astype(np.float32)
    w = order(gru.weight_ih_l0.detach().numpy())[None]
    r = order(gru.weight_hh_l0.detach().numpy())[None]
    b = np.concatenate([order(gru.bias_ih_l0.detach().numpy()),
                        order(gru.bias_hh_l0.detach().numpy())])[None]
    y = np.zeros((seq, 1, batch, hid), np.float32)
    y_h = np.zeros((1, batch, hid), np.float32)
    with torch.no_grad():
        for i, n in enumerate(lens):
            steps = torch.from_numpy(x[:n, i:i + 1][::-1].copy())
            ys, h = gru(steps)
            y[:n, 0, i] = ys[:, 0].numpy()[::-1]
            y_h[0, i] = h[0, 0].numpy()
    node = helper.make_node("GRU", ["x", "w", "r", "b", "lens"], ["y", "y_h"], hidden_size=hid,
                            direction="reverse", linear_before_reset=1)
    graph_inputs = [("x", x)]
    inits = [("w", w), ("r", r), ("b", b.astype(np.float32))]
    lens_t = numpy_helper.from_array(np.array(lens, np.int32), "lens")
    write_case(out, "gru_reverse_sequence_lens", [node], graph_inputs,
               [("y", y), ("y_h", y_h)], 14, inits + [("lens", lens_t)])


def topk_cases(out):
    x = np.array([[3, 1, 3, 2, 3, 0], [5, 5, 4, 4, 6, 6]], np.float32)
    for largest in (1, 0):
        order = np.argsort(-x if largest else x, axis=1, kind="stable")[:, :4]
        vals = np.take_along_axis(x, order, axis=1)
        node = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=1, largest=largest)
        write_case(out, "topk_ties_largest%d" % largest, [node], [("x", x)],
                   [("v", vals), ("i", order.astype(np.int64))], 11,
                   [("k", np.array([4], np.int64))])


def pool_cases(out):
    x = rand(2, 3, 13)
    y = F.avg_pool1d(torch.from_numpy(x), 3, stride=2, padding=1, ceil_mode=True,
                     count_include_pad=False).numpy()
    node = helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3], strides=[2],
                            pads=[1, 1], ceil_mode=1)
    write_case(out, "averagepool_1d_ceil", [node], [("x", x)], [("y", y)], 11)
    # DLinear's moving average: edge-replicated window, stride 1, count_include_pad.
    y = F.avg_pool1d(torch.from_numpy(x), 5, stride=1, padding=2, count_include_pad=True).numpy()
    node = helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[5], pads=[2, 2],
                            count_include_pad=1)
    write_case(out, "averagepool_1d_include_pad", [node], [("x", x)], [("y", y)], 19)
    # Dilated average pooling (opset 19): numpy reference.
    k, d = 3, 2
    n_out = 13 - (k - 1) * d
    y = np.stack([x[:, :, i:i + (k - 1) * d + 1:d].mean(-1) for i in range(n_out)], -1)
    node = helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[k], dilations=[d])
    write_case(out, "averagepool_1d_dilations_opset19", [node], [("x", x)],
               [("y", y.astype(np.float32))], 19)
    y, idx = F.max_pool1d(torch.from_numpy(x), 4, stride=3, ceil_mode=True, return_indices=True)
    # ONNX's Indices count over the whole flattened tensor.
    flat = idx.numpy() + (np.arange(6).reshape(2, 3, 1) * 13)
    node = helper.make_node("MaxPool", ["x"], ["y", "i"], kernel_shape=[4], strides=[3],
                            ceil_mode=1)
    write_case(out, "maxpool_1d_ceil_indices", [node], [("x", x)],
               [("y", y.numpy()), ("i", flat.astype(np.int64))], 12)


def newer_opset_cases(out):
    x = rand(2, 7)
    for approx in ("none", "tanh"):
        y = F.gelu(torch.from_numpy(x), approximate=approx).numpy()
        node = helper.make_node("Gelu", ["x"], ["y"], approximate=approx)
        write_case(out, "gelu_%s_opset20" % approx, [node], [("x", x)], [("y", y)], 20)
    nodes = [helper.make_node("Reshape", ["x", "s"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[1, 0]),
             helper.make_node("Unsqueeze", ["t", "ax"], ["u"]),
             helper.make_node("Squeeze", ["u", "ax"], ["q"]),
             helper.make_node("Cast", ["q"], ["y"], to=TensorProto.FLOAT)]
    write_case(out, "shape_ops_opset21", nodes, [("x", x)],
               [("y", np.ascontiguousarray(x.reshape(7, 2).T))], 21,
               [("s", np.array([7, 2], np.int64)), ("ax", np.array([0], np.int64))])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for make in (cumsum_cases, pad_cases, conv_cases, conv_transpose_cases, batchnorm_cases,
                 gru_reverse_cases, topk_cases, pool_cases, newer_opset_cases):
        make(out)


if __name__ == "__main__":
    main()
