"""test_cluster_kafkajs.py: kafkajs (Node.js) against a split cluster on loopback (issue 6).

One split cluster (controllers 1-3, brokers 4-6; cluster.py) is shared by the steps in order.
Every kafkajs client bootstraps from ONE broker (kafkajs_cluster.js) and learns the others from
Metadata; kafkajs sends CreateTopics/DeleteTopics to the broker Metadata names as controller,
which in a split cluster is a broker-only node: it forwards them to the active controller.

- create_produce (bootstrap broker 4): describeCluster lists brokers 4, 5, 6 at their
  advertised 127.0.0.1:port, the cluster id, and a controller id that is one of them;
  createTopics (6 and 3 partitions, and 2 placed by hand on brokers 4 and 6) resolves true;
  fetchTopicMetadata shows two leaders on each broker (one each for the 3-partition topic), as
  every broker's own Metadata does; a producer with acks -1 sends 20 records to every
  partition in 4 sends, each answered with the next base offset.
- consume_other_broker: kafkajs has no consumer without a group (Sluice has none), so kcat reads
  everything back bootstrapping from broker 5: every record exactly once, in order.
- delete_topic (bootstrap broker 6): describeCluster agrees; deleteTopics resolves; listTopics
  and every broker's Metadata lose the topic (UNKNOWN_TOPIC_OR_PARTITION when asked by name),
  the other topics stay, and the partition dirs leave the leaders.
- kill_broker: kill -9 of broker 5 under a kafkajs producer warmed up before it: producing to
  the partitions of brokers 4 and 6 still works, producing to broker 5's fails with a retriable
  error (connection refused) or times out. Once broker 5 is fenced (leader -1), a fresh
  producer gets LEADER_NOT_AVAILABLE (retriable) for its partition and still produces to the
  topic placed on brokers 4 and 6. (kafkajs fails any Metadata answer holding a partition
  error, so while a partition is leaderless it cannot produce to ANY partition of that topic,
  nor run describeCluster, which asks for every topic: a client limitation, as with Kafka.)
  Restarted, broker 5 leads its partition again and producing to it continues its old offsets;
  kcat from broker 6 reads every partition exactly once, in order.
- stop: SIGTERM, brokers then controllers, each exits 0.
"""

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster as C  # noqa: E402
import harness as h  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SPREAD = "kjs-spread"
SPREAD_PARTITIONS = 6
PER_PARTITION = 20
SENDS = 4  # PER_PARTITION records per partition in this many producer.send() calls
KILL = "kjs-kill"
KILL_PARTITIONS = 3
KILL_BATCH = 5
# Two partitions placed by hand on brokers 4 and 6 (CreateTopics replica assignments).
LIVE = "kjs-live"
LIVE_ASSIGNMENT = {0: 4, 1: 6}
ERR_UNKNOWN_TOPIC_OR_PARTITION = 3
# After the session timeout: the controller's tick, a commit and the observer's fetch.
FENCE_SLACK_S = 5.0
# What kafkajs' retriers wrap a retriable error in once they give up.
WRAPPERS = {"KafkaJSNumberOfRetriesExceeded", "KafkaJSNonRetriableError"}
# Root causes of a failed send to a dead leader: the connection is refused (Metadata still
# names it), or Metadata already says LEADER_NOT_AVAILABLE (fenced: leader -1).
DEAD_LEADER = {"KafkaJSConnectionError", "KafkaJSConnectionClosedError",
               "KafkaJSRequestTimeoutError", "LEADER_NOT_AVAILABLE"}
STATE = {}
ALL_NODES = []


def the_cluster():
    c = STATE.get("cluster")
    h.check(c is not None, "the split cluster did not start")
    return c


def dump_logs(c, tail=3000):
    for node in c.nodes:
        sys.stdout.write("---- node %d log (tail) ----\n%s\n" % (node.node_id, node.logs()[-tail:]))
    sys.stdout.flush()


def with_logs(fn):
    def step():
        c = the_cluster()
        try:
            c.ensure_all_alive()
            fn(c)
        except Exception:
            dump_logs(c)
            raise
    return step


def kafkajs(node, ops, timeout=60):
    """Runs kafkajs_cluster.js bootstrapping from node only; returns its per-op results."""
    return kafkajs_wait(kafkajs_start(node, ops, timeout), timeout)


