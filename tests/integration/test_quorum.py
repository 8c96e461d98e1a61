"""test_quorum.py: a three-controller metadata quorum on loopback, real processes.

Three broker+controller nodes share one cluster id and controller.quorum.voters; timeouts are
tuned down (election 200 ms, fetch 600 ms) so the test runs in seconds.

- forms: exactly one node logs "active leader of epoch"; `sluice quorum describe` against the
  leader shows it as LeaderId with three voters and a high watermark;
- create_through_quorum: a topic created through the leader appears on every node (same topic id);
  a create through a follower fails with NOT_CONTROLLER;
- leader_kill: kill -9 of the leader elects another node (higher epoch) and creating a topic
  through it succeeds; the killed node restarts and catches up (both topics, same ids);
- restart_all: SIGTERM every node, start them again: every node lists the same topics with the
  same ids as before.

graceful_resign (fetch timeout 5 s): SIGTERM of the leader makes it resign (EndQuorumEpoch): it
logs "resigned", exits 0, and another node is active leader in a higher epoch within 2.5 s of
the signal, well before any follower's 5 s fetch timeout could have started an election.

initial_controllers: three nodes formatted with `sluice storage format --initial-controllers`
and only controller.quorum.bootstrap.servers (no static voters) take their voter set from the
bootstrap snapshot's VotersRecord: a leader is elected and a topic created through it reaches all.

wiped_follower_snapshot (snapshots every 2 KB of new records): a follower whose metadata is
wiped (dirs deleted, formatted again) catches up through FetchSnapshot (its log says "installed
snapshot"), lists every topic with the same ids, and `sluice metadata dump` shows the snapshot.
"""

import datetime
import os
import re
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

TUNED = {
    "controller.quorum.election.timeout.ms": "200",
    "controller.quorum.fetch.timeout.ms": "600",
    "controller.quorum.election.backoff.max.ms": "200",
    "controller.quorum.request.timeout.ms": "500",
}


class Cluster:
    def __init__(self, n=3, extra=None):
        self.nodes = []
        ports = []
        for i in range(n):
            ports.append(h.free_port(also_free_offset=1))
        voters = ",".join("%d@localhost:%d" % (i + 1, ports[i] + 1) for i in range(n))
        cfg = dict(TUNED)
        cfg.update(extra or {})
        cfg["controller.quorum.voters"] = voters
        cid = h.random_uuid()
        self.cluster_id = cid
        for i in range(n):
            node = h.Node(name="q%d" % (i + 1), node_id=i + 1, port=ports[i], extra=cfg)
            self.nodes.append(node)
            node.format(cid)

    def start(self):
        for node in self.nodes:
            node.start(wait=False)
        for node in self.nodes:
            node.wait_listening()

    def cleanup(self):
        for node in self.nodes:
            node.cleanup()

    def leader(self, exclude=(), min_epoch=0, timeout=30):
        """The node whose log last says it is the active leader (epoch >= min_epoch)."""
        def find():
            best = None
            for node in self.nodes:
                if node in exclude or not node.alive():
                    continue
                for line in node.log_lines():
                    m = re.search(r"active leader of epoch (\d+)", line)
                    if m and int(m.group(1)) >= min_epoch:
                        if best is None or int(m.group(1)) > best[1]:
                            best = (node, int(m.group(1)))
            return best
        return h.wait_for(find, "an active leader", timeout=timeout)


def log_time(line):
    """Seconds since the epoch of a log line's "2026-11-21T20:25:58.397Z" prefix."""
    dt = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def cli(node, *args):
    return h.run_cli(list(args) + ["--bootstrap-server", "localhost:%d" % node.port])


def topic_ids(node):
    """{name: topic id} from `sluice topic describe` on node."""
    rc, out, err = cli(node, "topic", "describe")
    if rc != 0:
        return None
    ids = {}
    for line in out.splitlines():
        m = re.search(r"Topic:\s*(\S+)\s+TopicId:\s*(\S+)", line)
        if m:
            ids[m.group(1)] = m.group(2)
    return ids


def create(node, name):
    return cli(node, "topic", "create", name, "--partitions", "2")


