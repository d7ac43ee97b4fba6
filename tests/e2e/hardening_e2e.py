#!/usr/bin/env python3
"""End-to-end probes of who may steer the node, how it holds up against abusive clients and how
it recovers: the real daemon on loopback, raw sockets as clients. One case per run:

  hardening_e2e.py --case NAME --node BIN [--models DIR]

Clients that misbehave connect from 127.0.0.1 and 127.0.0.3.. (every 127/8 address is loopback on
Linux); the well-behaved client that must keep being served connects from 127.0.0.2."""
import argparse
import os
import re
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import time

from e2e_lib import Node, check, insert_minutes, minute_now, run_case, steady_history

ARGS = None
SKIP = 77
GOOD_CLIENT = "127.0.0.2"


def raw_get(port, path, source=GOOD_CLIENT, timeout=3.0):
    """One GET over a fresh connection from `source`; returns (status, body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=(source, 0)) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n", 1)[0].split()
    return (int(head[1]) if len(head) > 1 else 0), data


def served_quickly(node, what, limit_s=2.0):
    """The good client gets /api/ttm/status within limit_s."""
    t0 = time.time()
    code, _ = raw_get(node.port, "/api/ttm/status", timeout=limit_s)
    took = time.time() - t0
    check(code == 200 and took < limit_s, "%s: status %d after %.2f s" % (what, code, took))


def attacker_address(i):
    return "127.0.0.%d" % (3 + i)


def open_sockets(port, count, per_address):
    """count connections, per_address from each of 127.0.0.3, .4, ...; refused ones skipped."""
    socks = []
    for i in range(count):
        s = socket.socket()
        s.settimeout(2)
        s.bind((attacker_address(i // per_address), 0))
        try:
            s.connect(("127.0.0.1", port))
            socks.append(s)
        except OSError:
            s.close()
    return socks


def closed_by_server(s):
    """1 when the server has closed (or reset) s."""
    s.setblocking(False)
    try:
        return 1 if s.recv(4096) == b"" else 0
    except BlockingIOError:
        return 0
    except OSError:
        return 1


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def case_token_generated():
    """No api.token written: the node makes one (0600, in data_dir), says where, requires it,
    and reads the same one back on the next start."""
    n = Node(ARGS.node).start()
    path = os.path.join(n.sections["node"]["data_dir"], "api-token")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    check(mode == 0o600, "token file mode %o" % mode)
    token = n.token()
    check(len(token) == 64, "a 64-digit token: %r" % token)
    check(path in n.log(), "the log names the token file")
    code, _ = n.post("/api/metrics/web", {"values": {"cpu_usage": 0.5}}, token="")
    check(code == 401, "push without the token: %d" % code)
    code, _ = n.post("/api/metrics/web", {"values": {"cpu_usage": 0.5}})
    check(code == 202, "push with the generated token: %d" % code)
    n.stop()
    n.start()
    check(n.token() == token, "the token survives a restart")
    code, _ = n.post("/api/metrics/web", {"values": {"cpu_usage": 0.5}})
    check(code == 202, "push after restart: %d" % code)
    n.stop()


def case_token_off():
    """api.token = "": no check, with a warning; on an address other than loopback the node
    refuses to start unless api.allow_remote_without_token."""
    n = Node(ARGS.node, sections={"api": {"token": ""}}).start()
    check("the API token check is off" in n.log(), "warning logged")
    code, _ = n.post("/api/metrics/web", {"values": {"cpu_usage": 0.5}})
    check(code == 202, "push without a token when none is set: %d" % code)
    n.stop()
    remote = Node(ARGS.node, sections={"api": {"token": ""}})
    remote.sections["api"]["bind"] = "0.0.0.0:%d" % remote.port
    remote.write_config()
    p = subprocess.run([remote.binary, "--config", remote.config], cwd=remote.dir,
                       capture_output=True, text=True, timeout=20)
    out = p.stdout + p.stderr
    check(p.returncode == 1 and "api.allow_remote_without_token" in out and "0.0.0.0" in out,
          "non-loopback without token refused (%d): %s" % (p.returncode, out[-600:]))
    remote.sections["api"]["allow_remote_without_token"] = True
    remote.start()
    remote.stop()


def case_unprivileged_push():
    """Another local user (nobody) can neither read the token nor push without it."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        print("SKIP: needs root and setpriv to act as another user")
        sys.exit(SKIP)
    n = Node(ARGS.node).start()
    os.chmod(n.dir, 0o755)  # let nobody reach the data directory (the token file stays 0600)
    os.chmod(n.sections["node"]["data_dir"], 0o755)
    script = """
import sys, urllib.request, urllib.error
try:
    open(sys.argv[2]).read()
    print("read-token")
except OSError:
    print("no-token")
req = urllib.request.Request("http://127.0.0.1:%s/api/metrics/web" % sys.argv[1],
                             data=b'{"values": {"cpu_usage": 0.99}}', method="POST",
                             headers={"Content-Type": "application/json"})
try:
    urllib.request.urlopen(req, timeout=5)
    print("status 202")
except urllib.error.HTTPError as e:
    print("status %d" % e.code)
"""
    p = subprocess.run([setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        "/usr/bin/python3", "-c", script, str(n.port),
                        os.path.join(n.sections["node"]["data_dir"], "api-token")],
                       capture_output=True, text=True, timeout=20)
    out = p.stdout + p.stderr
    check("no-token" in out, "nobody cannot read the token file: %s" % out)
    check("status 401" in out, "nobody's push is rejected: %s" % out)
    n.stop()


