#!/usr/bin/python3
"""Common forecasting baselines, exported to ONNX with fixed random weights, for the engine's
accuracy checks against PyTorch.

  dlinear      DLinear: moving-average trend (edge Pad + AveragePool) and seasonal remainder, each
               mapped W -> H by a linear layer shared by the channels
  patchtst_bn  PatchTST with BatchNorm in its encoder: per-channel overlapping patches (edge Pad,
               slices), linear patch embedding + positional embedding, self-attention and GELU
               feed-forward blocks normalised by BatchNorm1d, flatten head
  tcn          temporal convolution network: causal dilated Conv1d blocks (1, 2, 4) with
               BatchNorm (folded into the convolutions by the engine) and ReLU, 1x1 residual
               projection, linear head on the last time step
  mlp_bn       Linear -> BatchNorm1d layers: over the window steps of a per-step embedding (not
               foldable) and in an MLP on the flattened window (folded into the linear layers)
  gru, lstm    recurrent forecasters: two bidirectional GRU / LSTM layers over the window
               (batch_first), a linear head on the last step's output

Every model maps `input` [batch, W, 11] to `output` [batch, H, 11] (the predictor contract). The
script writes model.onnx, input.csv (one window) and expected.csv (PyTorch's output) into
--output-dir, for check_model_output.py.

Run with Debian's interpreter: /usr/bin/python3 forecasters.py --family NAME --output-dir DIR
"""

import argparse
import math
import os
import sys

import torch
from torch import nn

FEATURES = 11
OPSET = 17


class DLinear(nn.Module):
    def __init__(self, window, horizon, kernel=25):
        super().__init__()
        self.half = (kernel - 1) // 2
        self.pool = nn.AvgPool1d(kernel, stride=1)
        self.trend = nn.Linear(window, horizon)
        self.seasonal = nn.Linear(window, horizon)

    def forward(self, x):  # [B, W, C]
        t = x.transpose(1, 2)  # [B, C, W]
        padded = nn.functional.pad(t, (self.half, self.half), mode="replicate")
        trend = self.pool(padded)
        seasonal = t - trend
        return (self.trend(trend) + self.seasonal(seasonal)).transpose(1, 2)


class BatchNormTokens(nn.Module):
    """BatchNorm1d over the feature axis of [B, N, D] tokens (PatchTST's 'BatchNorm' option)."""

    def __init__(self, d_model):
        super().__init__()
        self.norm = nn.BatchNorm1d(d_model)

    def forward(self, x):
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class EncoderLayer(nn.Module):
    def __init__(self, d_model, heads, d_ff):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.norm1 = BatchNormTokens(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.norm2 = BatchNormTokens(d_model)

    def forward(self, x):  # [B', N, D]
        b, n, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        split = lambda t: t.reshape(b, n, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, n, d)
        x = self.norm1(x + self.proj(y))
        return self.norm2(x + self.ff(x))


class PatchTSTBatchNorm(nn.Module):
    def __init__(self, window, horizon, patch=12, stride=6, d_model=32, heads=4, layers=2):
        super().__init__()
        self.patch, self.stride = patch, stride
        self.n_patches = (window + stride - patch) // stride + 1
        self.embed = nn.Linear(patch, d_model)
        self.position = nn.Parameter(0.1 * torch.randn(self.n_patches, d_model))
        self.layers = nn.ModuleList([EncoderLayer(d_model, heads, 2 * d_model)
                                     for _ in range(layers)])
        self.head = nn.Linear(self.n_patches * d_model, horizon)

    def forward(self, x):  # [B, W, C]
        b, _, c = x.shape
        t = nn.functional.pad(x.transpose(1, 2), (0, self.stride), mode="replicate")
        # Overlapping patches [B, C, N, P] (Tensor.unfold does not export with a dynamic batch).
        patches = torch.stack([t[..., i * self.stride:i * self.stride + self.patch]
                               for i in range(self.n_patches)], dim=2)
        z = self.embed(patches).reshape(b * c, self.n_patches, -1) + self.position
        for layer in self.layers:
            z = layer(z)
        y = self.head(z.reshape(b, c, -1))  # [B, C, H]
        return y.transpose(1, 2)


class TCNBlock(nn.Module):
    def __init__(self, c_in, c_out, dilation, kernel=3):
        super().__init__()
        self.chomp = (kernel - 1) * dilation
        self.conv1 = nn.Conv1d(c_in, c_out, kernel, padding=self.chomp, dilation=dilation)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel, padding=self.chomp, dilation=dilation)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.down = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else None

    def forward(self, x):  # [B, C, T]; causal: the right padding is cut off
        t = x.shape[-1]
        y = torch.relu(self.bn1(self.conv1(x)[..., :t]))
        y = torch.relu(self.bn2(self.conv2(y)[..., :t]))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


