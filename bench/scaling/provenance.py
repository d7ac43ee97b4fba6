"""Which model the scaling benchmark evaluates on a trace, and whether that model is zero-shot.

The shipped default model is trained on a corpus that holds the training part of every shared
trace (training/build_corpus.py); its ONNX metadata says so (aether.train_data: "corpus of N
series, M minutes (azure 7, bitbrains 18, nasa 3, synthetic 15)"). On a trace whose family is in
that list the model is "in-corpus": it has seen the trace's training part (and so the validation
slice), never its test part. A leave-one-out model (train.py --exclude FAMILY, file
without-FAMILY.onnx or .pt) has seen nothing of the family: "zero-shot".
"""
import os
import re
import subprocess


def corpus_families(train_data):
    """The families named in an aether.train_data text, or None when it names none."""
    m = re.search(r"\(([^()]*)\)\s*$", train_data or "")
    if not m:
        return None
    names = [part.strip().split(" ")[0] for part in m.group(1).split(",")]
    return {n for n in names if n}


def model_metadata(path):
    """The ONNX file's metadata properties ({} when onnx cannot read it)."""
    try:
        import onnx
        return {p.key: p.value for p in onnx.load(path).metadata_props}
    except Exception:  # noqa: BLE001 (any unreadable file: no provenance, said in the report)
        return {}


def kind_of(family, train_data):
    """'in-corpus', 'zero-shot' or 'unknown' for a model with this aether.train_data."""
    families = corpus_families(train_data)
    if families is None:
        return "unknown"
    return "in-corpus" if family in families else "zero-shot"


def leave_one_out(loo_dir, family, work, python, export):
    """DIR/without-FAMILY.onnx, or DIR/without-FAMILY.pt exported into work; None when neither
    exists. export is the export_onnx.py path."""
    onnx_path = os.path.join(loo_dir, f"without-{family}.onnx")
    if os.path.exists(onnx_path):
        return onnx_path
    pt = os.path.join(loo_dir, f"without-{family}.pt")
    if not os.path.exists(pt):
        return None
    out = os.path.join(work, f"without-{family}.onnx")
    p = subprocess.run([python, export, "--model", pt, "--output", out], capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench-scaling: exporting {pt} failed: {p.stderr.strip()[-800:]}")
    return out


def choose(args, family, work, python, export):
    """(model path, kind, what) for a trace of this family: the leave-one-out model when
    --loo-models holds one, else --model (the shipped default) with its provenance."""
    if args.loo_models:
        loo = leave_one_out(args.loo_models, family, work, python, export)
        if loo:
            return loo, "zero-shot", f"leave-one-out model trained without {family}"
    meta = model_metadata(args.model)
    kind = kind_of(family, meta.get("aether.train_data"))
    what = f"shipped default model ({os.path.basename(args.model)}"
    what += f"; trained on {meta['aether.train_data']})" if meta.get("aether.train_data") else ")"
    return args.model, kind, what
