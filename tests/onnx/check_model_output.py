#!/usr/bin/python3
"""Runs `aether-model run` on a model and compares its output with expected values.

Either give --model, --input and --expected, or --export SCRIPT --workdir DIR: the script (the
reference mixer exporter, or forecasters.py with --export-arg=--family=NAME) is run with
--output-dir DIR and the --export-arg values, and must write mixer.onnx (or model.onnx),
input.csv and expected.csv there. Every value must agree within --tolerance (absolute, and relative to the
expected magnitude when that is above 1). Exit status 0 when all agree.
"""

import argparse
import os
import subprocess
import sys


def read_rows(text):
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            rows.append([float(v) for v in line.split(",")])
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--model")
    ap.add_argument("--input")
    ap.add_argument("--expected")
    ap.add_argument("--export")
    ap.add_argument("--workdir")
    ap.add_argument("--export-arg", action="append", default=[],
                    help="extra argument for the export script (repeatable)")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--run-arg", action="append", default=[],
                    help="extra argument for aether-model run, e.g. --run-arg=--set=NAME=V")
    args = ap.parse_args()
    if args.export:
        subprocess.run([sys.executable, args.export, "--output-dir", args.workdir]
                       + args.export_arg, check=True)
        args.model = args.workdir + "/mixer.onnx"
        if not os.path.exists(args.model):
            args.model = args.workdir + "/model.onnx"
        args.input = args.workdir + "/input.csv"
        args.expected = args.workdir + "/expected.csv"
    run_args = []
    for a in args.run_arg:  # "--set=NAME=V" becomes "--set", "NAME=V"
        run_args += a.split("=", 1) if a.startswith("--") and "=" in a else [a]
    run = subprocess.run([args.tool, "run", args.model, "--input", args.input] + run_args,
                         capture_output=True, text=True)
    if run.returncode != 0:
        print("aether-model run failed (%d): %s" % (run.returncode, run.stderr.strip()))
        return 1
    got = read_rows(run.stdout)
    with open(args.expected, encoding="ascii") as f:
        want = read_rows(f.read())
    if len(got) != len(want) or any(len(g) != len(w) for g, w in zip(got, want)):
        print("shape differs: got %d rows, expected %d" % (len(got), len(want)))
        return 1
    worst = 0.0
    for r, (g_row, w_row) in enumerate(zip(got, want)):
        for c, (g, w) in enumerate(zip(g_row, w_row)):
            err = abs(g - w) / max(1.0, abs(w))
            worst = max(worst, err)
            if err > args.tolerance:
                print("row %d column %d: got %.9g, expected %.9g" % (r, c, g, w))
                return 1
    print("%s: %d values agree, largest difference %.3g (tolerance %g)"
          % (args.model, sum(len(r) for r in want), worst, args.tolerance))
    return 0


if __name__ == "__main__":
    sys.exit(main())