def kafkajs_start(node, ops, timeout=60):
    """Starts kafkajs_cluster.js bootstrapping from node only; kafkajs_wait() collects it."""
    h.check(os.path.isdir(os.path.join(HERE, "node_modules", "kafkajs")),
            "npm module kafkajs missing: run scripts/deps.sh (npm install in %s)" % HERE)
    env = dict(os.environ, KAFKAJS_SCRIPT_TIMEOUT_MS=str(int(timeout * 1000) - 2000))
    with tempfile.TemporaryFile("w+") as f:
        f.write(json.dumps(ops))
        f.seek(0)
        proc = subprocess.Popen(["node", os.path.join(HERE, "kafkajs_cluster.js"),
                                 "%s:%d" % (C.HOST, node.port)],
                                stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=HERE, env=env)
    proc.ops = ops
    proc.node_id = node.node_id
    return proc


def kafkajs_wait(proc, timeout=60):
    """The per-op results of a kafkajs_start() script; kills it on any failure."""
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    h.check(proc.returncode == 0, "kafkajs_cluster.js via broker %d failed (%d): %s" %
            (proc.node_id, proc.returncode, err[-3000:]))
    res = json.loads(out.strip().splitlines()[-1])
    h.check(len(res) == len(proc.ops), "kafkajs_cluster.js: %d results for %d ops" %
            (len(res), len(proc.ops)))
    return res


def ok(res, what):
    h.check(res.get("ok") is True, "%s failed: %r" % (what, res))
    return res.get("value")  # absent when the promise resolved to undefined


def rec(topic, part, i):
    return ("%s-k%d-%d" % (topic, part, i), "%s value %d/%d" % (topic, part, i))


def produce_op(topic, parts, first, count, sends=1, guard_ms=30000):
    """A produce op: records first..first+count-1 of every partition in parts, in `sends`
    producer.send() calls, each with count/sends records of every partition."""
    per = count // sends
    batches = []
    for s in range(sends):
        batch = []
        for p in parts:
            for i in range(first + s * per, first + (s + 1) * per):
                k, v = rec(topic, p, i)
                batch.append({"partition": p, "key": k, "value": v})
        batches.append(batch)
    return {"op": "produce", "topic": topic, "acks": -1, "batches": batches, "guardMs": guard_ms}


def check_sent(res, parts, first, count, sends, what):
    """The send results of produce_op(): every batch answered for every partition, no error,
    base offsets first, first + count/sends, ..."""
    out = ok(res, what)
    per = count // sends
    h.check(len(out) == sends, "%s: %d send results, want %d" % (what, len(out), sends))
    for s, batch in enumerate(out):
        got = sorted((r["partition"], r["baseOffset"], r["errorCode"]) for r in batch)
        want = sorted((p, str(first + s * per), 0) for p in parts)
        h.check(got == want, "%s send %d: results %r, want %r" % (what, s, got, want))


def check_describe(c, res, what):
    d = ok(res, what)
    want = sorted((b.node_id, C.HOST, b.port) for b in c.brokers)
    got = sorted((b["nodeId"], b["host"], b["port"]) for b in d["brokers"])
    h.check(got == want, "%s: brokers %r, want %r" % (what, got, want))
    h.check(d["clusterId"] == c.cluster_id, "%s: cluster id %r, want %r" %
            (what, d["clusterId"], c.cluster_id))
    h.check(d["controller"] in [b.node_id for b in c.brokers],
            "%s: controller %r is not one of the brokers %r" %
            (what, d["controller"], [b.node_id for b in c.brokers]))
    return d


def js_leaders(md, topic):
    t = next((t for t in md["topics"] if t["name"] == topic), None)
    h.check(t is not None, "kafkajs metadata lacks %s: %r" % (topic, md))
    for p in t["partitions"]:
        h.check(p["partitionErrorCode"] == 0, "kafkajs metadata %s-%d: error %d" %
                (topic, p["partitionId"], p["partitionErrorCode"]))
    return {p["partitionId"]: p["leader"] for p in t["partitions"]}


def raw_leaders_everywhere(c, topic, want):
    """Waits until every broker's own Metadata shows topic with the leaders `want`."""
    def same():
        for b in c.brokers:
            md = C.try_metadata(b.port, [topic])
            t = md and md.topics.get(topic)
            if t is None or t.error != 0 or C.leaders(md, topic) != want or \
                    any(p.error != 0 for p in t.partitions.values()):
                return False
        return True
    h.wait_for(same, "every broker's Metadata to show %s led by %r" % (topic, want), timeout=10)


