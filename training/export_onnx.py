#!/usr/bin/python3
"""Exports a train.py checkpoint to the project's ONNX model file, and validates model files.

  export_onnx.py --model model.pt --output ttm-aether.onnx     export, then validate
  export_onnx.py --model a.pt b.pt c.pt --output ttm-aether.onnx
                                                               the mean of several checkpoints
                                                               (seeds) as one model
  export_onnx.py --validate ttm-aether.onnx [--model model.pt] validate an existing file

The file follows DESIGN.md "Model file": opset 17, input `input` float[batch, W, 11], output
`output` float[batch, H, 11], dynamic batch, normalisation inside the graph, and the aether.*
metadata_props. Validation runs the ONNX checker, checks names, shapes, metadata and that every
operator is one the project's engine implements, runs test windows through the project's own
engine (`aether-model run`) and through PyTorch, and prints the largest difference.
Without --model the PyTorch side is rebuilt from the file itself (aether.architecture and the
initializers, which carry the PyTorch parameter names).
"""

import argparse
import os
import subprocess
import sys
import tempfile

import aether_python

aether_python.require("numpy", "torch", "onnx")

import numpy as np  # noqa: E402 (after the interpreter check)

import aether_series as series

OPSET = 17
# Operators the project's inference engine implements (DESIGN.md / the engine's operator list).
ENGINE_OPS = frozenset("""
MatMul Gemm Add Sub Mul Div Pow Sqrt Erf Tanh Sigmoid Relu Gelu Softmax LayerNormalization
ReduceMean ReduceSum Transpose Reshape Flatten Squeeze Unsqueeze Concat Slice Gather Shape Cast
Constant Identity Where Expand Clip Max Min Neg Exp Log Abs Dropout
""".split())
TOLERANCE = 1e-4  # |engine - PyTorch| <= TOLERANCE * max(1, |PyTorch|)
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ValidationError(Exception):
    pass


def _imports(with_torch=True):
    """(onnx, torch or None), or exit with a clear message. Imported late: bad arguments and
    files are reported without waiting for torch to load."""
    try:
        import onnx
        torch = None
        if with_torch:
            import torch
            import aether_model
            aether_model.limit_threads(1)
    except ImportError as e:
        sys.exit(f"export_onnx.py: {e.name} is not importable by {sys.executable}; use "
                 "/usr/bin/python3 with Debian's python3-torch and python3-onnx "
                 "(make -C training setup)")
    return onnx, torch


def metadata(model, info):
    """The aether.* metadata_props, all strings."""
    import aether_model
    cfg = model.config
    props = {
        "aether.schema_version": str(series.SCHEMA_VERSION),
        "aether.window": str(cfg["window"]),
        "aether.horizon": str(cfg["horizon"]),
        "aether.features": ",".join(series.FEATURES),
        "aether.normalization": "per-window",
        "aether.train_seed": str(info.get("seed", "")),
        "aether.train_data": str(info.get("train_data", "")).replace("\n", " "),
        "aether.architecture": aether_model.architecture_json(model),
    }
    if "val_wape" in info:
        props["aether.val_wape"] = f"{info['val_wape']:.6f}"
    if "val_skill" in info:
        props["aether.val_skill"] = f"{info['val_skill']:.6f}"
    return props


def load_members(paths):
    """(model, info) of one checkpoint, or of the ensemble of several (aether_model.Ensemble:
    the mean of their outputs): seeds joined by commas, val_wape and val_skill the members'
    means (the ensemble's own are usually better: the initial confidence errs low). The
    checkpoints must share architecture and training data. Raises ValueError naming the file."""
    import aether_model
    loaded = [aether_model.load_checkpoint(p) for p in paths]
    if len(loaded) == 1:
        return loaded[0]
    models, infos = zip(*loaded)
    for path, info in zip(paths[1:], infos[1:]):
        if info.get("train_data") != infos[0].get("train_data"):
            raise ValueError(f"{path}: trained on {info.get('train_data')!r}, {paths[0]} on "
                             f"{infos[0].get('train_data')!r}: an ensemble's members share data")
    try:
        model = aether_model.Ensemble(list(models))
    except ValueError as e:
        raise ValueError(f"{', '.join(paths)}: {e}") from None
    info = dict(seed=",".join(str(i.get("seed", "")) for i in infos),
                train_data=infos[0].get("train_data", ""))
    for key in ("val_wape", "val_skill"):
        if all(key in i for i in infos):
            info[key] = sum(i[key] for i in infos) / len(infos)
    return model.eval(), info