def wait_topics(node, want):
    """Waits until node lists every topic of want with the same id."""
    def ok():
        ids = topic_ids(node)
        return ids is not None and all(ids.get(k) == v for k, v in want.items())
    h.wait_for(ok, "node %d to list %s" % (node.node_id, sorted(want)))


def test_quorum_lifecycle():
    c = Cluster()
    try:
        c.start()
        leader, epoch = c.leader()
        # Exactly one active leader in that epoch.
        for node in c.nodes:
            if node is not leader:
                h.check(not any("active leader of epoch %d" % epoch in ln
                                for ln in node.log_lines()),
                        "two leaders in epoch %d" % epoch)
        rc, out, err = h.run_cli(["quorum", "describe", "--status", "--bootstrap-server",
                                  "localhost:%d" % leader.port])
        h.check(rc == 0, "quorum describe failed (%d): %s%s" % (rc, out, err))
        h.check(re.search(r"LeaderId:\s*%d\b" % leader.node_id, out) is not None,
                "quorum describe output:\n%s" % out)
        h.check(re.search(r"CurrentVoters:\s*\[.*1.*2.*3.*\]", out) is not None,
                "quorum describe voters:\n%s" % out)

        def replication_ok():
            rc, out, err = h.run_cli(["quorum", "describe", "--replication",
                                      "--bootstrap-server", "localhost:%d" % leader.port])
            rows = [ln.split() for ln in out.splitlines()[1:] if ln.strip()]
            states = sorted(r[-1] for r in rows)
            # Every voter listed, the followers caught up (lag 0) once they fetched.
            return rc == 0 and states == ["Follower", "Follower", "Leader"] and \
                all(r[3] == "0" for r in rows)
        h.wait_for(replication_ok, "quorum describe --replication: a leader, two caught-up "
                   "followers")

        # Topic creation goes through the quorum and reaches every node.
        rc, out, err = create(leader, "q-one")
        h.check(rc == 0, "create through the leader failed: %s%s" % (out, err))
        want = {"q-one": topic_ids(leader)["q-one"]}
        for node in c.nodes:
            wait_topics(node, want)
        follower = next(n for n in c.nodes if n is not leader)
        # A follower's broker forwards the request to the active controller (Envelope).
        rc, out, err = create(follower, "q-follower")
        h.check(rc == 0, "create through a follower: rc %d, %s%s" % (rc, out, err))
        want["q-follower"] = topic_ids(leader)["q-follower"]
        for node in c.nodes:
            wait_topics(node, want)

        # kill -9 of the leader: another node takes over in a higher epoch and commits.
        leader.stop(sig=signal.SIGKILL)
        t0 = time.monotonic()
        new_leader, new_epoch = c.leader(exclude=(leader,), min_epoch=epoch + 1)
        h.check(new_leader is not leader and new_epoch > epoch, "no new leader")

        def created():
            rc, out, err = create(new_leader, "q-two")
            return rc == 0 or "TOPIC_ALREADY_EXISTS" in (out + err)
        h.wait_for(created, "a topic created through the new leader")
        print("leader kill -> first commit through the new leader: %.0f ms" %
              ((time.monotonic() - t0) * 1000), flush=True)
        want["q-two"] = topic_ids(new_leader)["q-two"]
        leader.start()
        for node in c.nodes:
            wait_topics(node, want)

        # Restart every node: the same image everywhere.
        for node in c.nodes:
            h.check(node.stop() == 0, "node %d did not exit 0 on SIGTERM" % node.node_id)
        c.start()
        c.leader(min_epoch=new_epoch + 1)
        for node in c.nodes:
            wait_topics(node, want)
    finally:
        c.cleanup()


def test_graceful_resign():
    c = Cluster(extra={"controller.quorum.fetch.timeout.ms": "5000",
                       "controller.quorum.election.timeout.ms": "1000"})
    try:
        c.start()
        leader, epoch = c.leader()
        h.check(leader.stop() == 0, "the leader did not exit 0 on SIGTERM")
        h.check(any("resigned the leadership of epoch %d" % epoch in ln
                    for ln in leader.log_lines()), "no resignation:\n" + leader.logs())
        new_leader, new_epoch = c.leader(exclude=(leader,), min_epoch=epoch + 1, timeout=10)
        # From the old leader's "received SIGTERM" to the new leader's "active leader" line
        # (log timestamps: process exit time under sanitizers does not count).
        t_sig = next(log_time(ln) for ln in leader.log_lines() if "received SIGTERM" in ln)
        t_new = next(log_time(ln) for ln in new_leader.log_lines()
                     if "active leader of epoch %d" % new_epoch in ln)
        took = t_new - t_sig
        print("graceful resign -> new active leader: %.0f ms" % (took * 1000), flush=True)
        h.check(took < 2.5, "a new leader took %.1f s after the resignation" % took)
    finally:
        c.cleanup()


