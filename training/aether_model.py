"""The forecaster: small TSMixer/TTM-style networks with their normalisation inside the graph.

Raw minute values in ([batch, W, 11]), raw values out ([batch, H, 11]), so the exported ONNX file
needs no side information and one model serves workloads of any magnitude.

AetherTSMixer (the default model):
  1. per-window scaling (as TTM does): each window is centred on its own per-feature mean and
     divided by its own per-feature scale sqrt(var + (REL * mean)^2 + EPS); ratio features
     named in `levels` (cpu_usage) are also given unscaled, because how close a service is to
     saturation changes how it behaves next;
  2. L TSMixer blocks: an MLP over time (W -> hidden -> W) applied to every feature's series with
     shared weights, then an MLP over the features at every minute, both with residuals;
  3. a temporal head W -> H giving, per feature, the change from a simple baseline (the mean of
     the last base_k minutes; base_k = 1 is the last minute) in units of that feature's recent
     minute-to-minute movement (local_scale): out = baseline + local * delta. delta = 0 is the
     baseline, which is where training starts.
AetherMixer is the spec's reference mixer (DESIGN.md section 5) with the same normalisation and
a change relative to the window scale; train.py --arch mixer builds it.

Every weight is used as stored (x @ W + b with W kept [in, out]), so the exported initializers
carry the state_dict names; export_onnx.py --validate uses that to rebuild the PyTorch model from
an ONNX file alone, from the architecture recorded in its metadata.
"""

import ctypes
import json

import torch
from torch import nn

import aether_series as series

SCALE_REL = 0.02  # scale floor relative to the window mean (near-constant features)
SCALE_EPS = 1e-8  # absolute variance floor (features that are all zero)