class TCN(nn.Module):
    def __init__(self, window, horizon, channels=32):
        super().__init__()
        self.horizon = horizon
        self.blocks = nn.Sequential(TCNBlock(FEATURES, channels, 1), TCNBlock(channels, channels, 2),
                                    TCNBlock(channels, channels, 4))
        self.head = nn.Linear(channels, horizon * FEATURES)

    def forward(self, x):  # [B, W, C]
        y = self.blocks(x.transpose(1, 2))[..., -1]  # [B, channels]
        return self.head(y).reshape(-1, self.horizon, FEATURES)


class Recurrent(nn.Module):
    def __init__(self, window, horizon, cell, hidden=24, layers=2):
        super().__init__()
        self.horizon = horizon
        self.rnn = cell(FEATURES, hidden, num_layers=layers, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, horizon * FEATURES)

    def forward(self, x):  # [B, W, C]
        y, _ = self.rnn(x)
        return self.head(y[:, -1]).reshape(-1, self.horizon, FEATURES)


class MLPBatchNorm(nn.Module):
    """Per-step embedding normalised over the window steps (BatchNorm1d on [B, W, D]: the
    channels are the steps), then an MLP on the flattened window with Linear -> BatchNorm1d
    layers (Gemm -> BatchNormalization, folded by the engine)."""

    def __init__(self, window, horizon, d_model=8, hidden=48):
        super().__init__()
        self.horizon = horizon
        self.embed = nn.Linear(FEATURES, d_model)
        self.step_norm = nn.BatchNorm1d(window)
        self.mlp = nn.Sequential(nn.Linear(window * d_model, hidden), nn.BatchNorm1d(hidden),
                                 nn.ReLU(), nn.Linear(hidden, hidden, bias=False),
                                 nn.BatchNorm1d(hidden), nn.Linear(hidden, horizon * FEATURES))

    def forward(self, x):  # [B, W, C]
        y = self.step_norm(self.embed(x))
        return self.mlp(y.flatten(1)).reshape(-1, self.horizon, FEATURES)


FAMILIES = {"dlinear": DLinear, "patchtst_bn": PatchTSTBatchNorm, "tcn": TCN,
            "mlp_bn": MLPBatchNorm,
            "gru": lambda w, h: Recurrent(w, h, nn.GRU),
            "lstm": lambda w, h: Recurrent(w, h, nn.LSTM)}


def randomize_norms(model, generator):
    """Non-trivial BatchNorm statistics and affine terms (the defaults would hide mistakes)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm1d):
                shape = module.weight.shape
                module.weight.copy_(1.0 + 0.2 * torch.randn(shape, generator=generator))
                module.bias.copy_(0.1 * torch.randn(shape, generator=generator))
                module.running_mean.copy_(0.1 * torch.randn(shape, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(shape, generator=generator))


def write_csv(path, rows):
    with open(path, "w", encoding="ascii") as f:
        for row in rows:
            f.write(",".join("%.9g" % float(v) for v in row) + "\n")


def export(family, out_dir, window, horizon, seed, opset=OPSET):
    """Builds the family's model, exports model.onnx and writes input.csv / expected.csv."""
    import onnx

    torch.manual_seed(seed)
    model = FAMILIES[family](window, horizon)
    generator = torch.Generator().manual_seed(seed + 1)
    randomize_norms(model, generator)
    model.eval()
    steps = torch.linspace(0.0, 1.0, window).unsqueeze(1)
    x = steps + torch.randn(window, FEATURES, generator=generator)
    with torch.no_grad():
        expected = model(x.unsqueeze(0))[0]
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(model, x.unsqueeze(0), path, opset_version=opset, input_names=["input"],
                      output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True)
    m = onnx.load(path)
    for key, value in {"aether.schema_version": "1", "aether.window": str(window),
                       "aether.horizon": str(horizon),
                       "aether.train_data": "none: %s with fixed random weights" % family}.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(m, path)
    write_csv(os.path.join(out_dir, "input.csv"), x.tolist())
    write_csv(os.path.join(out_dir, "expected.csv"), expected.tolist())
    ops = sorted({n.op_type for n in m.graph.node})
    params = sum(p.numel() for p in model.parameters())
    print("%s: %s W=%d H=%d parameters=%d operators=%s" % (path, family, window, horizon, params,
                                                         ",".join(ops)))
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--family", required=True, choices=sorted(FAMILIES))
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    export(args.family, args.output_dir, args.window, args.horizon, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