def case_huge_values():
    """Out-of-range and non-finite values are refused (422 naming the feature and the range);
    nothing non-finite reaches the history or the export."""
    n = Node(ARGS.node).start()
    for raw, want, needle in [
            ('{"values": {"invocations": 1.7e308}}', 422, "values.invocations = 1.7e+308"),
            ('{"values": {"cpu_usage": 1e6}}', 422, "plausible range 0..100"),
            ('{"values": {"error_rate": 2}}', 422, "values.error_rate"),
            ('{"values": {"invocations": 1e999}}', 400, "not valid JSON"),
            ('{"values": {"latency_ms": NaN}}', 400, "not valid JSON")]:
        code, body = n.post("/api/metrics/web", raw=raw)
        check(code == want and needle in (body or {}).get("error", ""),
              "push %s: %d %s (expected %d, %r)" % (raw, code, body, want, needle))
    for _ in range(3):
        code, _ = n.post("/api/metrics/web", {"values": {"invocations": 1e9}})
        check(code == 202, "the largest plausible count is accepted: %d" % code)
        time.sleep(1)
    n.stop()
    for fmt in ("csv", "json"):
        n.start()
        code, body = raw_get(n.port, "/api/ttm/training-data?blueprint=web&format=%s&from=0" % fmt)
        n.stop()
        low = body.lower()
        check(code == 200 and b"inf" not in low and b"nan" not in low,
              "%s export has no non-finite value (%d)" % (fmt, code))


def case_slowloris():
    """Clients that trickle a header byte at a time are disconnected after
    api.request_timeout_ms, and a normal client is served all along."""
    n = Node(ARGS.node, sections={"api": {"request_timeout_ms": 2000}}).start()
    socks = open_sockets(n.port, 300, 30)
    check(len(socks) >= 290, "slow clients connected: %d" % len(socks))
    for s in socks:
        s.send(b"GET /api/ttm/status HTTP/1.1\r\nHost: x\r\n")
    t_end = time.time() + 5
    while time.time() < t_end:
        for s in socks:
            try:
                s.send(b"X")  # one byte of a header that never ends
            except OSError:
                pass
        served_quickly(n, "during the slowloris")
        time.sleep(0.5)
    closed = sum(closed_by_server(s) for s in socks)
    check(closed >= len(socks) * 0.95, "slow clients disconnected: %d of %d" % (closed, len(socks)))
    check("no whole request within 2000 ms" in n.log(), "the disconnections are logged")
    for s in socks:
        s.close()
    n.stop()


def case_idle_sockets():
    """Idle sockets: one address gets at most api.max_connections_per_client, every idle one is
    closed after api.request_timeout_ms, and a normal client is served throughout."""
    n = Node(ARGS.node, sections={"api": {"request_timeout_ms": 2000,
                                          "max_connections_per_client": 16}}).start()
    one = []
    for _ in range(40):
        s = socket.create_connection(("127.0.0.1", n.port), timeout=2, source_address=("127.0.0.1", 0))
        one.append(s)
    time.sleep(0.5)
    refused = sum(closed_by_server(s) for s in one)
    check(refused >= 40 - 16, "connections over the per-client limit closed: %d of 40" % refused)
    many = open_sockets(n.port, 400, 16)
    served_quickly(n, "with %d idle sockets open" % (len(many) + len(one)))
    time.sleep(3.5)
    closed = sum(closed_by_server(s) for s in many)
    check(closed >= len(many) * 0.95, "idle sockets closed: %d of %d" % (closed, len(many)))
    served_quickly(n, "after the idle sockets")
    for s in one + many:
        s.close()
    n.stop()


