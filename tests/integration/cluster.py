"""cluster.py: multi-node Sluice clusters on loopback for the integration tests (issue 6).

Cluster(split=True) runs 3 controller-only nodes (ids 1..3, voters) and 3 broker-only nodes
(ids 4..6); Cluster(split=False) runs 3 broker+controller nodes (ids 1..3). Every node listens on
127.0.0.1 only and advertises 127.0.0.1:<port>, is formatted with one cluster id and shares
controller.quorum.voters. Raft and broker-session timeouts are tuned down (TUNED) so elections,
registration and fencing take well under a second or a few seconds.

Also: a raw Metadata v10 client (metadata(port)) that asks exactly one broker (a client
library would spread its requests over every broker it learned of), and the active controller
found from the "active leader of epoch N" log lines.
"""

import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

HOST = "127.0.0.1"
SESSION_TIMEOUT_MS = 3000
TUNED = {
    "controller.quorum.election.timeout.ms": "200",
    "controller.quorum.fetch.timeout.ms": "600",
    "controller.quorum.election.backoff.max.ms": "200",
    "controller.quorum.request.timeout.ms": "500",
    "broker.session.timeout.ms": str(SESSION_TIMEOUT_MS),
    "broker.heartbeat.interval.ms": "300",
}

ERR_LEADER_NOT_AVAILABLE = 5
ERR_REQUEST_TIMED_OUT = 7
ERR_TOPIC_ALREADY_EXISTS = 36
ERR_NOT_CONTROLLER = 41


class Cluster:
    """Three controllers and three brokers (split) or three combined nodes, not started."""

    def __init__(self, split=True, extra=None, name="cl"):
        self.split = split
        self.nodes = []
        self.controllers = []
        self.brokers = []
        n_ctl = 3
        ports = [h.free_port(also_free_offset=1) for _ in range(n_ctl)]
        # Node puts the CONTROLLER listener on port + 1.
        self.voters = ",".join("%d@%s:%d" % (i + 1, HOST, ports[i] + 1) for i in range(n_ctl))
        cfg = dict(TUNED)
        cfg.update(extra or {})
        cfg["controller.quorum.voters"] = self.voters
        self.cluster_id = h.random_uuid()
        try:
            roles = "controller" if split else "broker,controller"
            for i in range(n_ctl):
                node = h.Node(name="%s-%s%d" % (name, "c" if split else "n", i + 1),
                              node_id=i + 1, roles=roles, port=ports[i], extra=cfg,
                              host=HOST)
                self.nodes.append(node)
                self.controllers.append(node)
                if not split:
                    self.brokers.append(node)
            if split:
                for i in range(3):
                    node = h.Node(name="%s-b%d" % (name, n_ctl + i + 1), node_id=n_ctl + i + 1,
                                  roles="broker", extra=cfg, host=HOST)
                    self.nodes.append(node)
                    self.brokers.append(node)
            for node in self.nodes:
                node.format(self.cluster_id)
        except Exception:
            self.cleanup()
            raise

    def start(self):
        """Starts every node and waits until every broker listens (it opens its broker
        listener only once the controller unfenced it) and every controller listens."""
        for node in self.nodes:
            node.start(wait=False)
        for node in self.controllers:
            node.wait_listening(node.controller_port)
        for node in self.brokers:
            node.wait_listening(node.port)
        return self

    def cleanup(self):
        for node in self.nodes:
            node.cleanup()

    def broker(self, node_id):
        return next(b for b in self.brokers if b.node_id == node_id)

    def restart(self, node, timeout=h.DEADLINE_S):
        """Starts a stopped node again (after its ports are released) and waits until it
        listens."""
        h.wait_port_free(node.controller_port if node in self.controllers else node.port)
        if node in self.brokers:
            h.wait_port_free(node.port)
        node.start(wait=False)
        if node in self.controllers:
            node.wait_listening(node.controller_port)
        if node in self.brokers:
            node.wait_listening(node.port)

    def ensure_all_alive(self):
        """Restarts any node a failed earlier test left stopped."""
        for node in self.nodes:
            if not node.alive():
                if node.log_file:
                    node.log_file.close()
                    node.log_file = None
                self.restart(node)

    def active_controller(self, exclude=(), min_epoch=0, timeout=30):
        """(node, epoch): the live controller whose log names it active leader in the highest
        epoch >= min_epoch."""
        def find():
            best = None
            for node in self.controllers:
                if node in exclude or not node.alive():
                    continue
                for line in node.log_lines():
                    m = re.search(r"active leader of epoch (\d+)", line)
                    if m and int(m.group(1)) >= min_epoch:
                        if best is None or int(m.group(1)) > best[1]:
                            best = (node, int(m.group(1)))
            # A node that lost an election later must not count: take the highest epoch seen
            # in any live controller's log and require the winner to be from that epoch.
            if best is None:
                return None
            top = max_epoch_seen(self.controllers, exclude)
            return best if best[1] >= top else None
        return h.wait_for(find, "an active controller", timeout=timeout)

    def bootstrap(self, node):
        return "%s:%d" % (HOST, node.port)


