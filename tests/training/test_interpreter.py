#!/usr/bin/python3
"""The training scripts with an interpreter that lacks their packages, and `make -C training`
without a target.

An interpreter without numpy is simulated with `/usr/bin/python3 -S` (no site packages): the
script must re-run itself with the project's interpreter and work, or, when that one is not
usable either, stop with one line naming what to run (no traceback). `make -C training` alone
must print the targets and start nothing.

usage: test_interpreter.py TRAINING_DIR"""
import os
import subprocess
import sys
import tempfile

TRAINING = sys.argv[1]
SCRIPT = os.path.join(TRAINING, "generate_synthetic.py")
failures = []


def run(cmd, env_extra=None, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETHER_PYTHON")}
    env.update(env_extra or {})
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, **kw)


with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "s.csv")
    args = [SCRIPT, "--pattern", "steady", "--duration", "1h", "--seed", "1", "--output", out]
    # 1. No numpy here, /usr/bin/python3 has it: re-run there, same result.
    r = run(["/usr/bin/python3", "-S", *args])
    if r.returncode != 0 or not os.path.exists(out):
        failures.append(f"re-run with /usr/bin/python3 failed ({r.returncode}): {r.stderr!r}")
    else:
        with open(out) as f:
            rows = sum(1 for _ in f)
        if rows != 61:
            failures.append(f"the re-run wrote {rows} lines, expected a header and 60 minutes")
    # 2. No usable interpreter anywhere: one line, exit 2, no traceback.
    r = run(["/usr/bin/python3", "-S", *args], {"AETHER_PYTHON": os.path.join(tmp, "nope")})
    lines = r.stderr.strip().splitlines()
    if (r.returncode != 2 or len(lines) != 1 or "Traceback" in r.stderr
            or "generate_synthetic.py: /usr/bin/python3 cannot import numpy; run it with" not in r.stderr):
        failures.append(f"no one-line failure naming the interpreter ({r.returncode}): {r.stderr!r}")
    # 3. A candidate that still lacks the package is not run in a loop.
    fake = os.path.join(tmp, "fakepython")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n")
    os.chmod(fake, 0o755)
    r = run(["/usr/bin/python3", "-S", *args], {"AETHER_PYTHON": fake})
    if r.returncode != 2 or "cannot import numpy" not in r.stderr:
        failures.append(f"a candidate without numpy was not refused ({r.returncode}): {r.stderr!r}")

    # 4. make -C training: the targets, nothing run.
    r = run(["make", "-s", "-C", TRAINING, "OUT=" + os.path.join(tmp, "out")])
    if r.returncode != 0 or "make all" not in r.stdout or "make help" not in r.stdout:
        failures.append(f"make -C training did not print the targets: {r.stdout!r} {r.stderr!r}")
    if os.path.exists(os.path.join(tmp, "out")):
        failures.append("make -C training without a target started the pipeline")
    r2 = run(["make", "-s", "-C", TRAINING, "help"])
    if r2.returncode != 0 or r2.stdout != r.stdout.replace(os.path.join(tmp, "out"), "out"):
        failures.append(f"make -C training help differs from the default: {r2.stdout!r}")

for f in failures:
    print("FAIL:", f)
print("PASS" if not failures else "%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