def kcat_read(node, topic):
    """{partition: [(offset, key, value)]} of every partition, read bootstrapping from node."""
    rc, out, err = C.kcat(node, ["-C", "-t", topic, "-o", "beginning", "-e", "-q",
                                 "-f", "%p\t%o\t%k\t%s\n"])
    h.check(rc == 0, "kcat -C %s via broker %d failed (%d): %s" % (topic, node.node_id, rc, err))
    per = collections.defaultdict(list)
    for line in out.splitlines():
        part, off, k, v = line.split("\t")
        per[int(part)].append((int(off), k, v))
    return per


def check_read(per, topic, counts, what):
    """per holds exactly records 0..counts[p]-1 of each partition p, at offsets 0.., once."""
    h.check(sorted(per) == sorted(counts), "%s: partitions %r, want %r" %
            (what, sorted(per), sorted(counts)))
    for p, n in sorted(counts.items()):
        want = [(i,) + rec(topic, p, i) for i in range(n)]
        h.check(per[p] == want, "%s partition %d: %d records %r..., want %d" %
                (what, p, len(per[p]), per[p][:3], n))


# ---- steps ------------------------------------------------------------------------------------

def test_start():
    c = C.Cluster(split=True, name="kj")
    ALL_NODES.extend(c.nodes)
    STATE["cluster"] = c
    t0 = time.monotonic()
    try:
        c.start()
        want = {b.node_id: (C.HOST, b.port, None) for b in c.brokers}
        for b in c.brokers:
            h.wait_for(lambda b=b: (C.try_metadata(b.port) or C.Metadata()).brokers == want,
                       "broker %d to list brokers %r" % (b.node_id, sorted(want)), timeout=10)
        print("split cluster up in %.1f s" % (time.monotonic() - t0), flush=True)
    except Exception:
        dump_logs(c)
        raise


def test_create_produce(c):
    b4 = c.broker(4)
    res = kafkajs(b4, [
        {"op": "describeCluster"},
        {"op": "create", "topics": [
            {"topic": SPREAD, "numPartitions": SPREAD_PARTITIONS},
            {"topic": KILL, "numPartitions": KILL_PARTITIONS},
            {"topic": LIVE, "replicaAssignment": [{"partition": p, "replicas": [b]}
                                                  for p, b in LIVE_ASSIGNMENT.items()]}]},
        {"op": "metadata", "topics": [SPREAD, KILL, LIVE]},
        produce_op(SPREAD, range(SPREAD_PARTITIONS), 0, PER_PARTITION, SENDS),
        produce_op(KILL, range(KILL_PARTITIONS), 0, KILL_BATCH),
    ])
    d = check_describe(c, res[0], "describeCluster via broker 4")
    print("describeCluster via broker 4: controller id %d" %
          d["controller"], flush=True)
    h.check(ok(res[1], "createTopics via broker 4") is True,
            "createTopics resolved %r, want true (created)" % res[1]["value"])
    md = ok(res[2], "fetchTopicMetadata")
    lead = js_leaders(md, SPREAD)
    h.check(sorted(lead) == list(range(SPREAD_PARTITIONS)), "%s partitions %r" %
            (SPREAD, sorted(lead)))
    counts = collections.Counter(lead.values())
    h.check(counts == {4: 2, 5: 2, 6: 2},
            "%s leaders %r: want two on each of brokers 4, 5, 6" % (SPREAD, lead))
    kill_lead = js_leaders(md, KILL)
    h.check(sorted(kill_lead) == list(range(KILL_PARTITIONS)) and
            sorted(kill_lead.values()) == [4, 5, 6],
            "%s leaders %r: want one on each of brokers 4, 5, 6" % (KILL, kill_lead))
    live_lead = js_leaders(md, LIVE)
    h.check(live_lead == LIVE_ASSIGNMENT, "%s leaders %r, want the assignment %r" %
            (LIVE, live_lead, LIVE_ASSIGNMENT))
    raw_leaders_everywhere(c, SPREAD, lead)
    raw_leaders_everywhere(c, KILL, kill_lead)
    raw_leaders_everywhere(c, LIVE, LIVE_ASSIGNMENT)
    STATE["spread_leaders"] = lead
    STATE["kill_leaders"] = kill_lead
    check_sent(res[3], range(SPREAD_PARTITIONS), 0, PER_PARTITION, SENDS,
               "produce %s acks -1" % SPREAD)
    check_sent(res[4], range(KILL_PARTITIONS), 0, KILL_BATCH, 1, "produce %s acks -1" % KILL)


def test_consume_other_broker(c):
    h.check("spread_leaders" in STATE, "create_produce did not produce %s" % SPREAD)
    per = kcat_read(c.broker(5), SPREAD)
    check_read(per, SPREAD, {p: PER_PARTITION for p in range(SPREAD_PARTITIONS)},
               "kcat via broker 5, %s" % SPREAD)