def case_unread_exports():
    """Many training-data exports never read: at most api.max_concurrent_exports run (the rest
    get 503), memory stays bounded, and a normal client is served."""
    n = Node(ARGS.node, sections={"api": {"max_concurrent_exports": 4}})
    n.start()
    n.stop()
    insert_minutes(n.db(), "web", steady_history(14 * 1440 - 120, minute_now() - 60000))
    n.start()
    time.sleep(1)
    before = rss_kb(n.proc.pid)
    socks = open_sockets(n.port, 120, 10)
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.send(b"GET /api/ttm/training-data?blueprint=web&format=csv&from=0 HTTP/1.1\r\n"
               b"Host: x\r\n\r\n")
    time.sleep(3)
    statuses = []
    for s in socks:
        s.settimeout(2)
        try:
            statuses.append(s.recv(12)[9:12])
        except OSError:
            statuses.append(b"")
    streaming = statuses.count(b"200")
    refused = statuses.count(b"503")
    check(streaming <= 4 and refused >= len(socks) - 4,
          "exports: %d streaming, %d refused of %d" % (streaming, refused, len(socks)))
    served_quickly(n, "with %d unread exports" % len(socks))
    grown = rss_kb(n.proc.pid) - before
    print("RSS before %d KiB, with %d unread exports +%d KiB" % (before, len(socks), grown))
    check(grown < 64 * 1024, "RSS grew %d KiB" % grown)
    for s in socks:
        s.close()
    n.stop()


def case_corrupt_db():
    """A damaged history database is moved aside (named in the log) and the node starts with a
    new one holding the rows still readable; a file that is not a database at all gives an empty
    history."""
    n = Node(ARGS.node)
    n.start()
    n.stop()
    insert_minutes(n.db(), "web", steady_history(600, minute_now() - 60000))
    db = n.db()
    for damage in ("last page", "not a database"):
        size = os.path.getsize(db)
        with open(db, "r+b") as f:
            if damage == "last page":
                f.seek(size - 4096)
                f.write(os.urandom(4096))
            else:
                f.write(b"this is not an SQLite file" * 200)
        offset = len(n.log()) if os.path.exists(n.log_path) else 0
        n.start()
        n.wait_log(r"is corrupt .*moved aside to .*aether\.db\.corrupt-\d+", 10)
        n.wait_log(r"salvaged from .*: -?\d+ minute rows", 10)
        log = n.log()[offset:]
        m = re.search(r"salvaged from \S+: (-?\d+) minute rows", log)
        salvaged = int(m.group(1))
        aside = [f for f in os.listdir(os.path.dirname(db)) if ".corrupt-" in f and
                 not f.endswith(("-wal", "-shm"))]
        check(aside, "the damaged file is kept beside the new one: %s" % aside)
        code, _ = n.post("/api/metrics/web", {"values": {"cpu_usage": 0.5}})
        check(code == 202, "the node serves after recovery (%s): %d" % (damage, code))
        n.stop()
        con = sqlite3.connect(db)
        rows = con.execute("SELECT COUNT(*) FROM minutes WHERE ts < ?",
                           (minute_now() - 60000 + 1,)).fetchone()[0]
        con.close()
        print("%s: %d of 600 minutes salvaged (log: %d)" % (damage, rows, salvaged))
        if damage == "last page":
            check(0 < salvaged <= 600 and rows >= salvaged,
                  "readable rows salvaged: log %d, table %d" % (salvaged, rows))
        else:
            check(salvaged == -1, "nothing to salvage from a non-database: %d" % salvaged)
        for f in os.listdir(os.path.dirname(db)):
            if ".corrupt-" in f:
                os.unlink(os.path.join(os.path.dirname(db), f))