def test_initial_controllers():
    c = Cluster()
    try:
        cports = [n.controller_port for n in c.nodes]
        spec = ",".join("%d@localhost:%d:%s" % (n.node_id, n.controller_port, h.random_uuid())
                        for n in c.nodes)
        boot = ",".join("localhost:%d" % p for p in cports)
        for n in c.nodes:
            shutil.rmtree(n.logs_dir, ignore_errors=True)
            with open(n.config) as f:
                lines = [ln for ln in f if not ln.startswith("controller.quorum.voters=")]
            lines.append("controller.quorum.bootstrap.servers=%s\n" % boot)
            with open(n.config, "w") as f:
                f.writelines(lines)
            rc, out, err = h.run_cli(["storage", "format", "-t", c.cluster_id, "-c", n.config,
                                      "--initial-controllers", spec])
            h.check(rc == 0, "format -I failed (%d): %s%s" % (rc, out, err))
        c.start()
        leader, _ = c.leader()
        h.check(any("3 voters from the bootstrap snapshot" in ln for ln in leader.log_lines()),
                "voters not taken from the bootstrap snapshot:\n" + leader.logs())
        rc, out, err = create(leader, "ic-one")
        h.check(rc == 0, "create through the leader failed: %s%s" % (out, err))
        want = {"ic-one": topic_ids(leader)["ic-one"]}
        for node in c.nodes:
            wait_topics(node, want)
        # The first leader copied the voter set into the log (kraft.version 1).
        follower = next(n for n in c.nodes if n is not leader)
        h.check(follower.stop() == 0, "follower did not stop cleanly")
        rc, out, err = h.run_cli(["metadata", "dump", "--log-only", "-c", follower.config])
        h.check(rc == 0 and "KRaftVersion version=0 kraftVersion=1" in out and "Voters" in out
                and "LeaderChange" in out, "metadata dump (%d): %s%s" % (rc, out[-3000:], err))
    finally:
        c.cleanup()


def test_wiped_follower_snapshot():
    c = Cluster(extra={"metadata.log.max.record.bytes.between.snapshots": "2048"})
    try:
        c.start()
        leader, _ = c.leader()
        want = {}
        for i in range(12):
            rc, out, err = create(leader, "snap-%d" % i)
            h.check(rc == 0, "create snap-%d: %s%s" % (i, out, err))
        ids = topic_ids(leader)
        want = {k: v for k, v in ids.items() if k.startswith("snap-")}
        h.check(len(want) == 12, "leader lists %s" % sorted(ids))
        h.wait_for(lambda: any("snapshot" in ln and ".checkpoint" in ln
                               for ln in leader.log_lines()), "a snapshot on the leader")
        follower = next(n for n in c.nodes if n is not leader)
        h.check(follower.stop() == 0, "follower did not stop cleanly")
        shutil.rmtree(follower.logs_dir)
        follower.format(cluster_id=c.cluster_id)
        follower.start()
        wait_topics(follower, want)
        h.check(any("installed snapshot" in ln for ln in follower.log_lines()),
                "the wiped follower did not install a snapshot:\n" + follower.logs())
        rc, out, err = h.run_cli(["metadata", "dump", "--snapshots-only", "-c", follower.config])
        h.check(rc == 0 and "TopicRecord name=snap-0 " in out,
                "metadata dump of the follower (%d): %s%s" % (rc, out[-2000:], err))
    finally:
        c.cleanup()


if __name__ == "__main__":
    h.run([("quorum_lifecycle", test_quorum_lifecycle),
           ("graceful_resign", test_graceful_resign),
           ("initial_controllers", test_initial_controllers),
           ("wiped_follower_snapshot", test_wiped_follower_snapshot)])