def test_delete_topic(c):
    lead = STATE.get("spread_leaders")
    h.check(lead is not None, "create_produce did not create %s" % SPREAD)
    res = kafkajs(c.broker(6), [
        {"op": "describeCluster"},
        {"op": "delete", "topics": [SPREAD]},
        {"op": "list"},
    ])
    check_describe(c, res[0], "describeCluster via broker 6")
    ok(res[1], "deleteTopics via broker 6")
    listed = ok(res[2], "listTopics after the delete")
    h.check(SPREAD not in listed and KILL in listed,
            "listTopics after deleting %s: %r" % (SPREAD, listed))

    def gone():
        for b in c.brokers:
            md = C.try_metadata(b.port)
            if md is None or SPREAD in md.topics or KILL not in md.topics:
                return False
            md = C.try_metadata(b.port, [SPREAD])
            t = md and md.topics.get(SPREAD)
            if t is None or t.error != ERR_UNKNOWN_TOPIC_OR_PARTITION or t.partitions:
                return False
        return True
    h.wait_for(gone, "%s gone from every broker's Metadata (and %s still there)" %
               (SPREAD, KILL), timeout=10)

    def dirs_left():
        return [(node.node_id, "%s-%d" % (SPREAD, p)) for node in c.nodes
                for p in range(SPREAD_PARTITIONS)
                if os.path.isdir(os.path.join(node.logs_dir, "%s-%d" % (SPREAD, p)))]
    try:
        h.wait_for(lambda: not dirs_left(), "the %s partition dirs to be deleted" % SPREAD,
                   timeout=10)
    except h.TestFailure:
        raise h.TestFailure("partition dirs left after deleting %s: %r" % (SPREAD, dirs_left()))


def check_send_fails(res, what, roots):
    """A produce to a partition whose leader is dead or fenced fails, or the guard times it out.
    A failure's root cause must be a retriable kafkajs error whose name (or protocol error
    type) is in roots; kafkajs' retriers wrap it once they give up (KafkaJSNumberOfRetries-
    Exceeded, and KafkaJSNonRetriableError when an outer retrier gets that), and nothing
    else may be in the chain."""
    h.check(res.get("ok") is False, "%s succeeded: %r" % (what, res))
    if res.get("timedOut"):
        print("%s: timed out" % what, flush=True)
        return
    chain, e = [], res.get("error")
    while e:
        chain.append(e)
        e = e.get("cause")
    h.check(chain, "%s: no error reported: %r" % (what, res))
    root = chain[-1]
    h.check(root.get("retriable") is True and
            (root.get("name") in roots or root.get("type") in roots),
            "%s: root error %r is not one of the retriable %r (chain %r)" %
            (what, root, sorted(roots), chain))
    h.check(all(x.get("name") in WRAPPERS for x in chain[:-1]),
            "%s: unexpected errors in the chain %r" % (what, chain))
    print("%s: %s" % (what, " <- ".join("%s(%s)" % (x.get("name"), x.get("type") or
                                                    x.get("message")) for x in chain)),
          flush=True)


