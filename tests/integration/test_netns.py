"""test_netns.py: network partitions between real Sluice processes, each in its own network
namespace with its own address (netns.py: veth onto a bridge, nftables drops; root needed).

minority_leader_cut (3 combined broker+controller nodes, tuned Raft timeouts): the active
leader is isolated from everybody. The other two elect a leader in a higher epoch and a topic
created through it commits and reaches the other majority node. For >= 3 s of isolation the cut
node never logs an "active leader" line for a newer epoch, its quorum-state leaderEpoch never
grows (pre-vote keeps it from bumping the epoch) and the topic it serves (asked from inside its
own namespace) does not include the new topic. After healing it follows the new leader in the
new epoch and serves the new topic with the same topic id.

broker_fenced (split deployment: controllers 1-3, brokers 4 and 5; broker.session.timeout.ms
3000, heartbeat 500 ms): once broker 4's Metadata lists both brokers, a topic with 2 partitions
and replication factor 1 gets one partition on each broker. Broker 5 is cut from the three
controllers (not from broker 4 or the client): within session timeout + 3 s broker 4's Metadata
no longer lists 5 and 5's partition has no leader. After healing, 5 is listed again within 10 s,
leads its partition again, and a record produced to that partition is consumed back.

Clients run in a client namespace: the sluice CLI through `ip netns exec`, confluent-kafka
constructed inside netns.Net.entered(). Everything is cleaned up (processes, namespaces) on
failure too; a watchdog bounds the file's run time.
"""

import json
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import netns  # noqa: E402

CLIENT = netns.CLIENT_INDEX
TUNED = {
    "controller.quorum.election.timeout.ms": "200",
    "controller.quorum.fetch.timeout.ms": "600",
    "controller.quorum.election.backoff.max.ms": "200",
    "controller.quorum.request.timeout.ms": "500",
}
ISOLATION_S = 3.0
WATCHDOG_S = 170

_live = {"nets": [], "nodes": []}


def _cleanup_all():
    for n in _live["nodes"]:
        try:
            n.cleanup()
        except Exception:  # noqa: BLE001
            pass
    for net in _live["nets"]:
        net.cleanup()


def _watchdog():
    def fire():
        print("WATCHDOG: test_netns exceeded %ds; cleaning up and failing" % WATCHDOG_S,
              flush=True)
        _cleanup_all()
        os._exit(1)
    t = threading.Timer(WATCHDOG_S, fire)
    t.daemon = True
    t.start()


def _on_sigterm(signum, frame):
    raise SystemExit("SIGTERM")  # unwinds through every finally (namespaces deleted)


class Cluster:
    """Nodes in one Net: specs = [(index, roles)]; voters = the indexes with the controller
    role; all formatted with one cluster id."""

    def __init__(self, specs, extra=None):
        self.net = netns.Net()
        _live["nets"].append(self.net)
        self.nodes = {}
        try:
            for i, _ in specs:
                self.net.add(i)
            self.net.add_client()
            voters = ",".join("%d@%s:9093" % (i, self.net.addr(i))
                              for i, roles in specs if "controller" in roles)
            cfg = dict(extra or {})
            cfg["controller.quorum.voters"] = voters
            cid = h.random_uuid()
            for i, roles in specs:
                node = netns.NsNode(self.net, i, name="ns%d" % i, roles=roles, extra=cfg)
                _live["nodes"].append(node)
                self.nodes[i] = node
                node.format(cid)
        except Exception:
            self.cleanup()
            raise

    def start(self):
        for node in self.nodes.values():
            node.start(wait=False)
        for node in self.nodes.values():
            node.wait_listening()

    def dump_logs(self):
        for i, node in self.nodes.items():
            sys.stdout.write("---- node %d log (tail) ----\n%s\n" % (i, node.logs()[-2500:]))
        sys.stdout.flush()

    def cleanup(self):
        for node in self.nodes.values():
            node.cleanup()
        self.net.cleanup()

    def leader(self, among, min_epoch=0, timeout=20):
        """(node, epoch): the node among `among` whose log names the highest epoch it is the
        active leader of (>= min_epoch)."""
        def find():
            best = None
            for node in among:
                if not node.alive():
                    continue
                for e in active_epochs(node):
                    if e >= min_epoch and (best is None or e > best[1]):
                        best = (node, e)
            return best
        return h.wait_for(find, "an active leader in epoch >= %d" % min_epoch, timeout=timeout)

    # ---- CLI from a namespace ----------------------------------------------------------------

    def cli(self, from_index, node, *args):
        return self.net.run_in(from_index, [h.SLUICE_BIN] + list(args) +
                               ["--bootstrap-server", node.bootstrap()])

    def topic_ids(self, from_index, node):
        """{name: topic id} from `sluice topic describe` against node, or None on error."""
        rc, out, err = self.cli(from_index, node, "topic", "describe")
        if rc != 0:
            return None
        return dict(re.findall(r"Topic:\s*(\S+)\s+TopicId:\s*(\S+)", out))