def max_epoch_seen(nodes, exclude=()):
    top = 0
    for node in nodes:
        if node in exclude or not node.alive():
            continue
        for line in node.log_lines():
            m = re.search(r"active leader of epoch (\d+)", line)
            if m:
                top = max(top, int(m.group(1)))
    return top


# ---- raw Metadata v10 against one broker ------------------------------------------------------

class Metadata:
    """brokers: {id: (host, port, rack)}; topics: {name: Topic}; cluster_id, controller_id."""

    def __init__(self):
        self.brokers = {}
        self.topics = {}
        self.cluster_id = None
        self.controller_id = None


class Topic:
    def __init__(self, error, name, topic_id):
        self.error = error
        self.name = name
        self.topic_id = topic_id
        self.partitions = {}  # index: Partition


class Partition:
    def __init__(self, error, index, leader, leader_epoch, replicas, isr, offline):
        self.error = error
        self.index = index
        self.leader = leader
        self.leader_epoch = leader_epoch
        self.replicas = replicas
        self.isr = isr
        self.offline = offline

    def key(self):
        return (self.error, self.index, self.leader, tuple(self.replicas), tuple(self.isr))


def metadata(port, topics=None, timeout=10.0):
    """One Metadata v10 request to 127.0.0.1:port (topics None: every topic)."""
    body = h.compact_array(None if topics is None else
                           [b"\x00" * 16 + h.compact_str(t) + b"\x00" for t in topics])
    body += b"\x00"  # allow_auto_topic_creation false
    body += b"\x00\x00"  # include cluster / topic authorized operations
    body += b"\x00"  # tagged fields
    with h.connect(port, timeout=timeout) as s:
        r = h.kafka_call(s, 3, 10, body, flexible=True)
    md = Metadata()
    r.i32()  # throttle
    for _ in range(r.compact_len()):
        node_id = r.i32()
        host = r.compact_string()
        bport = r.i32()
        rack = r.compact_string()
        r.tagged()
        md.brokers[node_id] = (host, bport, rack)
    md.cluster_id = r.compact_string()
    md.controller_id = r.i32()
    for _ in range(r.compact_len()):
        err = r.i16()
        name = r.compact_string()
        t = Topic(err, name, r.uuid().hex())
        r.boolean()  # is_internal
        for _ in range(max(r.compact_len(), 0)):
            perr = r.i16()
            index = r.i32()
            leader = r.i32()
            epoch = r.i32()
            lists = []
            for _ in range(3):
                lists.append([r.i32() for _ in range(max(r.compact_len(), 0))])
            r.tagged()
            t.partitions[index] = Partition(perr, index, leader, epoch, *lists)
        r.i32()  # topic authorized operations
        r.tagged()
        md.topics[name] = t
    r.tagged()
    return md


def try_metadata(port, topics=None):
    """metadata(), or None when the broker does not answer (down, or closing)."""
    try:
        return metadata(port, topics, timeout=3.0)
    except (OSError, h.TestFailure):
        return None


def image(md, prefix=""):
    """A comparable summary of a Metadata answer: brokers and the topics named prefix*."""
    return (sorted(md.brokers.items()),
            sorted((t.name, t.error, t.topic_id,
                    tuple(p.key() for _, p in sorted(t.partitions.items())))
                   for t in md.topics.values() if t.name.startswith(prefix)))


def leaders(md, topic):
    """{partition: leader id} of topic in md."""
    return {i: p.leader for i, p in md.topics[topic].partitions.items()}


def cli(node, *args, timeout=60):
    """`sluice ARGS --bootstrap-server 127.0.0.1:<broker port>`."""
    return h.run_cli(list(args) + ["--bootstrap-server", "%s:%d" % (HOST, node.port)],
                     timeout=timeout)


def kcat(node, args, timeout=60):
    p = subprocess.run(["kcat", "-b", "%s:%d" % (HOST, node.port)] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def wait_exit(node, timeout=h.DEADLINE_S):
    """Waits for a node already sent a signal to exit (a second SIGTERM would skip the
    controlled shutdown); returns its exit code. Signal 0 only probes the process."""
    return node.stop(sig=0, timeout=timeout)


def kill9(node):
    node.stop(sig=signal.SIGKILL)