def test_kill_broker(c):
    lead = STATE.get("kill_leaders")
    h.check(lead is not None, "create_produce did not create %s" % KILL)
    b4, victim, b6 = c.broker(4), c.broker(5), c.broker(6)
    vpart = next(p for p, l in lead.items() if l == victim.node_id)
    others = sorted(p for p, l in lead.items() if l != victim.node_id)
    live = sorted(LIVE_ASSIGNMENT)
    # A kafkajs client warmed up while broker 5 is alive (metadata loaded, a send to every
    # partition), so that what follows the kill does not depend on when the controller fences
    # broker 5: the partitions of brokers 4 and 6 are sent to first, then broker 5's.
    sync = tempfile.mkdtemp(prefix="kjs-sync-")
    ready, go = os.path.join(sync, "ready"), os.path.join(sync, "go")
    try:
        proc = kafkajs_start(b4, [
            produce_op(KILL, range(KILL_PARTITIONS), KILL_BATCH, KILL_BATCH),
            {"op": "touch", "path": ready},
            {"op": "waitFile", "path": go, "guardMs": 40000},
            produce_op(KILL, others, 2 * KILL_BATCH, KILL_BATCH),
            produce_op(KILL, [vpart], 2 * KILL_BATCH, KILL_BATCH, guard_ms=20000),
        ])
        try:
            h.wait_for(lambda: os.path.exists(ready) or proc.poll() is not None,
                       "the kafkajs warm-up", timeout=30)
        except Exception:
            proc.kill()
            proc.communicate()
            raise
        if not os.path.exists(ready):
            raise h.TestFailure("the kafkajs warm-up failed: %r" % (kafkajs_wait(proc),))
        C.kill9(victim)
        t0 = time.monotonic()
        with open(go, "w"):
            pass
        res = kafkajs_wait(proc)
    finally:
        shutil.rmtree(sync, ignore_errors=True)
    took = time.monotonic() - t0
    check_sent(res[0], range(KILL_PARTITIONS), KILL_BATCH, KILL_BATCH, 1,
               "produce to every partition before the kill")
    h.check(res[1].get("ok") and res[2].get("ok"), "kafkajs sync ops %r" % res[1:3])
    check_sent(res[3], others, 2 * KILL_BATCH, KILL_BATCH, 1,
               "produce to brokers 4 and 6 after the kill")
    check_send_fails(res[4], "produce to broker 5's partition %d right after the kill" % vpart,
                     DEAD_LEADER)
    print("kafkajs done %.1f s after the kill" % took, flush=True)

    # Fenced: broker 4's Metadata drops broker 5 and leaves its partition leaderless.
    def fenced():
        md = C.try_metadata(b4.port, [KILL])
        t = md and md.topics.get(KILL)
        return t is not None and victim.node_id not in md.brokers and \
            t.partitions[vpart].leader == -1 and \
            t.partitions[vpart].error == C.ERR_LEADER_NOT_AVAILABLE
    h.wait_for(fenced, "broker 4's Metadata without broker 5, %s-%d leaderless" % (KILL, vpart),
               timeout=C.SESSION_TIMEOUT_MS / 1000 + FENCE_SLACK_S)
    print("kill -9 -> broker 5 fenced in broker 4's Metadata after %.1f s" %
          (time.monotonic() - t0), flush=True)
    # A topic led by brokers 4 and 6 only, then the leaderless partition.
    res = kafkajs(b4, [
        produce_op(LIVE, live, 0, KILL_BATCH),
        produce_op(KILL, [vpart], 2 * KILL_BATCH, KILL_BATCH, guard_ms=20000),
    ])
    check_sent(res[0], live, 0, KILL_BATCH, 1, "produce to %s (brokers 4 and 6) while broker 5 "
               "is fenced" % LIVE)
    check_send_fails(res[1], "produce to fenced broker 5's partition %d" % vpart,
                     {"LEADER_NOT_AVAILABLE"})

    c.restart(victim)
    raw_leaders_everywhere(c, KILL, lead)
    res = kafkajs(b4, [
        produce_op(KILL, [vpart], 2 * KILL_BATCH, KILL_BATCH),
        produce_op(KILL, others, 3 * KILL_BATCH, KILL_BATCH),
        {"op": "describeCluster"},
    ])
    # Broker 5 kept its records (offsets 0..9) and continues after them.
    check_sent(res[0], [vpart], 2 * KILL_BATCH, KILL_BATCH, 1,
               "produce to broker 5's partition %d after its restart" % vpart)
    check_sent(res[1], others, 3 * KILL_BATCH, KILL_BATCH, 1,
               "produce to brokers 4 and 6 after broker 5's restart")
    check_describe(c, res[2], "describeCluster after broker 5's restart")
    counts = {p: 4 * KILL_BATCH for p in others}
    counts[vpart] = 3 * KILL_BATCH
    check_read(kcat_read(b6, KILL), KILL, counts, "kcat via broker 6, %s" % KILL)
    check_read(kcat_read(b6, LIVE), LIVE, {p: KILL_BATCH for p in live},
               "kcat via broker 6, %s" % LIVE)


def test_stop():
    c = the_cluster()
    try:
        c.ensure_all_alive()
        for group in (c.brokers, c.controllers):
            for node in group:
                if node.alive():
                    node.proc.send_signal(signal.SIGTERM)
            for node in group:
                rc = C.wait_exit(node)
                h.check(rc == 0, "node %d exit code %r on SIGTERM" % (node.node_id, rc))
    except Exception:
        dump_logs(c)
        raise


if __name__ == "__main__":
    h.watchdog(150, ALL_NODES)
    try:
        h.run([("start", test_start),
               ("create_produce", with_logs(test_create_produce)),
               ("consume_other_broker", with_logs(test_consume_other_broker)),
               ("delete_topic", with_logs(test_delete_topic)),
               ("kill_broker", with_logs(test_kill_broker)),
               ("stop", test_stop)])
    finally:
        for n in ALL_NODES:
            n.cleanup()
