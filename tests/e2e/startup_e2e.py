#!/usr/bin/env python3
"""End-to-end tests of how aether-node starts: the command line (no arguments, --version,
--check-config warnings) and the data directory (not a directory, not writable, held by another
node), and `import-history` backfilling the history so the forecaster starts at once. One case
per run:

  startup_e2e.py --case NAME --node BIN --source REPO"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

from e2e_lib import Node, check, run_case

ARGS = None


def run_once(node, *args, timeout=10):
    """Runs the binary in the node's directory with args; returns (exit code, stdout + stderr)."""
    node.write_config()
    p = subprocess.run([node.binary, *args], cwd=node.dir, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def case_version():
    rc, out = run_once(Node(ARGS.node), "--version")
    check(rc == 0, "--version exits %d: %s" % (rc, out))
    check(re.match(r"aether-node \d+\.\d+\.\d+ \(commit [0-9a-z-]+, feature schema v\d+, ", out),
          "--version names version and commit: %r" % out)


def case_default_config():
    """With no arguments the node runs with aether.toml of its working directory."""
    node = Node(ARGS.node)
    node.write_config()
    log = open(node.log_path, "ab")
    node.proc = subprocess.Popen([node.binary], cwd=node.dir, stdout=log,
                                 stderr=subprocess.STDOUT)
    log.close()
    node.wait_for(lambda: node.try_get("/api/ttm/status") is not None, 10,
                  "the node started without arguments to answer on port %d" % node.port)
    node.stop()


def case_data_dir_locked():
    first = Node(ARGS.node).start()
    second = Node(ARGS.node)
    second.sections["node"]["data_dir"] = first.sections["node"]["data_dir"]
    rc, out = run_once(second, "--config", os.path.join(second.dir, "aether.toml"))
    check(rc == 1, "a second node on the same data_dir exits 1, not %d: %s" % (rc, out))
    want = 'node.data_dir = "%s" is in use by another aether-node (pid %d' % (
        first.sections["node"]["data_dir"], first.proc.pid)
    check(want in out, "the refusal names the key and the holder (%r): %s" % (want, out))
    first.stop()
    second.start()  # the lock goes with the first node
    second.stop()


def case_data_dir_unusable():
    node = Node(ARGS.node)
    plain = os.path.join(node.dir, "plain")
    open(plain, "w").close()
    node.sections["node"]["data_dir"] = plain
    rc, out = run_once(node, "--config", os.path.join(node.dir, "aether.toml"))
    check(rc == 1 and 'node.data_dir = "%s" is not a directory' % plain in out,
          "a file as data_dir is refused by name (%d): %s" % (rc, out))
    if os.geteuid() == 0:
        print("note: running as root, which may write anywhere: the read-only data_dir check is"
              " not exercised")
        return
    ro = os.path.join(node.dir, "ro")
    os.mkdir(ro, 0o555)
    node.sections["node"]["data_dir"] = ro
    rc, out = run_once(node, "--config", os.path.join(node.dir, "aether.toml"))
    check(rc == 1 and 'node.data_dir = "%s" is not writable by this process: Permission denied'
          % ro in out, "a read-only data_dir is refused with the reason (%d): %s" % (rc, out))


def case_check_config_model_missing():
    node = Node(ARGS.node, sections={"ttm": {"enabled": True, "model_path": "absent.onnx"}})
    rc, out = run_once(node, "--check-config", "aether.toml")
    check(rc == 0, "a missing model leaves the file valid (exit 0, not %d): %s" % (rc, out))
    check(re.search(r'# warning: aether\.toml:\d+: ttm\.model_path = "absent\.onnx" cannot be'
                    r' read: No such file or directory', out),
          "--check-config warns about the missing model by key and line: %s" % out)
    node.sections["ttm"]["enabled"] = False
    rc, out = run_once(node, "--check-config", "aether.toml")
    check(rc == 0 and "warning" not in out, "no warning with TTM disabled: %s" % out)


def history_csv(path, minutes, start_ms=1767571200000, broken_line=None, bad_cell="lots",
                invocations=None):
    """A training-data CSV of `minutes` rows (the tdata format), optionally with a bad cell;
    invocations(i) gives row i's invocations (default: a small ripple around 6000)."""
    names = ["cpu_usage", "heap_usage", "event_loop_lag_ms", "latency_ms", "invocations",
             "gc_pause_ms", "latency_p50", "latency_p95", "latency_p99", "error_rate",
             "event_count"]
    with open(path, "w") as f:
        f.write("timestamp," + ",".join(names) + "\n")
        for i in range(minutes):
            inv = invocations(i) if invocations else 6000 + 50 * (i % 11)
            row = [0.3 + 0.1 * (i % 7) / 7, 0.4, 1.0, 12, inv, 0, 10, 20, 30, 0.001, 6000]
            cells = ["%g" % v for v in row]
            if broken_line == i + 2:
                cells[4] = bad_cell
            f.write("%d,%s\n" % (start_ms + i * 60000, ",".join(cells)))


def wait_first_forecast(node, what):
    """/api/ttm/status once it has a forecast (within 15 s of start)."""
    def forecast():
        body = node.try_get("/api/ttm/status")
        status = json.loads(body) if body else {}
        return status if status.get("hasForecast") else None
    return node.wait_for(forecast, 15, what)


def case_import_history():
    node = Node(ARGS.node, sections={"ttm": {
        "enabled": True, "model_path": os.path.join(ARGS.source, "models", "ttm-aether.onnx"),
        "input_window_minutes": 30, "prediction_horizon": 5}})
    config = os.path.join(node.dir, "aether.toml")
    csv_path = os.path.join(node.dir, "day.csv")
    # Errors name the file and line, the blueprint, the range.
    history_csv(csv_path, 90, broken_line=40)
    rc, out = run_once(node, "import-history", csv_path, "--config", config)
    check(rc == 1 and "day.csv:40" in out, "a bad cell is reported by line (%d): %s" % (rc, out))
    history_csv(csv_path, 90, broken_line=12, bad_cell="1.7e308")
    rc, out = run_once(node, "import-history", csv_path, "--config", config)
    check(rc == 1 and "day.csv:12: invocations = 1.7e+308 is outside its plausible range" in out,
          "an implausible value is refused by line (%d): %s" % (rc, out))
    history_csv(csv_path, 90)
    rc, out = run_once(node, "import-history", csv_path, "--config", config, "--blueprint", "db")
    check(rc == 1 and "--blueprint db: no blueprint" in out, "unknown blueprint (%d): %s" % (rc, out))
    rc, out = run_once(node, "import-history", csv_path, "--config", config, "--instances", "9")
    check(rc == 1 and "--instances 9 is out of range 1..4" in out, "instances range: %s" % out)
    # As exported (minutes of January 2026): imported, with the note that it is too old.
    rc, out = run_once(node, "import-history", csv_path, "--config", config)
    check(rc == 0 and "imported 90 minutes of blueprint web" in out and "note:" in out,
          "old history imported with a note (%d): %s" % (rc, out))
    # Moved up to now: the forecaster has its window on the first evaluation.
    rc, out = run_once(node, "import-history", csv_path, "--config", config, "--shift-to-now",
                       "--instances", "2")
    check(rc == 0 and "note:" not in out, "shifted import (%d): %s" % (rc, out))
    node.start()
    try:
        status = wait_first_forecast(node, "a forecast right after start")
        check(status["state"] == "RUNNING", "TTM running: %s" % status["state"])
        # The running node holds the history: a second import is refused by the lock.
        rc, out = run_once(node, "import-history", csv_path, "--config", config)
        check(rc == 1 and "is in use by another aether-node" in out,
              "import while the node runs (%d): %s" % (rc, out))
        exported = node.try_get("/api/ttm/training-data")
    finally:
        node.stop()
    import_json_export(exported)


def import_json_export(exported):
    """The JSON that /api/ttm/training-data exported goes back in through import-history, into
    another node's empty history; broken JSON is refused naming the line or the field."""
    exported = exported.decode()
    rows = json.loads(exported)["rows"]
    check(len(rows) >= 90, "the export holds the imported day: %d rows" % len(rows))
    other = Node(ARGS.node)
    config = os.path.join(other.dir, "aether.toml")
    path = os.path.join(other.dir, "export.json")
    with open(path, "w") as f:
        f.write(exported)
    rc, out = run_once(other, "import-history", path, "--config", config)
    check(rc == 0 and "imported %d minutes of blueprint web" % len(rows) in out,
          "JSON export imported (%d): %s" % (rc, out))
    doc = json.loads(exported)
    doc["rows"][1]["values"][4] = "lots"
    for text, needle in [(json.dumps(doc), 'rows[1].values[4] (invocations) is "lots"'),
                         (exported[:-40], "export.json:1:"),
                         (json.dumps({"schemaVersion": 2, "rows": []}), "schemaVersion is 2"),
                         (json.dumps({"rows": [{"values": [0] * 11}]}),
                          "rows[0].timestamp is (missing)")]:
        with open(path, "w") as f:
            f.write(text)
        rc, out = run_once(other, "import-history", path, "--config", config)
        check(rc == 1 and needle in out, "refused naming %r (%d): %s" % (needle, rc, out))


def case_forecaster_preload():
    """The node feeds its stored days to the fitted forecasters at start: with three imported
    days that each hold a half-hour surge starting two minutes after the newest stored minute's
    time of day, Holt-Winters fitted on them forecasts the surge in the first evaluation (a
    forecaster that knew only the last minutes, or the aggregator's window, would say 6,000)."""
    node = Node(ARGS.node, sections={"ttm": {
        "enabled": True, "model_path": os.path.join(ARGS.source, "models", "ttm-aether.onnx"),
        "input_window_minutes": 30, "prediction_horizon": 5, "forecaster": "holt-winters"}})
    config = os.path.join(node.dir, "aether.toml")
    csv_path = os.path.join(node.dir, "days.csv")
    minutes = 3 * 1440
    last = int(time.time() // 60) - 1  # the newest closed minute (absolute)
    first = last - minutes + 1
    surge = (last + 2) % 1440  # the surge starts at this minute of every day

    def invocations(i):
        return 12000 if (first + i - surge) % 1440 < 30 else 6000
    history_csv(csv_path, minutes, start_ms=first * 60000, invocations=invocations)
    rc, out = run_once(node, "import-history", csv_path, "--config", config)
    check(rc == 0 and "imported %d minutes of blueprint web" % minutes in out,
          "three days imported (%d): %s" % (rc, out))
    node.start()
    try:
        status = wait_first_forecast(node, "a forecast in the first evaluation")
        log = node.log()
        check(re.search(r"blueprint web: %d stored minutes for the holt-winters forecaster"
                        % minutes, log), "the stored days are preloaded: %s" % log[-2000:])
        b = status["blueprints"][0]
        check(b["forecaster"] == "holt-winters", "Holt-Winters drives: %s" % b["forecaster"])
        inv = [p["invocations"] for p in b["lastForecast"]["predictions"]]
        check(max(inv) > 10000,
              "the first forecast has the daily surge of the stored days (12,000 from the "
              "surge's minute; the newest minutes say 6,000): %s" % inv)
    finally:
        node.stop()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--case", required=True)
    p.add_argument("--node", required=True)
    p.add_argument("--source", required=True)
    ARGS = p.parse_args()
    return run_case(ARGS.case, globals())


if __name__ == "__main__":
    sys.exit(main())