def active_epochs(node):
    return [int(m.group(1)) for m in
            (re.search(r"active leader of epoch (\d+)", ln) for ln in node.log_lines()) if m]


def quorum_epoch(node):
    """leaderEpoch of node's quorum-state file (the persisted Raft epoch), or None."""
    path = os.path.join(node.logs_dir, "__cluster_metadata-0", "quorum-state")
    try:
        with open(path) as f:
            return int(json.load(f)["leaderEpoch"])
    except (OSError, ValueError, KeyError):
        return None


# ---- A: a controller minority cannot elect a leader or commit -----------------------------------

def test_minority_leader_cut():
    c = Cluster([(i, "broker,controller") for i in (1, 2, 3)], extra=TUNED)
    try:
        c.start()
        all_nodes = list(c.nodes.values())
        old, epoch = c.leader(all_nodes)
        rc, out, err = c.cli(CLIENT, old, "topic", "create", "before-cut", "--partitions", "1")
        h.check(rc == 0, "create before the cut (%d): %s%s" % (rc, out, err))
        before_id = c.topic_ids(CLIENT, old)["before-cut"]
        for node in all_nodes:
            h.wait_for(lambda node=node: (c.topic_ids(CLIENT, node) or {}).get("before-cut") ==
                       before_id, "node %d to list before-cut" % node.node_id)
        old_qs = quorum_epoch(old)
        h.check(old_qs == epoch, "leader's quorum-state epoch %r, log says %d" % (old_qs, epoch))

        rest = [n for n in all_nodes if n is not old]
        c.net.isolate(old.index)
        t_cut = time.monotonic()
        h.check(not c.net.can_connect(CLIENT, old.index, 9092), "isolated node still reachable")
        new, new_epoch = c.leader(rest, min_epoch=epoch + 1, timeout=15)
        print("isolated leader %d (epoch %d) -> node %d active in epoch %d after %.0f ms" %
              (old.node_id, epoch, new.node_id, new_epoch, (time.monotonic() - t_cut) * 1000),
              flush=True)

        def created():
            rc, out, err = c.cli(CLIENT, new, "topic", "create", "during-cut", "--partitions", "1")
            return rc == 0 or "TOPIC_ALREADY_EXISTS" in out + err
        h.wait_for(created, "during-cut created through the new leader", timeout=10,
                   interval=0.2)
        during_id = c.topic_ids(CLIENT, new)["during-cut"]
        other = next(n for n in rest if n is not new)
        h.wait_for(lambda: (c.topic_ids(CLIENT, other) or {}).get("during-cut") == during_id,
                   "the other majority node to list during-cut")

        # The cut-off node: asked from inside its own namespace, over the whole isolation.
        samples = 0
        while time.monotonic() - t_cut < ISOLATION_S or samples < 3:
            h.check(old.alive(), "the isolated node died")
            qs = quorum_epoch(old)
            h.check(qs is not None and qs <= epoch,
                    "isolated node's quorum-state epoch went %d -> %r (pre-vote should stop "
                    "it)" % (epoch, qs))
            newer = [e for e in active_epochs(old) if e > epoch]
            h.check(not newer, "isolated node became active leader of epoch %s" % newer)
            ids = c.topic_ids(old.index, old)
            h.check(ids is not None and "before-cut" in ids,
                    "isolated node does not serve its topics: %r" % ids)
            h.check("during-cut" not in ids, "isolated node lists during-cut: %r" % ids)
            samples += 1
            time.sleep(0.2)

        c.net.heal_all()
        t_heal = time.monotonic()
        h.wait_for(lambda: (c.topic_ids(CLIENT, old) or {}).get("during-cut") == during_id,
                   "the healed node to list during-cut")
        cur, cur_epoch = c.leader(rest, min_epoch=new_epoch)
        pat = re.compile(r"follower in epoch (\d+), leader (\d+)")

        def follows():
            for ln in old.log_lines():
                m = pat.search(ln)
                if m and int(m.group(1)) >= new_epoch and int(m.group(2)) != old.node_id:
                    return ln
            return None
        h.wait_for(follows, "the healed node to follow epoch >= %d" % new_epoch)
        h.check(max(active_epochs(old)) == epoch, "the healed node led a newer epoch")
        print("healed -> node %d lists during-cut after %.0f ms; leader %d epoch %d" %
              (old.node_id, (time.monotonic() - t_heal) * 1000, cur.node_id, cur_epoch),
              flush=True)
        for node in all_nodes:
            h.check(node.alive(), "node %d died" % node.node_id)
        for node in all_nodes:  # SIGTERM reaches sluice through the namespace prefix
            rc = node.stop()
            h.check(rc == 0, "node %d exited %r on SIGTERM" % (node.node_id, rc))
    except Exception:
        c.dump_logs()
        raise
    finally:
        c.cleanup()