def export(model, info, output):
    onnx, torch = _imports()
    dummy = torch.zeros(1, model.config["window"], series.N_FEATURES)
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "raw.onnx")
        torch.onnx.export(model, dummy, raw, opset_version=OPSET, input_names=["input"],
                          output_names=["output"], do_constant_folding=True,
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        proto = onnx.load(raw)
    del proto.metadata_props[:]
    for key, value in sorted(metadata(model, info).items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = "Aether TTM forecaster: raw minute features in, raw features out"
    onnx.save(proto, output)


# ---------------------------------------------------------------------------------------------
# Validation


def _dims(value_info):
    return [d.dim_param if d.dim_param else d.dim_value
            for d in value_info.type.tensor_type.shape.dim]


def check_structure(onnx, proto):
    """Checker, names, shapes, opset, operators, metadata. Returns (W, H, metadata dict)."""
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as e:  # checker and shape-inference errors come in several classes
        raise ValidationError(f"ONNX checker: {str(e).strip()}") from None
    print("  ONNX model is valid")
    opset = {o.domain: o.version for o in proto.opset_import}.get("", None)
    if opset is None or not 13 <= opset <= 17:
        raise ValidationError(f"default-domain opset is {opset}, the engine accepts 13..17")
    inputs = [i.name for i in proto.graph.input]
    outputs = [o.name for o in proto.graph.output]
    print(f"  Inputs: {inputs}")
    print(f"  Outputs: {outputs}")
    if inputs != ["input"]:
        raise ValidationError(f"Expected input tensor named 'input', found {inputs}")
    if outputs != ["output"]:
        raise ValidationError(f"Expected output tensor named 'output', found {outputs}")
    meta = {p.key: p.value for p in proto.metadata_props}
    required = ["aether.schema_version", "aether.window", "aether.horizon", "aether.features",
                "aether.normalization", "aether.val_wape", "aether.val_skill",
                "aether.train_seed", "aether.train_data"]
    absent = [k for k in required if k not in meta]
    if absent:
        raise ValidationError(f"metadata_props lack {', '.join(absent)}")
    if meta["aether.schema_version"] != str(series.SCHEMA_VERSION):
        raise ValidationError("Model trained with a different feature schema "
                              f"(aether.schema_version={meta['aether.schema_version']})")
    if meta["aether.features"] != ",".join(series.FEATURES):
        raise ValidationError(f"aether.features is '{meta['aether.features']}', expected "
                              f"'{','.join(series.FEATURES)}'")
    window, horizon = int(meta["aether.window"]), int(meta["aether.horizon"])
    in_dims, out_dims = _dims(proto.graph.input[0]), _dims(proto.graph.output[0])
    if (len(in_dims) != 3 or not isinstance(in_dims[0], str) or in_dims[1:] != [window, 11]):
        raise ValidationError(f"input shape {in_dims}, expected [batch, {window}, 11] with a "
                              "dynamic batch")
    if (len(out_dims) != 3 or not isinstance(out_dims[0], str)
            or out_dims[1:] != [horizon, 11]):
        raise ValidationError(f"output shape {out_dims}, expected [batch, {horizon}, 11] with a "
                              "dynamic batch")
    print(f"  Shapes: input {in_dims}, output {out_dims} (opset {opset}); "
          f"W={window} and H={horizon} match the metadata")
    ops = sorted({n.op_type for n in proto.graph.node})
    foreign = [o for o in ops if o not in ENGINE_OPS]
    if foreign:
        raise ValidationError(f"operators the engine does not implement: {', '.join(foreign)}")
    print(f"  Operators ({len(ops)}), all implemented by the engine: {' '.join(ops)}")
    for key in required:
        print(f"  {key} = {meta[key]}")
    return window, horizon, meta


def model_from_file(onnx, torch, proto, meta):
    """PyTorch model rebuilt from aether.architecture and the file's initializers."""
    import aether_model
    from onnx import numpy_helper
    if "aether.architecture" not in meta:
        raise ValidationError("no aether.architecture in the metadata and no --model given: "
                              "cannot build the PyTorch reference")
    try:
        model = aether_model.from_architecture(meta["aether.architecture"])
    except ValueError as e:
        raise ValidationError(f"aether.architecture: {e}") from None
    inits = {i.name: i for i in proto.graph.initializer}
    # The exporter keeps one of several equal parameters (layer norms no training step moved,
    # say) and names the others as Identity nodes of it.
    for node in proto.graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            inits.setdefault(node.output[0], inits[node.input[0]])
    state = {}
    for name, param in model.state_dict().items():
        if name not in inits:
            raise ValidationError(f"initializer '{name}' not found in the file")
        array = numpy_helper.to_array(inits[name])
        if tuple(array.shape) != tuple(param.shape):
            raise ValidationError(f"initializer '{name}' has shape {array.shape}, expected "
                                  f"{tuple(param.shape)}")
        state[name] = torch.from_numpy(array.copy())
    model.load_state_dict(state)
    model.eval()
    return model


def test_windows(window):
    """Test inputs: the end of a synthetic mixed workload (realistic magnitudes), a short
    history left-padded by the model-input rule, and a random window in 0..1."""
    import generate_synthetic
    ts, values = generate_synthetic.generate("mixed", 3 * window + 60, seed=7)
    full = series.Series(ts, values, "synthetic mixed, seed 7")
    short_n = max(series.half_window(window), 1)
    short = series.Series(ts[:short_n], values[:short_n], "synthetic short history")
    rng = np.random.default_rng(11)
    windows = [("synthetic mixed window", series.model_input(full, window)),
               (f"short history ({short_n} min, left-padded)", series.model_input(short, window)),
               ("random values in 0..1", rng.random((window, 11)).astype(np.float32))]
    return [(name, w) for name, w in windows if w is not None]


def find_engine(explicit):
    """(path, None) or (None, reason)."""
    candidates = [explicit] if explicit else [
        os.environ.get("AETHER_MODEL_BIN"), os.path.join(REPO_ROOT, "build", "bin", "aether-model")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c, None
    looked = ", ".join(c for c in candidates if c)
    return None, f"no aether-model executable at {looked} (build it with `make` at the top level)"


def engine_run(engine, path, x):
    """Output rows [H, 11] of `aether-model run path --input x.csv`."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        for row in x:
            f.write(",".join(f"{v:.9g}" for v in row) + "\n")
        csv_path = f.name
    try:
        proc = subprocess.run([engine, "run", path, "--input", csv_path], capture_output=True,
                              text=True, timeout=60)
    finally:
        os.unlink(csv_path)
    if proc.returncode != 0:
        raise ValidationError(f"aether-model run failed (exit {proc.returncode}): "
                              f"{proc.stderr.strip() or proc.stdout.strip()}")
    try:
        rows = [[float(v) for v in line.split(",")] for line in proc.stdout.splitlines()
                if line.strip()]
        return np.asarray(rows, dtype=np.float64)
    except ValueError:
        raise ValidationError(f"aether-model run printed unreadable output: {proc.stdout[:200]!r}")


def validate(path, model=None, engine=None, require_engine=False):
    """Returns 0 when every check ran and passed, 1 on a failure, 3 when all that ran passed
    but the engine check could not run and --require-engine was given."""
    onnx, _ = _imports(with_torch=False)
    print(f"\nValidating {path}...")
    try:
        try:
            proto = onnx.load(path)
        except FileNotFoundError:
            raise ValidationError("file not found") from None
        except Exception as e:
            raise ValidationError(f"not a readable ONNX file: {e}") from None
        window, horizon, meta = check_structure(onnx, proto)
        _, torch = _imports()
        if model is None:
            model = model_from_file(onnx, torch, proto, meta)
            print("  PyTorch reference rebuilt from the file (aether.architecture + initializers)")
        if (model.config["window"], model.config["horizon"]) != (window, horizon):
            raise ValidationError(f"checkpoint has W={model.config['window']} "
                                  f"H={model.config['horizon']}, the file W={window} H={horizon}")
        windows = test_windows(window)
        with torch.no_grad():
            batch = torch.from_numpy(np.stack([w for _, w in windows]))
            reference = model(batch).numpy().astype(np.float64)
        if not np.all(np.isfinite(reference)):
            raise ValidationError("PyTorch gives non-finite outputs on the test windows")
        print(f"  Test inference (PyTorch): input=[{len(windows)}, {window}, 11] -> "
              f"output={list(reference.shape)}")
        engine, reason = find_engine(engine)
        skipped = None
        if engine is None:
            skipped = reason
            print(f"  Engine inference: SKIPPED: {reason}")
        else:
            worst = 0.0
            for (name, x), ref in zip(windows, reference):
                out = engine_run(engine, path, x)
                if out.shape != (horizon, 11):
                    raise ValidationError(f"aether-model gave output shape {list(out.shape)}, "
                                          f"expected [{horizon}, 11]")
                diff = np.abs(out - ref)
                scaled = float(np.max(diff / np.maximum(1.0, np.abs(ref))))
                worst = max(worst, scaled)
                print(f"  Engine vs PyTorch, {name}: max abs diff {diff.max():.3g} "
                      f"(relative to max(1,|value|): {scaled:.3g})")
                if scaled > TOLERANCE:
                    raise ValidationError(f"engine and PyTorch differ by {scaled:.3g} > "
                                          f"{TOLERANCE:g} on the {name}")
            print(f"  Engine ({os.path.relpath(engine)}) matches PyTorch within {TOLERANCE:g}")
        print(f"  Output shape matches expected dimensions [batch, {horizon}, 11]")
        print(f"  File size: {os.path.getsize(path) / 1024:.1f} KB")
    except ValidationError as e:
        print(f"Validation FAILED: {path}: {e}", file=sys.stderr)
        return 1
    if skipped:
        print("Validation incomplete: every other check passed; the engine inference check was "
              "skipped (see above)")
        return 3 if require_engine else 0
    print("Validation passed!")
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description="Export a train.py checkpoint to ONNX and validate it.")
    p.add_argument("--model", nargs="+",
                   help="checkpoint from train.py; several: export the mean of their outputs")
    p.add_argument("--output", help="ONNX file to write")
    p.add_argument("--validate", metavar="FILE", help="validate an existing ONNX file")
    p.add_argument("--aether-model", metavar="PATH",
                   help="the project's aether-model binary (default: build/bin/aether-model)")
    p.add_argument("--require-engine", action="store_true",
                   help="fail when aether-model is not available instead of skipping that check")
    args = p.parse_args(argv)
    if not args.validate and not (args.model and args.output):
        p.error("give --model M --output F to export, or --validate FILE")
    for path in (args.model or []) + [args.validate]:
        if path and not os.path.isfile(path):
            print(f"export_onnx.py: {path}: file not found", file=sys.stderr)
            return 2
    model = None
    if args.model:
        _imports()
        print(f"Loading model from {', '.join(args.model)}...")
        try:
            model, info = load_members(args.model)
        except ValueError as e:
            print(f"export_onnx.py: {e}", file=sys.stderr)
            return 2
        cfg = model.config
        print(f"  seq_len={cfg['window']}, horizon={cfg['horizon']}, features={cfg['features']}")
    if args.validate:
        return validate(args.validate, model, args.aether_model, args.require_engine)
    print(f"  Input shape: [1, {model.config['window']}, 11]")
    try:
        export(model, info, args.output)
    except OSError as e:
        print(f"export_onnx.py: {args.output}: {e}", file=sys.stderr)
        return 2
    print(f"  Exported to {args.output}")
    return validate(args.output, model, args.aether_model, args.require_engine)


if __name__ == "__main__":
    sys.exit(main())
