"""Finds the interpreter that has the training pipeline's packages (standard library only).

Every script of training/ calls require() before its first third-party import. When the running
interpreter lacks a package (a python3 from pyenv, conda or a venv first on PATH, without
Debian's python3-numpy, python3-torch, python3-onnx), the script is run again, same arguments,
with the project's interpreter: $AETHER_PYTHON, else /usr/bin/python3, when that one has them.
Otherwise it stops with one line naming the interpreter to use instead of an import traceback.
"""
import importlib.util
import os
import subprocess
import sys

DEFAULT_PYTHON = "/usr/bin/python3"
# Set in the environment of the re-run, so that a candidate that still fails cannot loop.
RERUN_MARK = "AETHER_PYTHON_RERUN"
DEBIAN_PACKAGES = {"numpy": "python3-numpy", "torch": "python3-torch", "onnx": "python3-onnx",
                   "pandas": "python3-pandas"}


def missing(modules):
    """The modules of `modules` this interpreter cannot import."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def _has_modules(python, modules):
    probe = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None " \
            "for m in sys.argv[1:]))"
    try:
        return subprocess.run([python, "-c", probe, *modules], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def require(*modules):
    """Returns when every module is importable here; else re-runs the script with the project's
    interpreter (never returns), or exits 2 with one line saying what to run."""
    lacking = missing(modules)
    if not lacking:
        return
    script = os.path.basename(sys.argv[0]) or "training"
    python = os.environ.get("AETHER_PYTHON") or DEFAULT_PYTHON
    if not os.environ.get(RERUN_MARK) and _has_modules(python, modules):
        sys.stdout.flush()
        sys.stderr.flush()
        env = dict(os.environ, **{RERUN_MARK: "1"})
        os.execve(python, [python, sys.argv[0], *sys.argv[1:]], env)
    packages = " ".join(DEBIAN_PACKAGES.get(m, m) for m in lacking)
    sys.stderr.write(f"{script}: {sys.executable} cannot import {', '.join(lacking)}; run it with "
                     f"{python} after scripts/install-deps (Debian's {packages}), or set "
                     f"AETHER_PYTHON to an interpreter that has them\n")
    sys.exit(2)
