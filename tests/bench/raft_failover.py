#!/usr/bin/python3
"""raft_failover.py: controller failover time of a three-voter quorum on loopback.

For each timeout profile (Kafka's defaults, then tuned ones) it starts three broker+controller
nodes, then KILLS times: kill -9 the active leader, and measure
  - kill -> new leader active: the "active leader of epoch N" log line of the next leader
    (log timestamps, ms) minus the kill time;
  - kill -> first commit: a client creating a topic through every live node in turn until one
    succeeds (the answer comes after the records committed on the new leader);
then restart the killed node (and wait until it follows) before the next round.
Prints p50/p99/max per profile. Usage: raft_failover.py [--kills N] [--sluice PATH]
"""

import argparse
import datetime
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
os.environ.setdefault("SLUICE_BIN", os.path.join(HERE, "..", "..", "build", "sluice"))
os.environ.setdefault("SLUICE_SOURCE_DIR", os.path.join(HERE, "..", ".."))
import harness as h  # noqa: E402

PROFILES = [
    ("default (election 1000 ms, fetch 2000 ms)", {}),
    ("tuned (election 100 ms, fetch 250 ms)", {
        "controller.quorum.election.timeout.ms": "100",
        "controller.quorum.fetch.timeout.ms": "250",
        "controller.quorum.election.backoff.max.ms": "100",
        "controller.quorum.request.timeout.ms": "500",
        "controller.quorum.retry.backoff.ms": "10",
    }),
]


def log_time(line):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z", line)
    if not m:
        return None
    dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def leader_lines(node):
    out = []
    for line in node.log_lines():
        m = re.search(r"active leader of epoch (\d+)", line)
        if m:
            out.append((int(m.group(1)), log_time(line)))
    return out


def current_leader(nodes, min_epoch):
    best = None
    for node in nodes:
        if not node.alive():
            continue
        for epoch, t in leader_lines(node):
            if epoch >= min_epoch and (best is None or epoch > best[1]):
                best = (node, epoch, t)
    return best


def describe_leader(nodes):
    """The node that answers DescribeQuorum as the leader (LeaderId == its node id), or None."""
    for node in nodes:
        if not node.alive():
            continue
        rc, out, err = h.run_cli(["quorum", "describe", "--bootstrap-server",
                                  "localhost:%d" % node.port, "--timeout-ms", "2000"])
        m = re.search(r"LeaderId:\s*(\d+)", out)
        if rc == 0 and m and int(m.group(1)) == node.node_id:
            return node
    return None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def run_profile(name, extra, kills):
    ports = [h.free_port(also_free_offset=1) for _ in range(3)]
    voters = ",".join("%d@localhost:%d" % (i + 1, ports[i] + 1) for i in range(3))
    cfg = dict(extra)
    cfg["controller.quorum.voters"] = voters
    cid = h.random_uuid()
    nodes = [h.Node(name="fo%d" % (i + 1), node_id=i + 1, port=ports[i], extra=cfg)
             for i in range(3)]
    elect, commit = [], []
    try:
        for n in nodes:
            n.format(cid)
        for n in nodes:
            n.start(wait=False)
        for n in nodes:
            n.wait_listening()
        leader = h.wait_for(lambda: current_leader(nodes, 0), "a leader", timeout=60)
        for k in range(kills):
            # Kill the node that really leads now (DescribeQuorum answers only on the leader).
            node = h.wait_for(lambda: describe_leader(nodes), "a leader answering DescribeQuorum")
            epoch = max(e for e, _ in leader_lines(node))
            t_kill = time.time()
            node.proc.send_signal(signal.SIGKILL)
            node.proc.wait()
            done = None
            i = 0
            while done is None and time.time() - t_kill < 60:
                target = [n for n in nodes if n.alive()][i % 2]
                i += 1
                rc, out, err = h.run_cli(["topic", "create", "fo-%d" % k, "--bootstrap-server",
                                          "localhost:%d" % target.port, "--timeout-ms", "2000"])
                if rc == 0 or "TOPIC_ALREADY_EXISTS" in out + err:
                    done = time.time()
            if done is None:
                raise h.TestFailure("no commit within 60 s of killing the leader")
            commit.append((done - t_kill) * 1000)
            new = h.wait_for(lambda: current_leader(nodes, epoch + 1), "new leader", timeout=60)
            elect.append((new[2] - t_kill) * 1000)
            node.log_file.close()
            node.log_file = None
            node.start()
            leader = new
            time.sleep(0.5)  # let the restarted node catch up and follow
        print("%s, %d kills:" % (name, kills))
        for what, xs in (("kill -> new leader active", elect), ("kill -> first commit", commit)):
            print("  %-27s p50 %6.0f ms  p99 %6.0f ms  max %6.0f ms" %
                  (what, pct(xs, 50), pct(xs, 99), max(xs)))
        sys.stdout.flush()
    finally:
        for n in nodes:
            n.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--sluice")
    a = ap.parse_args()
    if a.sluice:
        h.SLUICE_BIN = a.sluice
    for name, extra in PROFILES:
        run_profile(name, extra, a.kills)


if __name__ == "__main__":
    main()
