#!/usr/bin/python3
"""End-to-end tests of real workloads: the real aether-node, with its process actuator running
real aether-worker instances, its scrape collector reading them, aether-load driving them, the
exec actuator running a real command, and scrape targets that misbehave on purpose.

usage: workload_e2e.py --case NAME --node AETHER_NODE --worker AETHER_WORKER --load AETHER_LOAD
"""
import argparse
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from e2e_lib import Failure, Node, check, port_block  # noqa: E402


class Skip(Exception):
    """The case cannot run here (exit 77, with the reason)."""


class WorkloadNode(Node):
    """The node harness, without its default exec scale_command on process blueprints."""

    DEFAULT_EXEC = 'scale_command = ["/bin/sh", "-c", "exit 0"]'

    def write_config(self):
        super().write_config()
        with open(self.config) as f:
            chunks = f.read().split("[[blueprint]]")
        for i in range(1, len(chunks)):
            if 'actuator = "process"' in chunks[i]:
                chunks[i] = "\n".join(line for line in chunks[i].split("\n")
                                      if line != self.DEFAULT_EXEC)
        with open(self.config, "w") as f:
            f.write("[[blueprint]]".join(chunks))


def answers(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def worker_pids(worker_bin, port_base, count):
    """pid of each aether-worker whose command line has --port in [port_base, +count)."""
    pids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%s/stat" % entry) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        if not argv or os.path.basename(argv[0].decode(errors="replace")) != \
                os.path.basename(worker_bin):
            continue
        for i, a in enumerate(argv[:-1]):
            if a == b"--port":
                port = int(argv[i + 1])
                if port_base <= port < port_base + count:
                    pids[port] = int(entry)
    return pids


def blueprint(node, name):
    for b in node.get_json("/api/blueprints"):
        if b["name"] == name:
            return b
    raise Failure("no blueprint %s in /api/blueprints" % name)


def process_node(args, min_i=1, max_i=4, instances=None, controller=None, work_us=1000):
    base = port_block(max_i)
    bp = {"name": "web", "actuator": "process", "min_instances": min_i, "max_instances": max_i,
          "command": [args.worker, "--port", "{port}", "--work-us", str(work_us)],
          "port_base": base, "startup_timeout_ms": 10000, "stop_grace_ms": 2000,
          "memory_limit_bytes": 268435456}
    if instances is not None:
        bp["instances"] = instances
    sections = {"controller": {"warm_up_period_ms": 0, "slice_cooldown_ms": 1000}}
    if controller:
        sections["controller"].update(controller)
    return WorkloadNode(args.node, sections=sections, blueprints=[bp]), base


def case_workers_start(args):
    node, base = process_node(args, min_i=2, max_i=4)
    node.start()
    try:
        node.wait_for(lambda: blueprint(node, "web")["ready"] == 2, 20, "2 ready instances")
        b = blueprint(node, "web")
        check(b["actuatorAvailable"] and b["actuator"] == "process", "actuator %r" % b)
        check(answers(base) and answers(base + 1), "workers answer on %d, %d" % (base, base + 1))
        check(not answers(base + 2), "a third worker runs on %d" % (base + 2))
        # The scrape collector fills the snapshot: cpu from /proc, heap from RSS.
        node.wait_for(lambda: blueprint(node, "web")["cpuUsage"] is not None, 10, "cpuUsage")
        print("blueprint:", blueprint(node, "web"))
    finally:
        rc = node.stop()
    check(rc == 0, "node exit status %r" % rc)
    time.sleep(0.5)
    check(not answers(base) and not answers(base + 1), "workers still answer after the node stopped")


def case_load_follows(args):
    # Scale on the call rate (calls/s per requested instance): reliable on a busy machine, where
    # a worker may not get a full core.
    node, base = process_node(args, min_i=1, max_i=4, work_us=500,
                              controller={"call_rate_scale_up_threshold": 15,
                                          "cpu_scale_up_threshold": 0.95,
                                          "cpu_scale_down_threshold": 0.3})
    node.start()
    trace = os.path.join(node.dir, "load.csv")
    with open(trace, "w") as f:  # 60 requests/s for 5 minutes (we stop it earlier)
        f.write("minute,requests\n" + "".join("%d,3600\n" % m for m in range(5)))
    load = None
    try:
        node.wait_for(lambda: blueprint(node, "web")["ready"] == 1, 20, "1 ready instance")
        load = subprocess.Popen([args.load, "--trace", trace, "--time-column", "minute",
                                 "--value-column", "requests", "--ports",
                                 "%d-%d" % (base, base + 3), "--quiet"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        node.wait_for(lambda: blueprint(node, "web")["ready"] >= 3, 60,
                      "instances to follow the load up to 3")
        up = node.get_json("/api/decisions?blueprint=web&limit=20")
        check(any(d["action"] == "scale_up" and d["tier"] == "reactive" for d in up),
              "no reactive scale_up decision: %r" % up)
        print("under load:", blueprint(node, "web"))
        load.terminate()
        load.wait(10)
        load = None
        node.wait_for(lambda: blueprint(node, "web")["requested"] == 1 and
                      blueprint(node, "web")["ready"] == 1, 60,
                      "instances to follow the load back down to 1")
        print("after load:", blueprint(node, "web"))
    finally:
        if load:
            load.kill()
            load.wait()
        rc = node.stop()
    check(rc == 0, "node exit status %r" % rc)


def start_workers(args, n):
    """A node running n workers (min = max = n), once they are ready: (node, base, pids)."""
    node, base = process_node(args, min_i=n, max_i=n)
    node.start()
    try:
        node.wait_for(lambda: blueprint(node, "web")["ready"] == n, 30, "%d ready instances" % n)
        pids = worker_pids(args.worker, base, n)
        check(len(pids) == n, "worker pids %r" % pids)
    except Failure:
        node.stop()
        raise
    return node, base, pids


def case_killed_worker_restarts(args):
    node, base, pids = start_workers(args, 2)
    try:
        os.kill(pids[base + 1], signal.SIGKILL)
        # The restart is quick (0.5 s back-off): wait for a new pid on that port, then ready.
        node.wait_for(lambda: worker_pids(args.worker, base, 2).get(base + 1)
                      not in (None, pids[base + 1]), 20, "a new worker on port %d" % (base + 1))
        node.wait_for(lambda: blueprint(node, "web")["ready"] == 2, 20, "2 ready again")
        new = worker_pids(args.worker, base, 2)
        check(new[base] == pids[base], "the other worker was touched: %r -> %r" % (pids, new))
        node.wait_log(r"instance 1 \(port %d\): killed by signal 9" % (base + 1), 5)
        # Once the instance is ready again the crash is over: gone from /api/blueprints, its
        # end logged.
        node.wait_for(lambda: "killed by signal 9" not in blueprint(node, "web").get("error", ""),
                      5, "the crash cleared from /api/blueprints")
        node.wait_log(r"recovered: blueprint web instance 1 \(port %d\): killed by signal 9"
                      % (base + 1), 5)
    finally:
        rc = node.stop()
    check(rc == 0, "node exit status %r" % rc)


class Misbehaving(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            block = (b"# " + b"x" * 125 + b"\n") * 512  # 64 KiB of comment lines
            try:
                for _ in range(48):  # 3 MiB, over the 1 MiB cap
                    self.wfile.write(block)
            except OSError:
                pass
            return
        body = b"<html>this is not a metrics page</html>\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *a):
        pass


def case_bad_scrape_targets(args):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    urls = ["http://127.0.0.1:%d/%s" % (port, p) for p in ("garbage", "slow", "huge")]
    node = Node(args.node, blueprints=[{"name": "odd", "actuator": "exec",
                                        "scale_command": ["/bin/sh", "-c", "exit 0"],
                                        "metrics_urls": urls}])
    node.start()
    try:
        # Each target's reason, all in one scrape round (the API cuts long reasons at 256
        # characters; the log has them whole). On a busy machine a round may see the garbage
        # or huge target time out instead: wait for a round that shows all three.
        wanted = ["garbage: unreadable metrics page: line 1", "slow: timed out after 800 ms",
                  "huge: body larger than 1048576"]
        node.wait_for(lambda: all(w in blueprint(node, "odd").get("error", "") for w in wanted),
                      30, "the three scrape errors in /api/blueprints")
        print("error:", blueprint(node, "odd")["error"])
        check("huge: body larger than 1048576 bytes" in node.log(), "reason not logged")
        check("metrics missing" in node.log(), "the reason is not in the log")
        time.sleep(3)
        check(node.proc.poll() is None, "the node died")
        check(node.try_get("/metrics") is not None, "/metrics stopped answering")
        snap = blueprint(node, "odd")
        check(snap["invocationsPerMinute"] is None, "invocations from nowhere: %r" % snap)
    finally:
        rc = node.stop()
        server.shutdown()
    check(rc == 0, "node exit status %r" % rc)


def run_outcome(node, count):
    """The newest decision of blueprint api to count instances once its scale_command run has
    finished (its result is the run's outcome), else None."""
    for d in node.get_json("/api/decisions?blueprint=api&limit=50"):
        if d["to"] == count:
            return d if d["result"].startswith("scale_command") else None
    return None


def push_hot_until(node, calls, line):
    """Pushes a hot CPU until the scale_command has been called with line (or 15 s pass)."""
    end = time.time() + 15
    while time.time() < end and line not in open(calls).read():
        code, _ = node.post("/api/metrics/api", {"values": {"cpu_usage": 0.97}})
        check(code == 202, "push status %d" % code)
        time.sleep(0.3)


def case_exec_arguments(args):
    tmp = tempfile.mkdtemp(prefix="aether-exec-")
    calls = os.path.join(tmp, "calls")
    # Succeeds up to 3 instances; asked for more, it fails with exit 3, says why on stderr and
    # then prints 600 more characters (the decision keeps the start of long output).
    script = ('echo "$0 $1" >> %s; if [ "$1" -gt 3 ]; then echo "no quota for $1" >&2;'
              ' printf "%%0600d" 0; exit 3; fi; echo "scaled $0 to $1"' % calls)
    node = Node(args.node, blueprints=[{"name": "api", "actuator": "exec", "min_instances": 1,
                                        "max_instances": 5, "instances": 2,
                                        "scale_command": ["/bin/sh", "-c", script,
                                                          "{blueprint}", "{instances}"]}])
    node.start()
    try:
        node.wait_for(lambda: os.path.exists(calls) and "api 2" in open(calls).read(), 10,
                      "the initial scale_command")
        node.wait_for(lambda: blueprint(node, "api")["ready"] == 2, 10, "ready = 2")
        # A hot CPU: the reactive tier scales up, the hook runs with 3 and succeeds.
        push_hot_until(node, calls, "api 3")
        lines = open(calls).read().split("\n")
        check(lines[:2] == ["api 2", "api 3"], "scale_command calls %r" % lines)
        node.wait_log(r"scale_command for 3 instances: exit 0: scaled api to 3", 10)
        # The decision that asked for 3 carries the run's exit code and output.
        up = node.wait_for(lambda: run_outcome(node, 3), 10, "the outcome in the decision to 3")
        check(up["result"] == "scale_command exit 0: scaled api to 3",
              "decision to 3: result %r" % up["result"])
        check(up["action"] == "scale_up" and up["from"] == 2, "decision to 3: %r" % up)
        # Hotter still: the hook is asked for 4 and fails; that decision says so.
        node.wait_for(lambda: blueprint(node, "api")["ready"] == 3, 10, "ready = 3")
        push_hot_until(node, calls, "api 4")
        check("api 4" in open(calls).read(), "scale_command never called with 4")
        failed = node.wait_for(lambda: run_outcome(node, 4), 10,
                               "the outcome in the decision to 4")
        result = failed["result"]
        check(result.startswith("scale_command exit 3: no quota for 4\n000")
              and result.endswith("0 ... (truncated)") and len(result) < 512,
              "decision to 4: result %r" % result)
        check(blueprint(node, "api")["ready"] == 3, "ready after the failed run")
    finally:
        rc = node.stop()
    check(rc == 0, "node exit status %r" % rc)


SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FAKES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_orchestrator")


def example_node(args, kind, orch, instances=2):
    """A node whose exec blueprint "web" is scaled by the example scripts of examples/exec/KIND,
    with a fake orchestrator (tests/e2e_workload/fake_orchestrator) first on PATH."""
    scripts = os.path.join(SOURCE, "examples", "exec", kind)
    return Node(args.node, env={"PATH": FAKES + os.pathsep + os.environ["PATH"],
                                "FAKE_ORCH_DIR": orch},
                blueprints=[{"name": "web", "actuator": "exec", "min_instances": 1,
                             "max_instances": 4, "instances": instances,
                             "scale_command": [os.path.join(scripts, "scale.sh"), "{blueprint}",
                                               "{instances}"],
                             "status_command": [os.path.join(scripts, "status.sh"),
                                                "{blueprint}"]}])


def orchestrator_requested(kind, orch):
    """What the fake orchestrator was asked for: the units started, or spec.replicas."""
    if kind == "systemd":
        units = os.path.join(orch, "units")
        return len(os.listdir(units)) if os.path.isdir(units) else 0
    spec = os.path.join(orch, "deploy", "web")
    return int(open(spec).read()) if os.path.exists(spec) else 0


def set_orchestrator_requested(kind, orch, n):
    """Someone else scales the service behind the node's back."""
    if kind == "systemd":
        for unit in os.listdir(os.path.join(orch, "units")):
            if int(unit.split("@")[1].split(".")[0]) > n:
                os.remove(os.path.join(orch, "units", unit))
    else:
        with open(os.path.join(orch, "deploy", "web"), "w") as f:
            f.write("%d\n" % n)


def case_exec_examples(args):
    """The systemd and kubectl examples of examples/exec against a fake orchestrator: the node
    scales through scale.sh and its ready count is what status.sh reports (capped by the fake's
    capacity), not the count it asked for; a count changed behind its back is set again."""
    for kind in ["systemd", "kubectl"]:
        orch = tempfile.mkdtemp(prefix="aether-orch-")
        with open(os.path.join(orch, "capacity"), "w") as f:
            f.write("1\n")  # only one instance can become ready
        node = example_node(args, kind, orch).start()
        try:
            node.wait_for(lambda: orchestrator_requested(kind, orch) == 2, 10,
                          "%s: the orchestrator asked for 2" % kind)
            b = node.wait_for(lambda: blueprint(node, "web")["ready"] == 1 and
                              blueprint(node, "web"), 15, "%s: ready = 1 as reported" % kind)
            check(b["requested"] == 2, "%s: requested %r" % (kind, b))
            with open(os.path.join(orch, "capacity"), "w") as f:
                f.write("10\n")
            node.wait_for(lambda: blueprint(node, "web")["ready"] == 2, 15,
                          "%s: ready = 2 once the orchestrator has room" % kind)
            runs = node.log().count("scale_command for 2 instances: exit 0")
            set_orchestrator_requested(kind, orch, 1)
            node.wait_for(lambda: node.log().count("scale_command for 2 instances: exit 0") > runs,
                          20, "%s: after an outside scale-down, the node runs scale.sh again" % kind)
            node.wait_for(lambda: orchestrator_requested(kind, orch) == 2 and
                          blueprint(node, "web")["ready"] == 2, 15,
                          "%s: the count set again and ready" % kind)
            check("command" not in (blueprint(node, "web").get("error") or ""),
                  "%s: no actuator error: %r" % (kind, blueprint(node, "web")))
        finally:
            rc = node.stop()
        check(rc == 0, "%s: node exit status %r" % (kind, rc))
        shutil.rmtree(orch)


def case_exec_status_errors(args):
    """A status_command that prints something else, or fails, is an error naming the blueprint
    and the output; it clears once the command answers well again."""
    orch = tempfile.mkdtemp(prefix="aether-orch-")
    answer = os.path.join(orch, "answer")
    with open(answer, "w") as f:
        f.write("banana\n")
    node = Node(args.node, blueprints=[{
        "name": "api", "actuator": "exec", "instances": 2, "max_instances": 4,
        "scale_command": ["/bin/sh", "-c", "exit 0"],
        "status_command": ["/bin/sh", "-c", 'cat "$0"; [ "$(cat "$0")" != fail ]', answer]}])
    node.start()
    try:
        want = ('blueprint api status_command printed "banana": expected one line '
                '"READY REQUESTED" (value 1 is not a whole number 0..1000000)')
        b = node.wait_for(lambda: want in (blueprint(node, "api").get("error") or "") and
                          blueprint(node, "api"), 15, "the bad output named")
        with open(answer, "w") as f:
            f.write("fail\n")
        node.wait_for(lambda: "status_command: exit 1: fail" in
                      (blueprint(node, "api").get("error") or ""), 15, "a failed run named")
        with open(answer, "w") as f:
            f.write("1 2\n")
        b = node.wait_for(lambda: "status_command" not in (blueprint(node, "api").get("error") or "")
                          and blueprint(node, "api"), 15, "the error cleared")
        check(b["ready"] == 1, "ready from the status line: %r" % b)
        node.wait_log(r"status_command printed", 5)
    finally:
        rc = node.stop()
    check(rc == 0, "node exit status %r" % rc)
    shutil.rmtree(orch)


def case_host_metrics(args):
    """host_metrics = true gives a blueprint without scrape targets the host's CPU and memory;
    its twin without the key shows none."""
    exit0 = ["/bin/sh", "-c", "exit 0"]
    node = Node(args.node, blueprints=[
        {"name": "host", "actuator": "exec", "scale_command": exit0, "host_metrics": True},
        {"name": "plain", "actuator": "exec", "scale_command": exit0}])
    node.start()
    try:
        node.wait_for(lambda: blueprint(node, "host")["cpuUsage"] is not None, 10,
                      "cpuUsage of the host_metrics blueprint")
        cpu = blueprint(node, "host")["cpuUsage"]
        check(0.0 <= cpu <= 1.0, "host cpuUsage %r outside 0..1" % cpu)
        check(blueprint(node, "plain")["cpuUsage"] is None,
              "a blueprint without host_metrics borrowed the host's CPU: %r"
              % blueprint(node, "plain"))
    finally:
        rc = node.stop()
    check(rc == 0, "node exit status %r" % rc)


def case_no_orphans(args):
    node, base, pids = start_workers(args, 3)
    node.stop(signal.SIGKILL)
    end = time.time() + 5
    while time.time() < end and worker_pids(args.worker, base, 3):
        time.sleep(0.1)
    left = worker_pids(args.worker, base, 3)
    check(not left, "orphaned workers after SIGKILL of the node: %r" % left)


def case_setsid_grandchild_stopped(args):
    """A grandchild that left its instance's process group with setsid() is stopped with the
    instance when the node stops cleanly."""
    node, marker, base = setsid_node(args)
    node.start()
    try:
        pid = ready_grandchild(node, marker)
        check(os.getpgid(pid) != os.getpgid(node.proc.pid),
              "the grandchild %d left the node's process group" % pid)
    finally:
        node.stop()
    check(wait_gone(pid, 5), "the setsid grandchild %d outlived a clean stop" % pid)


def case_crashed_instance_group_cleared(args):
    """When an instance dies on its own, what it left in its process group is killed before the
    restart (a child holding the port or the work would otherwise linger)."""
    node, base = process_node(args, min_i=1, max_i=1)
    marker = os.path.join(node.dir, "child.%d" % base)
    node.blueprints[0]["command"] = [
        "/bin/sh", "-c", "sleep 300 & echo $! > %s; exec %s --port {port}" % (marker, args.worker)]
    node.start()
    try:
        node.wait_for(lambda: blueprint(node, "web")["ready"] == 1, 30, "the instance ready")
        child = int(open(marker).read())
        worker = worker_pids(args.worker, base, 1)[base]
        os.kill(worker, signal.SIGKILL)
        end = time.time() + 5
        while time.time() < end and running(child):
            time.sleep(0.1)
        check(not running(child), "the crashed instance's child %d still runs" % child)
        node.wait_for(lambda: blueprint(node, "web")["ready"] == 1, 30, "the instance restarted")
    finally:
        node.stop()


def setsid_node(args):
    """A node whose one instance starts a grandchild that calls setsid() and sleeps, writing its
    pid to a marker file: (node, marker, base)."""
    node, base = process_node(args, min_i=1, max_i=1)
    marker = os.path.join(node.dir, "grandchild.%d" % base)
    node.blueprints[0]["command"] = [
        "/bin/sh", "-c", "setsid sleep 300 & echo $! > %s; exec %s --port {port}"
        % (marker, args.worker)]
    return node, marker, base


def node_cgroup(node):
    """The node's cgroup directory from its start line; raises Skip when it uses none."""
    rx = re.compile(r"instances are stopped with (cgroup v2 at (\S+)|no writable cgroup v2.*)")
    node.wait_for(lambda: rx.search(node.log()[node.log_offset:]), 10,
                  "the start line naming the stop mechanism")
    m = rx.search(node.log()[node.log_offset:])
    if not m.group(2):
        raise Skip(m.group(1))
    return m.group(2)


def ready_grandchild(node, marker):
    """Waits for the instance; returns the setsid grandchild's pid."""
    node.wait_for(lambda: blueprint(node, "web")["ready"] == 1, 30, "the instance ready")
    node.wait_for(lambda: os.path.exists(marker) and open(marker).read().strip(), 10,
                  "the grandchild's pid")
    pid = int(open(marker).read())
    check(os.getsid(pid) == pid, "the grandchild %d runs in a session of its own" % pid)
    return pid


def wait_gone(pid, seconds):
    end = time.time() + seconds
    while time.time() < end and running(pid):
        time.sleep(0.1)
    return not running(pid)


def case_cgroup_clean_stop(args):
    """With cgroup v2 every instance runs in its blueprint's cgroup; a clean stop leaves no
    process and no cgroup directory."""
    node, marker, base = setsid_node(args)
    node.start()
    try:
        cg = node_cgroup(node)
        pid = ready_grandchild(node, marker)
        with open("/proc/%d/cgroup" % pid) as f:
            own = f.read()
        check(os.path.dirname(cg) != cg and "/" + os.path.basename(cg) + "/bp-web-" in own,
              "the grandchild %d is in the blueprint's cgroup under %s: %r" % (pid, cg, own))
    finally:
        node.stop()
    check(wait_gone(pid, 10), "the setsid grandchild %d outlived a clean stop" % pid)
    check(not os.path.exists(cg), "the node's cgroup %s is left after a clean stop" % cg)


def case_cgroup_kill9_leftovers(args):
    """After a SIGKILL of the node the setsid grandchild survives; the node restarted on the
    same data_dir kills it before it starts any instance, and says so."""
    node, marker, base = setsid_node(args)
    node.start()
    try:
        cg = node_cgroup(node)
        pid = ready_grandchild(node, marker)
        worker = worker_pids(args.worker, base, 1)[base]
        node.proc.send_signal(signal.SIGKILL)
        node.proc.wait()
        node.proc = None
        check(wait_gone(worker, 10), "the instance %d dies with the node" % worker)
        check(running(pid), "the grandchild %d survives the SIGKILL (the test's premise)" % pid)
        os.unlink(marker)
        node.start()
        check(node_cgroup(node) == cg, "the restarted node uses the same cgroup %s" % cg)
        check(wait_gone(pid, 10), "the grandchild %d outlived the restart" % pid)
        node.wait_log(r"stopped 1 process\(es\) left running by the previous run", 10)
        ready_grandchild(node, marker)  # the instance starts again, with a new grandchild
    finally:
        node.stop()
    check(not os.path.exists(cg), "the node's cgroup %s is left after a clean stop" % cg)


def running(pid):
    """True when pid runs (a zombie does not count)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--case", required=True, choices=sorted(CASES))
    p.add_argument("--node", required=True)
    p.add_argument("--worker", required=True)
    p.add_argument("--load", required=True)
    args = p.parse_args()
    try:
        CASES[args.case](args)
    except Skip as e:
        print("SKIP %s: %s" % (args.case, e))
        return 77
    except Failure as e:
        print("FAIL %s: %s" % (args.case, e))
        return 1
    print("ok %s" % args.case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
