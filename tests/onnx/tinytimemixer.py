#!/usr/bin/python3
"""A TinyTimeMixer (TTM) forward pass written from the paper (Ekambaram et al., "Tiny Time
Mixers (TTMs): Fast Pre-trained Models for Enhanced Zero/Few-Shot Forecasting of Multivariate
Time Series", 2024) and the published r1 configuration, with random weights: the benchmark's
stand-in for IBM's model (this is not IBM's code; the layer arrangement follows the paper's
description).

  input [batch, W, C] -> per-channel standard scaling over time
  -> patches: the W steps of each channel cut into N = W / P patches of P steps
  -> patch embedding Linear(P -> d_model)
  -> backbone: adaptive patching levels; level i views the patches as (N * 2^(L-1-i)) patches of
     d_model / 2^(L-1-i) features and runs `layers` mixer blocks on that view
  -> decoder: Linear(d_model -> decoder_d_model), `decoder_layers` mixer blocks, with channel
     mixing when the decoder mode is "mix_channel"
  -> head: flatten N x decoder_d_model per channel, Linear(-> H); optional forecast channel
     mixing (a residual MLP over the channels of each forecast step)
  -> undo the scaling -> output [batch, H, C]

A mixer block is TSMixer's with TTM's gated attention: a patch-mixing MLP over the N axis and a
feature-mixing MLP over the feature axis (and, in mix_channel mode, a channel-mixing MLP over C),
each LayerNorm -> Linear(x e) -> GELU -> Linear -> gate x * softmax(Linear(x)) -> + residual.

The r1 configuration (context 512, forecast 96, patch 64, d_model 192, 2 layers per level,
3 adaptive patching levels, decoder d_model 128 with 2 layers, expansion 2) is the default.
Writes model.onnx (input `input` [batch, W, 11], output `output` [batch, H, 11]), input.csv,
expected.csv (PyTorch's output) and model.json (parameters) into --output-dir.

Run with Debian's interpreter: /usr/bin/python3 tinytimemixer.py --output-dir DIR
"""

import argparse
import json
import os
import sys

import torch
from torch import nn

FEATURES = 11


class GatedMLP(nn.Module):
    """LayerNorm -> MLP along the last axis -> gated attention -> residual."""

    def __init__(self, norm_dim, width, expansion):
        super().__init__()
        self.norm = nn.LayerNorm(norm_dim)
        self.fc1 = nn.Linear(width, width * expansion)
        self.fc2 = nn.Linear(width * expansion, width)
        self.gate = nn.Linear(width, width)

    def mix(self, x):  # x: [..., width]
        y = self.fc2(nn.functional.gelu(self.fc1(x)))
        return y * torch.softmax(self.gate(y), dim=-1)


class FeatureMixer(GatedMLP):
    def __init__(self, d, expansion):
        super().__init__(d, d, expansion)

    def forward(self, x):  # [B, C, N, d]
        return x + self.mix(self.norm(x))


class PatchMixer(GatedMLP):
    def __init__(self, n, d, expansion):
        super().__init__(d, n, expansion)

    def forward(self, x):  # [B, C, N, d]: mix along N
        y = self.norm(x).transpose(-1, -2)
        return x + self.mix(y).transpose(-1, -2)


class ChannelMixer(GatedMLP):
    def __init__(self, c, d, expansion):
        super().__init__(d, c, expansion)

    def forward(self, x):  # [B, C, N, d]: mix along C
        y = self.norm(x).permute(0, 3, 2, 1)  # [B, d, N, C]
        return x + self.mix(y).permute(0, 3, 2, 1)


class MixerBlock(nn.Module):
    def __init__(self, n, d, c, expansion, mix_channel):
        super().__init__()
        self.patch = PatchMixer(n, d, expansion)
        self.feature = FeatureMixer(d, expansion)
        self.channel = ChannelMixer(c, d, expansion) if mix_channel else None

    def forward(self, x):
        x = self.patch(x)
        x = self.feature(x)
        return self.channel(x) if self.channel is not None else x


