#!/usr/bin/python3
"""Reference mixer: the engine's accuracy check and benchmark model.

Builds the mixer of the design (input Linear(11->D); L layers of [LayerNorm -> temporal MLP over
the time axis (W->W, GELU, W->W) + residual; LayerNorm -> channel MLP (D->4D, GELU, 4D->D) +
residual]; LayerNorm + Linear(D->11); temporal head Linear(W->H); dropout in training only) with
fixed random weights, exports it to ONNX (opset 17, input `input` [batch, W, 11] with a dynamic
batch, output `output` [batch, H, 11]) and writes, next to the model:
  input.csv     one reference window, W rows x 11 columns
  expected.csv  PyTorch's output for it, H rows x 11 columns (the format `aether-model run` prints)
  model.json    window, horizon, parameter count and FLOPs per inference (for the benchmark)

Run with Debian's interpreter: /usr/bin/python3 reference_mixer.py --output-dir DIR
"""

import argparse
import json
import os
import sys

import torch
from torch import nn

FEATURES = 11
D_MODEL = 64
EXPANSION = 4
LAYERS = 3
DROPOUT = 0.1
OPSET = 17
# FeatureIndex schema v1, in order (stored in the model's metadata).
FEATURE_NAMES = ("cpu_usage,heap_usage,event_loop_lag_ms,latency_ms,invocations,gc_pause_ms,"
                 "latency_p50,latency_p95,latency_p99,error_rate,event_count")
# At W=60, H=1 the design fixes the size of this model.
REFERENCE_PARAMETERS = 123_664


class MixerLayer(nn.Module):
    """One mixer block: mixes along time, then along channels, each with a residual."""

    def __init__(self, window):
        super().__init__()
        self.time_norm = nn.LayerNorm(D_MODEL)
        self.time_mlp = nn.Sequential(nn.Linear(window, window), nn.GELU(), nn.Dropout(DROPOUT),
                                      nn.Linear(window, window), nn.Dropout(DROPOUT))
        self.channel_norm = nn.LayerNorm(D_MODEL)
        self.channel_mlp = nn.Sequential(nn.Linear(D_MODEL, EXPANSION * D_MODEL), nn.GELU(),
                                         nn.Dropout(DROPOUT),
                                         nn.Linear(EXPANSION * D_MODEL, D_MODEL),
                                         nn.Dropout(DROPOUT))

    def forward(self, x):  # x: [batch, W, D]
        t = self.time_norm(x).transpose(1, 2)  # [batch, D, W]: the MLP acts on the time axis
        x = x + self.time_mlp(t).transpose(1, 2)
        return x + self.channel_mlp(self.channel_norm(x))


class ReferenceMixer(nn.Module):
    def __init__(self, window, horizon):
        super().__init__()
        self.embed = nn.Linear(FEATURES, D_MODEL)
        self.layers = nn.ModuleList([MixerLayer(window) for _ in range(LAYERS)])
        self.out_norm = nn.LayerNorm(D_MODEL)
        self.out_proj = nn.Linear(D_MODEL, FEATURES)
        self.head = nn.Linear(window, horizon)

    def forward(self, x):  # x: [batch, W, 11] -> [batch, H, 11]
        x = self.embed(x)
        for layer in self.layers:
            x = layer(x)
        x = self.out_proj(self.out_norm(x))  # [batch, W, 11]
        return self.head(x.transpose(1, 2)).transpose(1, 2)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def matmul_flops(window, horizon):
    """FLOPs of one inference (batch 1), counting 2 per multiply-add of the linear layers only
    (norms, GELU, biases and residuals are a few percent and are left out)."""
    per_layer = 2 * (2 * D_MODEL * window * window) + 2 * (2 * window * D_MODEL * EXPANSION * D_MODEL)
    return (2 * window * FEATURES * D_MODEL + LAYERS * per_layer + 2 * window * D_MODEL * FEATURES
            + 2 * FEATURES * window * horizon)


def randomize_norms(model, generator):
    """Default LayerNorm weights are 1 and 0, which would hide a missing scale or shift."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.copy_(1.0 + 0.2 * torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))


def write_csv(path, rows):
    with open(path, "w", encoding="ascii") as f:
        for row in rows:
            f.write(",".join("%.9g" % float(v) for v in row) + "\n")


def add_metadata(path, window, horizon, seed):
    import onnx

    model = onnx.load(path)
    props = {
        "aether.schema_version": "1",
        "aether.window": str(window),
        "aether.horizon": str(horizon),
        "aether.features": FEATURE_NAMES,
        "aether.normalization": "none",
        "aether.train_seed": str(seed),
        "aether.train_data": "none: reference mixer with fixed random weights",
    }
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", required=True, help="folder for the model and CSV files")
    parser.add_argument("--window", type=int, default=60, help="time steps W (default 60)")
    parser.add_argument("--horizon", type=int, default=1, help="forecast steps H (default 1)")
    parser.add_argument("--seed", type=int, default=1234, help="weights and input seed")
    args = parser.parse_args(argv)
    if not 1 <= args.window <= 120 or not 1 <= args.horizon <= 10:
        parser.error("window must be in 1..120 and horizon in 1..10")

    torch.manual_seed(args.seed)
    model = ReferenceMixer(args.window, args.horizon)
    generator = torch.Generator().manual_seed(args.seed + 1)
    randomize_norms(model, generator)
    model.eval()
    params = parameter_count(model)
    if args.window == 60 and args.horizon == 1:
        assert params == REFERENCE_PARAMETERS, f"{params} parameters, expected {REFERENCE_PARAMETERS}"

    # A window of plausible magnitudes: unit-scale noise around a slow trend.
    steps = torch.linspace(0.0, 1.0, args.window).unsqueeze(1)
    window = steps + torch.randn(args.window, FEATURES, generator=generator)
    with torch.no_grad():
        expected = model(window.unsqueeze(0))[0]

    os.makedirs(args.output_dir, exist_ok=True)
    model_path = os.path.join(args.output_dir, "mixer.onnx")
    torch.onnx.export(model, window.unsqueeze(0), model_path, opset_version=OPSET,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True)
    add_metadata(model_path, args.window, args.horizon, args.seed)
    write_csv(os.path.join(args.output_dir, "input.csv"), window.tolist())
    write_csv(os.path.join(args.output_dir, "expected.csv"), expected.tolist())
    info = {"window": args.window, "horizon": args.horizon, "parameters": params,
            "flops": matmul_flops(args.window, args.horizon), "seed": args.seed, "opset": OPSET}
    with open(os.path.join(args.output_dir, "model.json"), "w", encoding="ascii") as f:
        json.dump(info, f, indent=1)
        f.write("\n")
    print(f"{model_path}: W={args.window} H={args.horizon} parameters={params} "
          f"flops={info['flops']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