class Dense(nn.Module):
    """x @ weight + bias with weight stored [in, out] (exports as MatMul + Add)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        bound = 1.0 / n_in ** 0.5
        self.weight = nn.Parameter(torch.empty(n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_out).uniform_(-bound, bound))

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


class MixerBlock(nn.Module):
    def __init__(self, window, d_model, expansion, dropout):
        super().__init__()
        self.time_norm = nn.LayerNorm(d_model)
        self.time_in = Dense(window, window)
        self.time_out = Dense(window, window)
        self.chan_norm = nn.LayerNorm(d_model)
        self.chan_in = Dense(d_model, d_model * expansion)
        self.chan_out = Dense(d_model * expansion, d_model)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, h):  # [B, W, d]
        t = self.time_norm(h).transpose(1, 2)  # [B, d, W]
        t = self.time_out(self.drop(self.act(self.time_in(t))))
        h = h + self.drop(t.transpose(1, 2))
        c = self.chan_out(self.drop(self.act(self.chan_in(self.chan_norm(h)))))
        return h + self.drop(c)


def window_stats(x):
    """Per-window, per-feature mean and scale of x [B, W, C]: both [B, 1, C]."""
    mean = x.mean(dim=1, keepdim=True)
    centred = x - mean
    var = (centred * centred).mean(dim=1, keepdim=True)
    scale = torch.sqrt(var + (SCALE_REL * SCALE_REL) * (mean * mean) + SCALE_EPS)
    return mean, scale


LOCAL_DIFFS = 15  # minutes of recent change that set the output scale ("local" step)


def local_scale(x, window):
    """How much each feature moves from minute to minute lately: the RMS of the last
    LOCAL_DIFFS one-minute changes, floored at SCALE_REL of the last value. [B, 1, C].
    window is x.shape[1] as a Python int (so the export traces constant slices)."""
    last = x[:, -1:, :]
    k = min(LOCAL_DIFFS, window - 1)
    floor = (SCALE_REL * SCALE_REL) * (last * last) + SCALE_EPS
    if k < 1:
        return torch.sqrt(floor)
    recent = x[:, -k - 1:, :]
    diff = recent[:, 1:, :] - recent[:, :-1, :]
    return torch.sqrt((diff * diff).mean(dim=1, keepdim=True) + floor)


class AetherMixer(nn.Module):
    def __init__(self, window=60, horizon=1, features=series.N_FEATURES, d_model=64,
                 layers=3, expansion=4, dropout=0.1):
        super().__init__()
        self.config = dict(window=window, horizon=horizon, features=features, d_model=d_model,
                           layers=layers, expansion=expansion, dropout=dropout)
        self.proj_in = Dense(features, d_model)
        self.blocks = nn.ModuleList(
            [MixerBlock(window, d_model, expansion, dropout) for _ in range(layers)])
        self.norm = nn.LayerNorm(d_model)
        self.proj_out = Dense(d_model, features)
        self.head = Dense(window, horizon)
        # Start from persistence: the head's output (the change from the last minute) is 0.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):  # x [B, W, C] raw values
        mean, scale = window_stats(x)
        z = (x - mean) / scale
        h = self.proj_in(z)
        for block in self.blocks:
            h = block(h)
        h = self.proj_out(self.norm(h))  # [B, W, C]
        delta = self.head(h.transpose(1, 2)).transpose(1, 2)  # [B, H, C]
        z_last = z[:, -1:, :]
        return mean + scale * (z_last + delta)

    def error_scale(self, x):
        """The unit in which the output moves away from the last minute (the training loss
        measures errors in it)."""
        return window_stats(x)[1]


class TimeFeatureBlock(nn.Module):
    """TSMixer block: an MLP over time applied to each feature's series (weights shared by the
    features), then an MLP over the features applied at each minute; both with residuals."""

    def __init__(self, window, features, time_hidden, feature_hidden, dropout):
        super().__init__()
        self.time_norm = nn.LayerNorm(window)
        self.time_in = Dense(window, time_hidden)
        self.time_out = Dense(time_hidden, window)
        self.feat_norm = nn.LayerNorm(features)
        self.feat_in = Dense(features, feature_hidden)
        self.feat_out = Dense(feature_hidden, features)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, t):  # [B, C, W]
        t = t + self.drop(self.time_out(self.drop(self.act(self.time_in(self.time_norm(t))))))
        f = t.transpose(1, 2)  # [B, W, C]
        f = f + self.drop(self.feat_out(self.drop(self.act(self.feat_in(self.feat_norm(f))))))
        return f.transpose(1, 2)


def simple_forecasts(x, horizon, window, names):
    """[B, C, H, J]: the simple forecasts `names` (of SIMPLE_FORECASTS) of every feature of x
    [B, W, C] at steps 1..H. window is x.shape[1] as a Python int (constant slices in the
    export)."""
    last = x[:, -1, :]
    level = last[:, :, None]
    steps = torch.arange(1, horizon + 1, dtype=x.dtype)
    zeros = torch.zeros(horizon, dtype=x.dtype)  # broadcasts [B, C, 1] to [B, C, H] (an Add)

    def mean_of(k):
        return x[:, -min(k, window):, :].mean(dim=1)[:, :, None] + zeros

    def drift(k, most):  # the mean change of the last k minutes, continued for most steps
        k = min(k, window - 1)
        if k < 1:
            return level + zeros
        change = ((last - x[:, -1 - k, :]) / k)[:, :, None]
        return level + change * (torch.clamp(steps, max=float(most)) if most else steps)

    def ewm(alpha):  # weights alpha (1 - alpha)^age over the window, normalised to sum 1
        age = torch.arange(window - 1, -1, -1, dtype=x.dtype)
        w = (1.0 - alpha) ** age
        w = (w / w.sum())[None, :, None]
        return (x * w).sum(dim=1)[:, :, None] + zeros

    make = {"last": lambda: level + zeros, "mean3": lambda: mean_of(3),
            "mean10": lambda: mean_of(10), "meanW": lambda: mean_of(window),
            "drift1x2": lambda: drift(1, 2), "drift1": lambda: drift(1, 0),
            "drift5": lambda: drift(5, 0), "ewm0.3": lambda: ewm(0.3),
            "ewm0.5": lambda: ewm(0.5)}
    return torch.stack([make[n]() for n in names], dim=3)


SIMPLE_FORECASTS = series.SIMPLE_FORECASTS


def roughness(x):
    """[B, C, 1]: per feature of x [B, W, C], sqrt(mean second difference^2 / mean first
    difference^2) over the window: about 1.7 for white noise, 1.4 for a random walk, near 0 for
    a smooth or piecewise-linear series. Scale-free, so the gate sees how noisy a series is
    whatever its level."""
    d1 = x[:, 1:, :] - x[:, :-1, :]
    d2 = d1[:, 1:, :] - d1[:, :-1, :]
    ratio = ((d2 * d2).mean(dim=1) + SCALE_EPS) / ((d1 * d1).mean(dim=1) + SCALE_EPS)
    return torch.sqrt(ratio)[:, :, None]


GATE_STATS = 3  # how many level statistics gate_stats gives each feature


def gate_stats(x, window):
    """[B, C, GATE_STATS]: per feature of x [B, W, C], scale-free numbers that say whether the
    recent level has moved and how much of the window's spread is noise (what separates a noisy
    level that moves, where a short mean wins, from a trend or a calm series):
      tanh(|mean3 - meanW| / local), tanh(|mean3 - mean10| / local), with local the recent
      minute-to-minute movement (local_scale): how far the short level is from the longer ones
      in units of the noise;
      1 - mean first difference^2 / (2 x variance): the window's lag-1 autocorrelation, about 0
      for white noise around a level, near 1 for a smooth or trending series."""
    local = local_scale(x, window)[:, 0, :]
    mean3 = x[:, -min(3, window):, :].mean(dim=1)
    mean10 = x[:, -min(10, window):, :].mean(dim=1)
    mean_w, _ = window_stats(x)
    centred = x - mean_w
    var = (centred * centred).mean(dim=1)
    d1 = x[:, 1:, :] - x[:, :-1, :]
    rho = 1.0 - ((d1 * d1).mean(dim=1) + SCALE_EPS) / (2.0 * var + 2.0 * SCALE_EPS)
    far = torch.tanh(torch.abs(mean3 - mean_w[:, 0, :]) / local)
    near = torch.tanh(torch.abs(mean3 - mean10) / local)
    return torch.stack([far, near, rho], dim=2)


def backtest_errors(x, window, horizon, names, origins):
    """[B, C, J]: per feature of x [B, W, C], how each simple forecast `names` did inside the
    window: from each of the last `origins` origins (the window cut s = 1..origins minutes
    short; origins at most window - 3), its forecast of the s minutes after the cut (at most
    horizon) against what came, mean absolute error over all those (origin, step) pairs,
    divided by the mean of that error over the J forecasts (1 = average, below 1 = better than
    the others on this series). What `auto` does in the core between forecasters, as a number
    the gate can read."""
    total, count = 0.0, 0
    for s in range(1, origins + 1):
        steps = min(s, horizon)
        past = x[:, :window - s, :]
        forecast = simple_forecasts(past, steps, window - s, names)  # [B, C, steps, J]
        actual = x[:, window - s:window - s + steps, :].transpose(1, 2)[:, :, :, None]
        total = total + torch.abs(forecast - actual).sum(dim=2)  # [B, C, J]
        count += steps
    error = total / count
    return error / (error.mean(dim=2, keepdim=True) + SCALE_EPS)


class AetherTSMixer(nn.Module):
    """levels: features that are ratios in 0..1 (train.py gives cpu_usage) and are also given to the
    network unnormalised, as extra channels: how close a service is to saturation changes how
    it behaves next (queueing), and the per-window scaling hides that."""

    def __init__(self, window=60, horizon=1, features=series.N_FEATURES, time_hidden=128,
                 feature_hidden=32, layers=2, dropout=0.1, levels=(), base_k=1,
                 mixture=(), residual=True, gate_stats=False, gate_backtest=0):
        super().__init__()
        levels, mixture = list(levels), list(mixture)
        unknown = [n for n in mixture if n not in SIMPLE_FORECASTS]
        if unknown:
            raise ValueError(f"unknown simple forecast(s) {', '.join(unknown)}")
        if not 1 <= base_k <= window:
            raise ValueError(f"base_k {base_k}: must be in 1..window ({window})")
        if not 0 <= gate_backtest <= window - 3:  # the longest cut leaves 3 minutes before it
            raise ValueError(f"gate_backtest {gate_backtest}: must be in 0..window - 3 "
                             f"({window - 3})")
        self.config = dict(window=window, horizon=horizon, features=features,
                           time_hidden=time_hidden, feature_hidden=feature_hidden,
                           layers=layers, dropout=dropout, levels=levels, base_k=base_k,
                           mixture=mixture, residual=residual, gate_stats=gate_stats,
                           gate_backtest=gate_backtest)
        self.levels = levels
        channels = features + len(levels)
        self.blocks = nn.ModuleList(
            [TimeFeatureBlock(window, channels, time_hidden, feature_hidden, dropout)
             for _ in range(layers)])
        if residual or not mixture:  # the change from the baseline (unused by a plain mixture)
            self.head = Dense(window, horizon)
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        if mixture:  # per feature and step, the weights of the simple forecasts (uniform at 0)
            # one per simple forecast (stacked, not reshaped, so the export keeps static shapes)
            gate_width = (window + 1 + (GATE_STATS if gate_stats else 0)
                          + (len(mixture) if gate_backtest else 0))
            self.gates = nn.ModuleList([Dense(gate_width, horizon) for _ in mixture])
            for gate in self.gates:
                nn.init.zeros_(gate.weight)
                nn.init.zeros_(gate.bias)

    def forward(self, x):  # x [B, W, C] raw values
        mean, scale = window_stats(x)
        z = (x - mean) / scale
        features = self.config["features"]
        if self.config["mixture"]:
            return self.mixture_forward(x, z, features)
        inputs = [z] + [x[:, :, f:f + 1] for f in self.levels]
        t = torch.cat(inputs, dim=2).transpose(1, 2) if self.levels else z.transpose(1, 2)
        for block in self.blocks:
            t = block(t)  # [B, C + levels, W]
        delta = self.head(t).transpose(1, 2)[:, :, :features]  # [B, H, C]
        k = self.config["base_k"]
        base = x[:, -1:, :] if k == 1 else x[:, -k:, :].mean(dim=1, keepdim=True)
        return base + local_scale(x, self.config["window"]) * delta

    def mixture_hidden(self, x, z, features):
        """[B, C, W + 1 (+ GATE_STATS) (+ J)]: per feature, the blocks' output, the window's
        roughness, with gate_stats the level statistics of gate_stats() and with gate_backtest
        (a number of origins) the J simple forecasts' in-window errors of backtest_errors()
        (what the gates read; evaluate_upper.py's upper head reads it too)."""
        inputs = [z] + [x[:, :, f:f + 1] for f in self.levels]
        t = torch.cat(inputs, dim=2).transpose(1, 2) if self.levels else z.transpose(1, 2)
        for block in self.blocks:
            t = block(t)
        parts = [t[:, :features, :], roughness(x)]
        if self.config.get("gate_stats"):
            parts.append(gate_stats(x, self.config["window"]))
        if self.config.get("gate_backtest"):
            parts.append(backtest_errors(x, self.config["window"], self.config["horizon"],
                                         self.config["mixture"], self.config["gate_backtest"]))
        return torch.cat(parts, dim=2)

    def gate_input(self, x):
        """mixture_hidden of raw windows x [B, W, C] (a mixture model only)."""
        mean, scale = window_stats(x)
        return self.mixture_hidden(x, (x - mean) / scale, self.config["features"])

    def gate_weights(self, gate_in):
        """[B, C, H, J]: the softmax weights of the J simple forecasts, from mixture_hidden."""
        logits = torch.stack([gate(gate_in) for gate in self.gates], dim=3)
        return torch.softmax(logits, dim=3)

    def mixture_forward(self, x, z, features):
        """out = the gated mean of the simple forecasts (+ local x delta with residual)."""
        window, horizon = self.config["window"], self.config["horizon"]
        gate_in = self.mixture_hidden(x, z, features)  # [B, C, W + 1 (+ GATE_STATS)]
        t = gate_in[:, :, :window]
        names = self.config["mixture"]
        weights = self.gate_weights(gate_in)
        out = (weights * simple_forecasts(x, horizon, window, names)).sum(dim=3)  # [B, C, H]
        if self.config["residual"]:
            out = out + local_scale(x, window).transpose(1, 2) * self.head(t)
        return out.transpose(1, 2)

    def error_scale(self, x):
        return local_scale(x, self.config["window"])


ARCHITECTURES = {"AetherMixer": AetherMixer, "AetherTSMixer": AetherTSMixer}


class Ensemble(nn.Module):
    """The mean of the outputs of several trained models of one architecture, trained with
    different seeds (export_onnx.py --model a.pt b.pt ...): the seed moves a single model's
    error on a left-out trace by more than the recipes differ (docs/model.md), and the mean
    cancels part of that. config is the members' config with members = their count."""

    def __init__(self, members):
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        first = architecture_json(members[0])
        if any(architecture_json(m) != first for m in members[1:]):
            raise ValueError("ensemble members differ in architecture")
        self.members = nn.ModuleList(members)
        self.config = dict(members[0].config, members=len(members))

    def forward(self, x):
        out = self.members[0](x)
        for m in self.members[1:]:
            out = out + m(x)
        return out / len(self.members)

    def gate_input(self, x):
        """The members' gate inputs side by side (what evaluate_upper.py's head reads)."""
        return torch.cat([m.gate_input(x) for m in self.members], dim=-1)


def limit_threads(n):
    """Runs torch on n threads. Debian's torch calls the system BLAS (OpenBLAS), whose own
    thread pool torch.set_num_threads does not reach; on a busy machine its spinning threads
    made training twice as slow, so it is set too."""
    torch.set_num_threads(n)
    try:
        ctypes.CDLL("libblas.so.3").openblas_set_num_threads(n)
    except (OSError, AttributeError):
        pass  # not OpenBLAS: nothing to set


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def architecture_json(model):
    """The constructor arguments, as recorded in the ONNX metadata (aether.architecture); an
    ensemble's are its members' plus members = their count."""
    name = type(model.members[0] if isinstance(model, Ensemble) else model).__name__
    return json.dumps(dict(model.config, name=name), sort_keys=True)


def from_architecture(text):
    """Builds an untrained model from architecture_json() text. Raises ValueError."""
    try:
        cfg = json.loads(text)
        name = cfg.pop("name", None)
        members = cfg.pop("members", None)
        if name not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {name!r}")
        if members is None:
            return ARCHITECTURES[name](**cfg)
        if not isinstance(members, int) or not 1 <= members <= 16:
            raise ValueError(f"members = {members!r}: 1..16 expected")
        return Ensemble([ARCHITECTURES[name](**cfg) for _ in range(members)])
    except (TypeError, AttributeError, json.JSONDecodeError) as e:
        raise ValueError(f"unreadable architecture {text!r}: {e}") from None


def save_checkpoint(path, model, info):
    """info: dict of training facts (seed, data description, validation metrics)."""
    torch.save({"name": type(model).__name__, "config": model.config, "state_dict": model.state_dict(), "info": info}, path)


def load_checkpoint(path):
    """(model in eval mode, info). Raises ValueError with the file name on a bad file."""
    try:
        ckpt = torch.load(path, map_location="cpu")
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except Exception as e:  # torch raises many kinds for a file that is not a checkpoint
        raise ValueError(f"{path}: not a checkpoint written by train.py ({e})") from None
    if not isinstance(ckpt, dict) or "config" not in ckpt or "state_dict" not in ckpt:
        raise ValueError(f"{path}: not a checkpoint written by train.py (no config/state_dict)")
    arch = ARCHITECTURES.get(ckpt.get("name", "AetherMixer"))
    if arch is None:
        raise ValueError(f"{path}: unknown architecture {ckpt.get('name')!r}")
    model = arch(**ckpt["config"])
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise ValueError(f"{path}: weights do not match the recorded architecture: {e}") from None
    model.eval()
    return model, ckpt.get("info", {})