# ---- B: a broker cut off from the controllers is fenced and recovers ---------------------------

def metadata(c, broker):
    """(broker ids, {partition: (leader, error code)}) for topic "fence" via broker, or None."""
    from confluent_kafka.admin import AdminClient
    with c.net.entered(CLIENT):
        admin = AdminClient({"bootstrap.servers": broker.bootstrap(),
                             "topic.metadata.refresh.interval.ms": 500})
    try:
        md = admin.list_topics(timeout=3)
    except Exception:  # noqa: BLE001 - a poll that failed is a "not yet"
        return None
    parts = {}
    t = md.topics.get("fence")
    if t is not None:
        for p, pm in t.partitions.items():
            parts[p] = (pm.leader, pm.error.code() if pm.error is not None else 0)
    return sorted(md.brokers), parts


def wait_md(c, broker, pred, what, timeout):
    """Polls broker's metadata until pred(md) holds; returns md. The failure names the last
    Metadata seen."""
    last = {}

    def poll():
        md = metadata(c, broker)
        last["md"] = md
        return md if md is not None and pred(md) else None
    try:
        return h.wait_for(poll, what, timeout=timeout, interval=0.3)
    except h.TestFailure as e:
        raise h.TestFailure("%s; last Metadata (brokers, {partition: (leader, error)}): %r" %
                            (e, last.get("md"))) from None


def create_fence_topic(c, broker):
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic
    with c.net.entered(CLIENT):
        admin = AdminClient({"bootstrap.servers": broker.bootstrap()})
    deadline = time.monotonic() + 10
    while True:
        fs = admin.create_topics([NewTopic("fence", 2, 1)], operation_timeout=10,
                                 request_timeout=10)
        try:
            fs["fence"].result(timeout=15)
            return
        except KafkaException as e:
            # NOT_CONTROLLER (41) while the quorum or the broker's registration settles.
            if e.args[0].code() != 41 or time.monotonic() > deadline:
                raise h.TestFailure("CreateTopics fence (2 partitions, RF 1) through broker "
                                    "%d: %s" % (broker.node_id, e.args[0]))
            time.sleep(0.3)