class AdaptiveLevel(nn.Module):
    """Mixer blocks on a view of the patches as n * k patches of d / k features."""

    def __init__(self, n, d, c, k, layers, expansion, mix_channel):
        super().__init__()
        self.k = k
        self.blocks = nn.Sequential(*[MixerBlock(n * k, d // k, c, expansion, mix_channel)
                                      for _ in range(layers)])

    def forward(self, x):  # [B, C, N, d]
        b, c, n, d = x.shape
        y = self.blocks(x.reshape(b, c, n * self.k, d // self.k))
        return y.reshape(b, c, n, d)


class TinyTimeMixer(nn.Module):
    def __init__(self, window=512, horizon=96, channels=FEATURES, patch=64, d_model=192,
                 layers=2, levels=3, decoder_d_model=128, decoder_layers=2, expansion=2,
                 mode="common_channel", decoder_mode="mix_channel", forecast_channel_mixing=True):
        super().__init__()
        assert window % patch == 0 and d_model % (2 ** (levels - 1)) == 0
        self.patch, self.n = patch, window // patch
        mix = mode == "mix_channel"
        self.embed = nn.Linear(patch, d_model)
        self.backbone = nn.Sequential(*[
            AdaptiveLevel(self.n, d_model, channels, 2 ** (levels - 1 - i), layers, expansion, mix)
            for i in range(levels)])
        self.to_decoder = nn.Linear(d_model, decoder_d_model)
        self.decoder = nn.Sequential(*[
            MixerBlock(self.n, decoder_d_model, channels, expansion, decoder_mode == "mix_channel")
            for _ in range(decoder_layers)])
        self.head = nn.Linear(self.n * decoder_d_model, horizon)
        self.fcm = (GatedMLP(channels, channels, expansion) if forecast_channel_mixing else None)

    def forward(self, x):  # [B, W, C]
        mean = x.mean(dim=1, keepdim=True)
        std = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + 1e-5)
        z = ((x - mean) / std).transpose(1, 2)  # [B, C, W]
        b, c, w = z.shape
        z = self.embed(z.reshape(b, c, self.n, self.patch))  # [B, C, N, d]
        z = self.backbone(z)
        z = self.decoder(self.to_decoder(z))  # [B, C, N, dd]
        y = self.head(z.reshape(b, c, -1)).transpose(1, 2)  # [B, H, C]
        if self.fcm is not None:  # forecast channel mixing: along C for every step
            y = y + self.fcm.mix(self.fcm.norm(y))
        return y * std + mean


def randomize_norms(model, generator):
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.copy_(1.0 + 0.2 * torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))


def write_csv(path, rows):
    with open(path, "w", encoding="ascii") as f:
        for row in rows:
            f.write(",".join("%.9g" % float(v) for v in row) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--horizon", type=int, default=96)
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--d-model", type=int, default=192)
    parser.add_argument("--decoder-d-model", type=int, default=128)
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--seed", type=int, default=512)
    args = parser.parse_args(argv)
    import onnx

    torch.manual_seed(args.seed)
    model = TinyTimeMixer(args.window, args.horizon, patch=args.patch, d_model=args.d_model,
                          levels=args.levels, decoder_d_model=args.decoder_d_model)
    randomize_norms(model, torch.Generator().manual_seed(args.seed + 1))
    model.eval()
    generator = torch.Generator().manual_seed(args.seed + 2)
    steps = torch.linspace(0.0, 1.0, args.window).unsqueeze(1)
    x = steps * 3 + torch.randn(args.window, FEATURES, generator=generator)
    with torch.no_grad():
        expected = model(x.unsqueeze(0))[0]
    os.makedirs(args.output_dir, exist_ok=True)
    path = os.path.join(args.output_dir, "model.onnx")
    torch.onnx.export(model, x.unsqueeze(0), path, opset_version=17, input_names=["input"],
                      output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True)
    m = onnx.load(path)
    for key, value in {"aether.schema_version": "1", "aether.window": str(args.window),
                       "aether.horizon": str(args.horizon),
                       "aether.train_data": "none: TinyTimeMixer with random weights"}.items():
        entry = m.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(m, path)
    write_csv(os.path.join(args.output_dir, "input.csv"), x.tolist())
    write_csv(os.path.join(args.output_dir, "expected.csv"), expected.tolist())
    params = sum(p.numel() for p in model.parameters())
    with open(os.path.join(args.output_dir, "model.json"), "w", encoding="ascii") as f:
        json.dump({"window": args.window, "horizon": args.horizon, "parameters": params}, f)
        f.write("\n")
    print("%s: TinyTimeMixer W=%d H=%d d_model=%d parameters=%d" % (path, args.window,
                                                                  args.horizon, args.d_model,
                                                                  params))
    return 0


if __name__ == "__main__":
    sys.exit(main())