def case_model_memory_cap():
    """A model whose plan needs more than ttm.max_model_memory_mb is rejected on reload, and the
    running model stays in place."""
    n = Node(ARGS.node, sections={"ttm": {"enabled": True, "forecaster": "model",
                                          "input_window_minutes": 8, "prediction_horizon": 2,
                                          "max_model_memory_mb": 1}})
    live = os.path.join(n.dir, "model.onnx")
    shutil.copy(os.path.join(ARGS.models, "good.onnx"), live)
    n.sections["ttm"]["model_path"] = live
    n.start()
    n.wait_log(r"Warm-up inference complete")
    shutil.copy(os.path.join(ARGS.models, "memory_hog.onnx"), live)
    print("memory_hog.onnx: %d bytes" % os.path.getsize(live))
    r = n.reload_model()
    err = r["error"] or ""
    check(r["state"] == "failed" and "plan limit of 1 MiB" in err, "reload of a model over the cap: %s" % r)
    check("previous model kept" in (n.status()["error"] or ""), "the running model stays")
    n.stop()
    n.sections["ttm"]["max_model_memory_mb"] = 64
    n.start()
    n.wait_log(r"Warm-up inference complete")  # the same file fits a larger cap
    n.stop()


def case_writable_files_warned():
    """A config and a model every user may write are named in warnings (the config's commands
    and the model run with the node's rights)."""
    n = Node(ARGS.node, sections={"ttm": {"enabled": True, "forecaster": "model",
                                          "input_window_minutes": 8, "prediction_horizon": 2}})
    live = os.path.join(n.dir, "model.onnx")
    shutil.copy(os.path.join(ARGS.models, "good.onnx"), live)
    os.chmod(live, 0o666)
    n.sections["ttm"]["model_path"] = live
    n.write_config()
    os.chmod(n.config, 0o666)  # start() rewrites the file in place: the mode stays
    n.start()
    n.wait_log(r"Warm-up inference complete")
    log = n.log()
    check("config %s is writable by every user (mode 0666)" % n.config in log,
          "config warning: %s" % log[-1500:])
    check("model %s is writable by every user (mode 0666)" % live in log,
          "model warning: %s" % log[-1500:])
    n.stop()


def case_module_owner_checked():
    """The engine module is loaded only when it and its directory belong to the node's user or
    root; the model cap reaches the module too."""
    if os.geteuid() != 0 or not ARGS.node_noengine or not ARGS.module:
        print("SKIP: needs root (to hand the module to another user) and the engine-less node")
        sys.exit(SKIP)
    n = Node(ARGS.node_noengine, sections={"ttm": {"enabled": True, "forecaster": "model",
                                                   "input_window_minutes": 8,
                                                   "prediction_horizon": 2,
                                                   "max_model_memory_mb": 1}})
    ext = n.sections["node"]["extensions_dir"]
    os.makedirs(ext)
    module = os.path.join(ext, "aether-ttm-onnx.so")
    shutil.copy(ARGS.module, module)
    live = os.path.join(n.dir, "model.onnx")
    shutil.copy(os.path.join(ARGS.models, "good.onnx"), live)
    n.sections["ttm"]["model_path"] = live
    nobody = 65534
    os.chown(module, nobody, -1)
    n.start()
    n.wait_log(r"aether-ttm-onnx.so belongs to user %d, neither this node's user" % nobody)
    check("Loaded TTM engine module" not in n.log(), "a module of another user was loaded")
    n.stop()
    os.chown(module, 0, -1)
    n.start()
    n.wait_log(r"Loaded TTM engine module")
    n.wait_log(r"Warm-up inference complete")
    shutil.copy(os.path.join(ARGS.models, "memory_hog.onnx"), live)
    r = n.reload_model()
    check(r["state"] == "failed" and "plan limit of 1 MiB" in (r["error"] or ""),
          "the module applies ttm.max_model_memory_mb: %s" % r)
    n.stop()


def case_malformed_requests_throttled():
    """2,000 malformed requests: a handful of warning lines, not one or two each; the node
    serves a normal client afterwards."""
    n = Node(ARGS.node).start()
    before = n.log().count(" WARN ")
    for i in range(2000):
        with socket.create_connection(("127.0.0.1", n.port), timeout=2,
                                      source_address=(attacker_address(i % 50), 0)) as s:
            s.sendall(b"GARBAGE \x01\x02 nonsense\r\n\r\n")
            try:
                s.recv(1024)
            except OSError:
                pass
    served_quickly(n, "after 2000 malformed requests")
    time.sleep(0.5)
    warns = n.log().count(" WARN ") - before
    print("warning lines for 2000 malformed requests: %d" % warns)
    check(warns <= 20, "warning lines for 2000 malformed requests: %d" % warns)
    n.stop()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--models")
    ap.add_argument("--node-noengine")
    ap.add_argument("--module")
    ARGS = ap.parse_args()
    return run_case(ARGS.case, globals())


if __name__ == "__main__":
    sys.exit(main())