def test_broker_fenced():
    specs = [(1, "controller"), (2, "controller"), (3, "controller"), (4, "broker"),
             (5, "broker")]
    extra = dict(TUNED)
    extra.update({"broker.session.timeout.ms": "3000", "broker.heartbeat.interval.ms": "500"})
    c = Cluster(specs, extra=extra)
    try:
        c.start()
        a, b = c.nodes[4], c.nodes[5]
        controllers = [c.nodes[i] for i in (1, 2, 3)]
        c.leader(controllers)
        wait_md(c, a, lambda m: m[0] == [4, 5], "broker 4's Metadata to list brokers 4 and 5",
                timeout=20)
        create_fence_topic(c, a)
        md = wait_md(c, a, lambda m: len(m[1]) == 2 and all(e == 0 for _, e in m[1].values()),
                     "fence's 2 partitions with leaders in broker 4's Metadata", timeout=15)
        leaders = {p: ld for p, (ld, _) in md[1].items()}
        h.check(sorted(leaders.values()) == [4, 5],
                "replication factor 1 over 2 brokers: leaders %r, expected one on each" % leaders)
        p_b = next(p for p, ld in leaders.items() if ld == 5)

        for ctl in controllers:
            c.net.cut(b.index, ctl.index)
        t_cut = time.monotonic()
        h.check(c.net.can_connect(CLIENT, b.index, 9092), "broker 5 must stay reachable")
        h.check(not c.net.can_connect(b.index, 1, 9093), "broker 5 still reaches controller 1")

        m = wait_md(c, a, lambda m: 5 not in m[0] and m[1].get(p_b, (None,))[0] == -1,
                    "broker 4's Metadata to drop broker 5 and leave partition %d leaderless" %
                    p_b, timeout=3.0 + 3.0)
        print("cut -> broker 5 fenced in broker 4's Metadata after %.0f ms (partition %d: "
              "leader %d error %d)" % ((time.monotonic() - t_cut) * 1000, p_b, m[1][p_b][0],
                                       m[1][p_b][1]), flush=True)
        h.check(m[1][p_b][1] == 5, "leaderless partition error %d, expected "
                "LEADER_NOT_AVAILABLE (5)" % m[1][p_b][1])

        c.net.heal_all()
        t_heal = time.monotonic()

        wait_md(c, a, lambda m: m[0] == [4, 5] and m[1].get(p_b) == (5, 0),
                "broker 5 listed and leading partition %d again" % p_b, timeout=10)
        print("heal -> broker 5 back after %.0f ms" % ((time.monotonic() - t_heal) * 1000),
              flush=True)

        from confluent_kafka import Consumer, Producer, TopicPartition
        with c.net.entered(CLIENT):
            prod = Producer({"bootstrap.servers": a.bootstrap(), "message.timeout.ms": 10000})
        reports = []
        prod.produce("fence", value=b"after-heal", partition=p_b,
                     on_delivery=lambda err, msg: reports.append(err))
        h.check(prod.flush(15) == 0 and reports == [None],
                "produce to partition %d: delivery reports %r" % (p_b, reports))
        with c.net.entered(CLIENT):
            cons = Consumer({"bootstrap.servers": a.bootstrap(), "group.id": "netns",
                             "enable.auto.commit": False, "fetch.wait.max.ms": 100})
        try:
            cons.assign([TopicPartition("fence", p_b, 0)])
            got = None
            deadline = time.monotonic() + 10
            while got is None and time.monotonic() < deadline:
                msg = cons.poll(0.5)
                if msg is not None:
                    h.check(msg.error() is None, "consume error %s" % msg.error())
                    got = msg.value()
            h.check(got == b"after-heal", "consumed %r from partition %d" % (got, p_b))
        finally:
            cons.close()
        for node in c.nodes.values():
            h.check(node.alive(), "node %d died" % node.node_id)
    except Exception:
        c.dump_logs()
        raise
    finally:
        c.cleanup()


if __name__ == "__main__":
    netns.require()
    _watchdog()
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        h.run([("minority_leader_cut", test_minority_leader_cut),
               ("broker_fenced", test_broker_fenced)])
    finally:
        _cleanup_all()
