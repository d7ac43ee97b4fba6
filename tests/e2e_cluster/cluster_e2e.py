"""Cluster mode end to end: one real etcd and three real aether-node processes on loopback, all
started and stopped here. Leadership, TTM on the leader only, recommendations through etcd,
failover after kill -9, fencing of an exec actuator across SIGSTOP/SIGCONT, and etcd stopped and
restarted. Exit 77 (ctest SKIP) when no etcd binary is installed."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from e2e_lib import (CREATED_DIRS, Failure, Node, check, cleanup, free_port,  # noqa: E402
                     insert_minutes, minute_now, steady_history)

LEASE_MS = 2000
TTM = {"enabled": True, "input_window_minutes": 8, "prediction_horizon": 2,
       "evaluation_interval_ms": 10000, "confidence_threshold": 0.7}
# cpu never moves tier 1 (see tests/e2e); pushed invocations do
CONTROLLER = {"cpu_scale_up_threshold": 1.0, "cpu_scale_down_threshold": 0.0,
              "warm_up_period_ms": 0, "slice_cooldown_ms": 1000}
HOT_CALLS = 5000.0
# each node's own load in its preloaded history: (invocations per minute, ready instances), so
# that any two followers get different recommendations from the leader
LOADS = [(6000.0, 1.0), (12000.0, 2.0), (24000.0, 4.0)]


class Etcd:
    """One etcd member on free loopback ports with a scratch data directory; alone, or one of
    the members named in initial_cluster (set by etcd_cluster)."""

    def __init__(self, binary, root, name="e0"):
        self.binary = binary
        self.name = name
        self.data = os.path.join(root, "etcd-data-" + name)
        self.client = "http://127.0.0.1:%d" % free_port()
        self.peer = "http://127.0.0.1:%d" % free_port()
        self.initial_cluster = name + "=" + self.peer
        self.log = os.path.join(root, "etcd-%s.log" % name)
        self.proc = None

    def launch(self):
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--name", self.name, "--data-dir", self.data,
             "--listen-client-urls", self.client, "--advertise-client-urls", self.client,
             "--listen-peer-urls", self.peer, "--initial-advertise-peer-urls", self.peer,
             "--initial-cluster", self.initial_cluster],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def start(self):
        self.launch()
        self.wait_healthy()

    def wait_healthy(self):
        end = time.time() + 15
        while time.time() < end:
            try:
                with urllib.request.urlopen(self.client + "/health", timeout=1) as r:
                    if b'"true"' in r.read():
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise Failure("etcd not healthy after 15 s; see %s" % self.log)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def etcd_cluster(binary, root, size):
    """size etcd members forming one cluster, started and healthy."""
    members = [Etcd(binary, root, "e%d" % k) for k in range(size)]
    initial = ",".join(m.name + "=" + m.peer for m in members)
    for m in members:
        m.initial_cluster = initial
        m.launch()
    for m in members:
        m.wait_healthy()
    return members


def cluster_of(nodes):
    out = {}
    for n in nodes:
        if n.proc is not None:
            out[n.name] = n.get_json("/api/cluster")
    return out


def leaders(nodes):
    return [name for name, c in cluster_of(nodes).items() if c["role"] == "leader"]


def wait_one_leader(nodes, timeout):
    t0 = time.time()
    end = t0 + timeout
    while time.time() < end:
        ls = leaders(nodes)
        if len(ls) == 1:
            return ls[0], time.time() - t0
        time.sleep(0.1)
    raise Failure("no single leader within %.1f s: %s" % (timeout, cluster_of(nodes)))


def by_name(nodes, name):
    return [n for n in nodes if n.name == name][0]


def make_nodes(root, endpoints, runs_file, lease_ms=LEASE_MS):
    nodes = []
    for k in range(3):
        name = "n%d" % k
        cmd = "echo %s {instances} $(date +%%s%%3N) >> %s" % (name, runs_file)
        n = Node(ARGS.node, sections={
            "node": {"id": name},
            "ttm": dict(TTM, model_path=os.path.join(ARGS.models, "good.onnx")),
            "controller": CONTROLLER,
            "cluster": {"etcd_endpoints": endpoints, "lease_ttl_ms": lease_ms},
        }, blueprints=[{"name": "web", "max_instances": 8,
                        "scale_command": ["/bin/sh", "-c", cmd]}])
        n.name = name
        # its own history of 8 minutes, so every node's windows are full from the start
        n.start()
        check(n.stop() == 0, "node exits 0 on SIGTERM")
        calls, ready = LOADS[k]
        insert_minutes(n.db(), "web", steady_history(8, minute_now() - 60000,
                                                     invocations=calls, ready=ready))
        nodes.append(n)
    return nodes


def runs(path):
    """[(node, count, unix ms)] of every scale_command run so far."""
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 3:
                out.append((p[0], int(p[1]), int(p[2])))
    return out


def check_own_recommendations(leader, followers):
    """Each follower applies the floor the leader forecast from that follower's own windows, and
    followers with different loads get different floors."""
    floors = {}
    for f in followers:
        mine = f.wait_for(lambda: (lambda ms: ms[0] if ms and ms[0]["hasForecast"] else None)(
            [m for m in leader.status()["members"] if m["node"] == f.name]), 20,
            "the leader's forecast for %s" % f.name)
        rec = f.wait_for(lambda: (lambda r: r if r and r["floor"] == mine["floor"] else None)(
            f.get_json("/api/blueprints")[0]["recommendation"]), 25,
            "follower %s applies the floor forecast for it (%s)" % (f.name, mine))
        floors[f.name] = rec["floor"]
    check(len(set(floors.values())) == len(floors),
          "followers with different loads get different floors: %s" % floors)
    print("per-member floors from the leader: %s" % floors)


def check_exec_handover(all_runs, old, new):
    """The new leader continues from the count the old one applied: its first scale_command
    run comes from a decision whose `from` is the last count the old leader ran. And no count
    is run twice in a row by two nodes."""
    last_old = max(i for i, r in enumerate(all_runs) if r[0] == old.name)
    ran = [d for d in new.get_json("/api/decisions?limit=1000")
           if d["result"].startswith("scale_command exit 0")]
    check(ran, "the new leader %s has a decision with its run" % new.name)
    first = ran[-1]  # newest first
    check(first["from"] == all_runs[last_old][1],
          "the new leader %s continues from %d, the count the old one ran: %s; runs %s"
          % (new.name, all_runs[last_old][1], first, all_runs))
    print("new leader's first run: %s -> %s (old leader's last: %s)"
          % (first["from"], first["to"], all_runs[last_old][1]))
    for a, b in zip(all_runs, all_runs[1:]):
        check(not (a[0] != b[0] and a[1] == b[1]),
              "the same change actuated by two nodes: %s then %s" % (a, b))


def push_hot(node):
    try:
        node.post("/api/metrics/web", {"values": {"invocations": HOT_CALLS * 60,
                                                  "event_count": HOT_CALLS * 60}})
    except OSError:
        pass


def etcd_binary():
    return os.environ.get("AETHER_ETCD") or shutil.which("etcd") or (
        "/usr/bin/etcd" if os.path.exists("/usr/bin/etcd") else None)


ETCD3_LEASE_MS = 5000  # covers etcd's own raft election when a member dies (docs/cluster.md)


def run_case(prefix, body):
    """Runs body(root, nodes, etcds) in a scratch directory; the nodes and etcd members it
    appends to the lists are stopped whatever happens. 0 = PASS, 1 = FAIL."""
    root = tempfile.mkdtemp(prefix=prefix)
    CREATED_DIRS.append(root)
    nodes, etcds = [], []
    try:
        body(root, nodes, etcds)
        print("PASS")
        cleanup()
        return 0
    except Failure as e:
        print("FAIL: %s\n(logs kept in %s and the nodes' directories)" % (e, root))
        return 1
    finally:
        for n in nodes:
            if n.proc is not None:
                try:
                    n.proc.send_signal(signal.SIGCONT)
                    n.stop(signal.SIGKILL)
                except (Failure, OSError):
                    pass
        for e in etcds:
            e.stop()


def etcd_member_down(root, nodes, etcds):
    """3-member etcd, the member every node talks to first killed: the same leader throughout,
    and the followers keep receiving fresh recommendations through the other two."""
    etcds += etcd_cluster(etcd_binary(), root, 3)
    nodes += make_nodes(root, [e.client for e in etcds], os.path.join(root, "runs.txt"),
                        ETCD3_LEASE_MS)
    for n in nodes:
        n.start()
    leader, took = wait_one_leader(nodes, 15)
    print("leader %s after %.2f s" % (leader, took))
    followers = [n for n in nodes if n.name != leader]
    for f in followers:
        f.wait_for(lambda: f.get_json("/api/blueprints")[0]["recommendation"], 25,
                   "the leader's recommendation on %s" % f.name)
    t_kill = int(time.time() * 1000)
    etcds[0].proc.send_signal(signal.SIGKILL)
    etcds[0].proc.wait()
    etcds[0].proc = None
    end = time.time() + 2 * ETCD3_LEASE_MS / 1000
    polls = 0
    while time.time() < end:
        ls = leaders(nodes)
        check(ls == [leader], "the leader %s keeps leading with one etcd member down: %s"
              % (leader, cluster_of(nodes)))
        polls += 1
        time.sleep(0.25)
    print("%s led throughout %d polls over %.0f s after etcd member e0 was killed"
          % (leader, polls, 2 * ETCD3_LEASE_MS / 1000))
    for f in followers:
        rec = f.wait_for(lambda: (lambda r: r if r and r["issued"] > t_kill else None)(
            f.get_json("/api/blueprints")[0]["recommendation"]), 25,
            "a recommendation issued after the kill on %s" % f.name)
        print("follower %s applies %s" % (f.name, rec))
    for n in nodes:
        doc = n.get_json("/api/cluster")
        check(doc["etcd"]["reachable"] is True, "%s reaches etcd: %s" % (n.name, doc))
        n.stop()


def etcd_post(etcd, path, doc, token=None):
    req = urllib.request.Request(etcd.client + path, data=json.dumps(doc).encode(),
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", token)
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def auth_node(root, etcd, name, user, password):
    """A node authenticating as user with password (None: no password file written)."""
    pw_file = os.path.join(root, name + ".pass")
    if password is not None:
        with open(pw_file, "w") as f:
            f.write(password + "\n")
        os.chmod(pw_file, 0o600)
    n = Node(ARGS.node, sections={
        "node": {"id": name},
        "cluster": {"etcd_endpoints": [etcd.client], "lease_ttl_ms": LEASE_MS,
                    "username": user, "password_file": pw_file}})
    n.name = name
    return n, pw_file


def etcd_with_auth(root, nodes, etcds):
    """etcd with authentication on: the node with the right password leads, the one with a wrong
    password is not the leader and says why, one whose password file is missing does not start
    and names the file."""
    etcd = Etcd(etcd_binary(), root)
    etcds.append(etcd)
    etcd.start()
    etcd_post(etcd, "/v3/auth/role/add", {"name": "root"})
    etcd_post(etcd, "/v3/auth/user/add", {"name": "root", "password": "s3cret"})
    etcd_post(etcd, "/v3/auth/user/grant", {"user": "root", "role": "root"})
    etcd_post(etcd, "/v3/auth/enable", {})
    good, _ = auth_node(root, etcd, "good", "root", "s3cret")
    bad, _ = auth_node(root, etcd, "bad", "root", "wrong")
    nodes += [good, bad]
    for n in nodes:
        n.start()
    leader, took = wait_one_leader(nodes, 10)
    check(leader == "good", "the node with the right password leads: %s" % cluster_of(nodes))
    print("leader %s after %.2f s with etcd authentication" % (leader, took))
    doc = bad.wait_for(lambda: (lambda d: d if d["etcd"]["error"] and "authentication failed"
                                in d["etcd"]["error"] else None)(
        bad.get_json("/api/cluster")), 10, "the wrong password reported")
    check(doc["role"] == "follower", "a node that cannot authenticate follows: %s" % doc)
    print("wrong password: %s" % doc["etcd"]["error"])
    missing, pw_file = auth_node(root, etcd, "missing", "root", None)
    missing.start(wait=False)
    rc = missing.proc.wait(10)
    missing.proc = None
    check(rc != 0 and pw_file in missing.log() and "cannot open" in missing.log(),
          "a missing password file stops the node, naming it (exit %s): %s"
          % (rc, missing.log()[-600:]))
    for n in nodes:
        n.stop()


def one_etcd(root, nodes, etcds):
    """One etcd: leadership, per-member recommendations, kill -9 failover, fencing across
    SIGSTOP/SIGCONT, etcd stopped and back."""
    etcd = Etcd(etcd_binary(), root)
    etcds.append(etcd)
    runs_file = os.path.join(root, "runs.txt")
    etcd.start()
    nodes += make_nodes(root, [etcd.client], runs_file)
    for n in nodes:
        n.start()

    # 1. exactly one leader; TTM RUNNING on it only; recommendations reach the followers
    leader, took = wait_one_leader(nodes, 10)
    print("leader %s after %.2f s" % (leader, took))
    for n in nodes:  # a node still in its first etcd round names no leader yet
        n.wait_for(lambda: n.get_json("/api/cluster")["leader"] == leader, 10,
                   "%s names the leader" % n.name)
    c = cluster_of(nodes)
    for name, doc in c.items():
        for key in ["enabled", "name", "role", "leader", "members", "leaseTtlMs", "etcd"]:
            check(key in doc, "%s /api/cluster has %s: %s" % (name, key, doc))
        check(doc["enabled"] is True and doc["leaseTtlMs"] == LEASE_MS, "%s" % doc)
        check(doc["leader"] == leader, "%s names the leader %s: %s" % (name, leader, doc))
        check(doc["etcd"]["reachable"] is True, "etcd reachable: %s" % doc)
    L = by_name(nodes, leader)
    L.wait_for(lambda: L.status()["hasForecast"], 20, "the leader's first forecast")
    check(L.status()["state"] == "RUNNING", "TTM RUNNING on the leader: %s" % L.status())
    followers = [n for n in nodes if n.name != leader]
    for f in followers:
        f.wait_for(lambda: len(f.get_json("/api/cluster")["members"]) == 3, 10, "3 members")
        s = f.wait_for(lambda: (lambda s: s if s["reason"] == "not the leader" else None)(
            f.status()), 10, "a follower's TTM stopped as not the leader")
        check(s["state"] == "STOPPED" and not s["hasForecast"], "follower TTM: %s" % s)
        rec = f.wait_for(lambda: f.get_json("/api/blueprints")[0]["recommendation"], 20,
                         "the leader's recommendation on follower %s" % f.name)
        check(rec["source"] == "leader", "follower %s applies the leader's: %s"
              % (f.name, rec))
        print("follower %s applies %s" % (f.name, rec))
    check_own_recommendations(L, followers)
    m = L.metrics()
    check(m.get(("aether_cluster_leader", frozenset())) == 1.0, "leader gauge on the leader")
    check(followers[0].metrics().get(("aether_cluster_leader", frozenset())) == 0.0,
          "leader gauge on a follower")

    # 2. kill -9 of the leader: a new leader within TTL + 5 s, forecasting at once
    t_kill = time.time()
    L.proc.send_signal(signal.SIGKILL)
    L.proc.wait()
    L.proc = None
    new, _ = wait_one_leader(followers, LEASE_MS / 1000 + 5)
    took = time.time() - t_kill
    print("new leader %s %.2f s after kill -9" % (new, took))
    N = by_name(nodes, new)
    s = N.wait_for(lambda: (lambda s: s if s["hasForecast"] else None)(N.status()),
                   TTM["evaluation_interval_ms"] / 1000 * 2 + 5, "the new leader's forecast")
    check(all(b["state"] == "FORECASTING" for b in s["blueprints"]),
          "new leader's first forecast without WAITING_FOR_HISTORY: %s" % s["blueprints"])
    # the other member's window came from etcd only: forecast in that same first evaluation
    other = [f for f in followers if f is not N][0]
    peers = [m for m in s["members"] if m["node"] == other.name]
    check(len(peers) == 1 and peers[0]["state"] == "FORECASTING"
          and peers[0]["forecastMs"] == s["lastEvaluation"]
          and peers[0]["historyMinutes"] >= TTM["input_window_minutes"],
          "the new leader's first evaluation forecasts %s from etcd: %s"
          % (other.name, s["members"]))
    print("new leader %s forecast %s from etcd at its first evaluation: %s"
          % (new, other.name, peers[0]))
    L.start()  # back as a follower

    # 3. SIGSTOP the leader past its lease: no scale_command run by it afterwards
    wait_one_leader(nodes, 10)
    leader = leaders(nodes)[0]
    P = by_name(nodes, leader)
    for _ in range(5):
        push_hot(P)
        time.sleep(1)
    P.wait_for(lambda: any(r[0] == P.name for r in runs(runs_file)), 15,
               "a scale_command run by the leader %s" % P.name)
    t_stop = int(time.time() * 1000)
    P.proc.send_signal(signal.SIGSTOP)
    others = [n for n in nodes if n is not P]
    new, _ = wait_one_leader(others, LEASE_MS / 1000 + 5)
    Q = by_name(nodes, new)
    Q.wait_for(lambda: push_hot(Q) or time.sleep(1) or any(r[0] == Q.name for r in runs(runs_file)),
               15, "a scale_command run by the new leader %s" % Q.name)
    P.proc.send_signal(signal.SIGCONT)
    for _ in range(4):
        push_hot(P)
        time.sleep(1)
    late = [r for r in runs(runs_file) if r[0] == P.name and r[2] > t_stop]
    check(not late, "runs by the paused old leader %s after its pause: %s" % (P.name, late))
    actors = sorted({r[0] for r in runs(runs_file)})
    check(set(actors) <= {P.name, Q.name}, "only leaders actuated: %s" % actors)
    check(any(r[0] == Q.name for r in runs(runs_file)), "the new leader %s actuated" % Q.name)
    print("runs: %s" % runs(runs_file))
    check_exec_handover(runs(runs_file), P, Q)
    check(P.get_json("/api/cluster")["role"] == "follower", "the old leader follows")

    # 4. etcd stopped: reactive scaling goes on; one leader again once it is back
    etcd.stop()
    time.sleep(LEASE_MS / 1000 * 1.5)
    for n in nodes:
        doc = n.get_json("/api/cluster")
        check(doc["role"] == "follower" and doc["etcd"]["reachable"] is False,
              "%s without etcd: %s" % (n.name, doc))
        check(doc["etcd"]["error"], "%s says why: %s" % (n.name, doc))
    before = {n.name: n.get_json("/api/blueprints")[0]["requested"] for n in nodes}
    for _ in range(5):
        for n in nodes:
            push_hot(n)
        time.sleep(1)
    after = {n.name: n.get_json("/api/blueprints")[0]["requested"] for n in nodes}
    for n in nodes:
        check(after[n.name] > before[n.name] or after[n.name] == 8,
              "%s scales reactively without etcd: %s -> %s"
              % (n.name, before[n.name], after[n.name]))
    etcd.start()
    leader, took = wait_one_leader(nodes, LEASE_MS / 1000 + 5)
    print("leader %s %.2f s after etcd returned" % (leader, took))
    for n in nodes:
        n.stop()


def main():
    etcd_bin = etcd_binary()
    if not etcd_bin:
        print("SKIP: no etcd binary (install etcd-server, or set AETHER_ETCD)")
        return 77
    if ARGS.case == "etcd3":
        return run_case("aether-cluster-etcd3-", etcd_member_down)
    if ARGS.case == "auth":
        return run_case("aether-cluster-auth-", etcd_with_auth)
    return run_case("aether-cluster-e2e-", one_etcd)

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--node", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--case", choices=["nodes", "etcd3", "auth"], default="nodes",
                    help="nodes: one etcd, failover, fencing, etcd down; etcd3: a 3-member etcd "
                    "with one member killed; auth: etcd with authentication")
    ARGS = ap.parse_args()
    sys.exit(main())
