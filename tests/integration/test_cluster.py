"""test_cluster.py: split and combined clusters on loopback (issue 6), real processes.

One split cluster (controllers 1-3, brokers 4-6; cluster.py) is shared by the tests in order;
each test leaves every node running. Snapshots are taken every 1 KB of new metadata records.

- forms_split / forms_combined: Metadata from EACH broker lists every broker with its
  advertised 127.0.0.1:port; `sluice quorum describe --status` through every broker (a
  forwarded DescribeQuorum) names the active controller and the voters.
- clients: a 6-partition topic has two leaders on each broker; confluent-kafka produces
  (acks=all) to every partition bootstrapping from broker 4 only, kcat consumes everything
  bootstrapping from broker 5, kafka-python one partition from broker 6: every record exactly
  once, in order; a partition's log dir exists on its leader only.
- kill_broker: kill -9 of broker 5: within the session timeout plus slack broker 4's Metadata
  no longer lists it and its partitions are leaderless (-1, LEADER_NOT_AVAILABLE); restarted,
  it is listed again, leads the same partitions and serves the records produced before.
- controlled_shutdown: SIGTERM of broker 6: exit 0 within seconds, "controlled shutdown
  complete", its partitions leaderless at once (no session-timeout fencing), and the metadata
  log holds BrokerRegistrationChangeRecord brokerId=6 inControlledShutdown=1.
- controller_kill_during_creates: 20 CreateTopics through broker 4 while the active controller
  is killed: each succeeds or fails cleanly (never NOT_CONTROLLER); no half-created topic on
  any broker; the killed controller restarts and catches up.
- snapshot_restart: broker 4 restarted from its snapshot plus a log tail (topics created and
  deleted, configs changed while it was down) ends with the same Metadata and topic configs
  as the other brokers.
"""

import collections
import os
import re
import struct
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster as C  # noqa: E402
import harness as h  # noqa: E402

SNAP = {"metadata.log.max.record.bytes.between.snapshots": "1024"}
STATE = {}
ALL_NODES = []  # for the watchdog
RECORDS_PER_PARTITION = 40
SPREAD = "spread"
SPREAD_PARTITIONS = 6
# After the session timeout: the controller's tick, a commit and the observer's fetch.
FENCE_SLACK_S = 5.0


def the_cluster():
    c = STATE.get("split")
    h.check(c is not None, "the split cluster did not start")
    c.ensure_all_alive()
    return c


def dump_logs(c, tail=3000):
    for node in c.nodes:
        sys.stdout.write("---- node %d log (tail) ----\n%s\n" % (node.node_id, node.logs()[-tail:]))
    sys.stdout.flush()


def with_logs(fn):
    """Runs fn(cluster) on the shared cluster; prints every node's log tail on failure."""
    def step():
        c = the_cluster()
        try:
            fn(c)
        except Exception:
            dump_logs(c)
            raise
    return step


# ---- forms ------------------------------------------------------------------------------------

def check_forms(c):
    want = {b.node_id: (C.HOST, b.port, None) for b in c.brokers}
    for b in c.brokers:
        def listed(b=b):
            md = C.try_metadata(b.port)
            return md is not None and md.brokers == want and md
        md = h.wait_for(listed, "broker %d to list brokers %r" % (b.node_id, want), timeout=10)
        h.check(md.cluster_id == c.cluster_id,
                "broker %d: cluster id %r, want %r" % (b.node_id, md.cluster_id, c.cluster_id))
        h.check(md.controller_id in want,
                "broker %d: controller id %d is not a broker" % (b.node_id, md.controller_id))
    leader, _ = c.active_controller()
    voter_ids = sorted(n.node_id for n in c.controllers)
    for b in c.brokers:
        rc, out, err = C.cli(b, "quorum", "describe", "--status")
        h.check(rc == 0, "quorum describe through broker %d failed (%d): %s%s" %
                (b.node_id, rc, out, err))
        m = re.search(r"LeaderId:\s*(-?\d+)", out)
        h.check(m is not None and int(m.group(1)) == leader.node_id,
                "quorum describe through broker %d: leader should be %d:\n%s" %
                (b.node_id, leader.node_id, out))
        m = re.search(r"CurrentVoters:\s*(\[.*\])", out)
        got = sorted(int(x) for x in re.findall(r'"id":\s*(\d+)', m.group(1))) if m else None
        h.check(got == voter_ids, "quorum describe through broker %d: voters %r, want %r:\n%s" %
                (b.node_id, got, voter_ids, out))
        m = re.search(r"ClusterId:\s*(\S+)", out)
        h.check(m is not None and m.group(1) == c.cluster_id,
                "quorum describe cluster id:\n%s" % out)
        if c.split:
            m = re.search(r"CurrentObservers:\s*(\[.*\])", out)
            obs = sorted(int(x) for x in re.findall(r'"id":\s*(\d+)', m.group(1))) if m else []
            h.check(obs == sorted(want), "observers %r, want the brokers %r:\n%s" %
                    (obs, sorted(want), out))


def test_forms_split():
    c = C.Cluster(split=True, extra=SNAP, name="cs")
    ALL_NODES.extend(c.nodes)
    STATE["split"] = c
    t0 = time.monotonic()
    try:
        c.start()
        print("split cluster up in %.1f s" % (time.monotonic() - t0), flush=True)
        check_forms(c)
    except Exception:
        dump_logs(c)
        raise


def test_forms_combined():
    c = C.Cluster(split=False, name="cc")
    ALL_NODES.extend(c.nodes)
    try:
        c.start()
        check_forms(c)
        # Combined nodes lead partitions too, and stop cleanly (controlled shutdown first).
        rc, out, err = C.cli(c.brokers[0], "topic", "create", "comb", "--partitions", "3")
        h.check(rc == 0, "create on the combined cluster: %s%s" % (out, err))

        def placed():
            md = C.try_metadata(c.brokers[2].port, ["comb"])
            t = md and md.topics.get("comb")
            return t is not None and t.error == 0 and \
                sorted(C.leaders(md, "comb").values()) == [1, 2, 3]
        h.wait_for(placed, "comb's 3 partitions led by nodes 1, 2, 3", timeout=10)
        # One by one: the first two complete a controlled shutdown (two of three voters
        # remain for it); the last one alone has no quorum, and a second SIGTERM stops it at
        # once.
        t0 = time.monotonic()
        for node in c.nodes[:2]:
            rc = node.stop(timeout=8)
            h.check(rc == 0, "combined node %d exit code %r on SIGTERM" % (node.node_id, rc))
            h.check(any("controlled shutdown complete" in ln for ln in node.log_lines()),
                    "combined node %d: no completed controlled shutdown" % node.node_id)
        last = c.nodes[2]
        last.proc.send_signal(signal.SIGTERM)
        last.wait_log("controlled shutdown: waiting")
        rc = last.stop(timeout=5)
        h.check(rc == 0, "combined node 3 exit code %r on a second SIGTERM" % rc)
        print("combined cluster stopped in %.1f s" % (time.monotonic() - t0), flush=True)
    except Exception:
        dump_logs(c)
        raise
    finally:
        c.cleanup()


# ---- clients ----------------------------------------------------------------------------------

def ck_admin(node, **kw):
    from confluent_kafka.admin import AdminClient
    conf = {"bootstrap.servers": c_boot(node)}
    conf.update(kw)
    return AdminClient(conf)


def c_boot(node):
    return "%s:%d" % (C.HOST, node.port)


def wait_topic_everywhere(c, name, partitions, timeout=15):
    """Waits until every broker lists name with `partitions` partitions, each with a leader;
    returns {partition: leader} (the same on every broker)."""
    def ok():
        seen = None
        for b in c.brokers:
            md = C.try_metadata(b.port, [name])
            t = md and md.topics.get(name)
            if t is None or t.error != 0 or len(t.partitions) != partitions:
                return None
            if any(p.leader < 0 or p.error != 0 for p in t.partitions.values()):
                return None
            lead = C.leaders(md, name)
            if seen is not None and lead != seen:
                return None
            seen = lead
        return seen
    return h.wait_for(ok, "topic %s with %d led partitions on every broker" % (name, partitions),
                      timeout=timeout)


def expected_records(p):
    return [("k%d-%d" % (p, i), "v%d-%d" % (p, i)) for i in range(RECORDS_PER_PARTITION)]


def test_clients(c):
    from confluent_kafka import Producer
    from confluent_kafka.admin import NewTopic
    a, b, third = c.brokers
    admin = ck_admin(a)
    fs = admin.create_topics([NewTopic(SPREAD, SPREAD_PARTITIONS, 1)], request_timeout=30,
                             operation_timeout=30)
    fs[SPREAD].result(timeout=40)
    lead = wait_topic_everywhere(c, SPREAD, SPREAD_PARTITIONS)
    STATE["spread_leaders"] = lead
    counts = collections.Counter(lead.values())
    h.check(counts == {4: 2, 5: 2, 6: 2},
            "partition leaders %r: want two on each of brokers 4, 5, 6" % lead)

    # Produce to every partition, bootstrapping from broker 4 only.
    p = Producer({"bootstrap.servers": c_boot(a), "acks": "all", "linger.ms": 5,
                  "message.timeout.ms": 30000})
    delivered = collections.defaultdict(list)
    errors = []

    def cb(err, msg):
        if err is not None:
            errors.append(err)
        else:
            delivered[msg.partition()].append((msg.offset(), msg.key().decode()))
    for part in range(SPREAD_PARTITIONS):
        for k, v in expected_records(part):
            p.produce(SPREAD, key=k, value=v, partition=part, on_delivery=cb)
    left = p.flush(40)
    h.check(left == 0 and not errors, "%d undelivered, errors %s" % (left, errors[:5]))
    for part in range(SPREAD_PARTITIONS):
        got = sorted(delivered[part])
        want = [(i, k) for i, (k, _) in enumerate(expected_records(part))]
        h.check(got == want, "partition %d delivery reports %r..." % (part, got[:5]))

    # kcat bootstrapping from broker 5 reads every partition (from all three leaders).
    rc, out, err = C.kcat(b, ["-C", "-t", SPREAD, "-o", "beginning", "-e", "-q",
                              "-f", "%p\t%o\t%k\t%s\n"])
    h.check(rc == 0, "kcat consume failed (%d): %s" % (rc, err))
    per = collections.defaultdict(list)
    for line in out.splitlines():
        part, off, k, v = line.split("\t")
        per[int(part)].append((int(off), k, v))
    for part in range(SPREAD_PARTITIONS):
        want = [(i, k, v) for i, (k, v) in enumerate(expected_records(part))]
        h.check(per[part] == want, "kcat partition %d: %d records %r..., want %d" %
                (part, len(per[part]), per[part][:3], len(want)))
    h.check(sorted(per) == list(range(SPREAD_PARTITIONS)), "kcat partitions %r" % sorted(per))

    # kafka-python bootstrapping from broker 6, a partition led by another broker.
    from kafka import KafkaConsumer, TopicPartition
    part = next(i for i, l in sorted(lead.items()) if l != third.node_id)
    kc = KafkaConsumer(bootstrap_servers=c_boot(third), group_id=None, enable_auto_commit=False,
                       request_timeout_ms=15000, api_version_auto_timeout_ms=10000,
                       fetch_max_wait_ms=100)
    try:
        tp = TopicPartition(SPREAD, part)
        kc.assign([tp])
        kc.seek_to_beginning(tp)
        got = []
        deadline = time.monotonic() + 30
        while len(got) < RECORDS_PER_PARTITION and time.monotonic() < deadline:
            for recs in kc.poll(timeout_ms=500).values():
                got += [(r.offset, r.key.decode(), r.value.decode()) for r in recs]
        want = [(i, k, v) for i, (k, v) in enumerate(expected_records(part))]
        h.check(got == want, "kafka-python partition %d (leader %d): %r..." %
                (part, lead[part], got[:3]))
    finally:
        kc.close()

    # A partition's log dir exists on its leader only (replication factor 1).
    for node in c.nodes:
        for part, leader in lead.items():
            d = os.path.join(node.logs_dir, "%s-%d" % (SPREAD, part))
            h.check(os.path.isdir(d) == (leader == node.node_id),
                    "%s: exists=%s on node %d, leader %d" % (d, os.path.isdir(d),
                                                             node.node_id, leader))


def spread_leaders():
    lead = STATE.get("spread_leaders")
    h.check(lead is not None, "test clients did not create %s" % SPREAD)
    return lead


def consume_partitions(node, parts):
    """{partition: [(offset, key, value)]} of parts, read bootstrapping from node."""
    from confluent_kafka import Consumer, OFFSET_BEGINNING, TopicPartition
    cons = Consumer({"bootstrap.servers": c_boot(node), "group.id": "cl-it",
                     "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    try:
        cons.assign([TopicPartition(SPREAD, p, OFFSET_BEGINNING) for p in parts])
        out = collections.defaultdict(list)
        deadline = time.monotonic() + 30
        while sum(len(v) for v in out.values()) < RECORDS_PER_PARTITION * len(parts):
            h.check(time.monotonic() < deadline, "consumed %r of partitions %r" %
                    ({k: len(v) for k, v in out.items()}, parts))
            for m in cons.consume(num_messages=500, timeout=0.5):
                h.check(m.error() is None, "consumer error %s" % m.error())
                out[m.partition()].append((m.offset(), m.key().decode(), m.value().decode()))
        return out
    finally:
        cons.close()


def wait_leaderless(observer, gone, parts, timeout):
    """Waits until observer's Metadata lacks broker `gone` and every partition of parts of
    SPREAD is leaderless with LEADER_NOT_AVAILABLE; returns the Metadata."""
    def ok():
        md = C.try_metadata(observer.port, [SPREAD])
        if md is None or gone in md.brokers or SPREAD not in md.topics:
            return None
        t = md.topics[SPREAD]
        for p in parts:
            if t.partitions[p].leader != -1 or \
                    t.partitions[p].error != C.ERR_LEADER_NOT_AVAILABLE:
                return None
        return md
    return h.wait_for(ok, "broker %d's Metadata without broker %d, partitions %r leaderless" %
                      (observer.node_id, gone, parts), timeout=timeout)


def wait_led_again(c, lead):
    def ok():
        for b in c.brokers:
            md = C.try_metadata(b.port, [SPREAD])
            if md is None or sorted(md.brokers) != [4, 5, 6] or SPREAD not in md.topics:
                return False
            if C.leaders(md, SPREAD) != lead:
                return False
            if any(p.error != 0 for p in md.topics[SPREAD].partitions.values()):
                return False
        return True
    h.wait_for(ok, "every broker listing 4, 5, 6 and the original leaders %r" % lead,
               timeout=15)


# ---- kill -9 of a broker ----------------------------------------------------------------------

def test_kill_broker(c):
    lead = spread_leaders()
    observer, victim = c.broker(4), c.broker(5)
    parts = sorted(p for p, l in lead.items() if l == victim.node_id)
    others = {p: l for p, l in lead.items() if l != victim.node_id}
    C.kill9(victim)
    t0 = time.monotonic()
    md = wait_leaderless(observer, victim.node_id, parts,
                         C.SESSION_TIMEOUT_MS / 1000 + FENCE_SLACK_S)
    print("kill -9 -> broker 5 fenced in broker 4's Metadata: %.1f s" % (time.monotonic() - t0),
          flush=True)
    h.check({p: l for p, l in C.leaders(md, SPREAD).items() if p not in parts} == others,
            "the other partitions changed leaders: %r" % C.leaders(md, SPREAD))
    ctl, _ = c.active_controller()
    h.check(any("fencing broker %d" % victim.node_id in ln for ln in ctl.log_lines()),
            "the active controller did not log fencing broker %d" % victim.node_id)
    # A client library sees the same (confluent-kafka, bootstrapping from broker 6).
    md2 = ck_admin(c.broker(6)).list_topics(topic=SPREAD, timeout=10)
    h.check(victim.node_id not in md2.brokers, "confluent still lists broker 5: %r" %
            md2.brokers)
    for p in parts:
        pm = md2.topics[SPREAD].partitions[p]
        h.check(pm.leader == -1 or pm.error is not None,
                "confluent: partition %d leader %d error %s" % (p, pm.leader, pm.error))

    c.restart(victim)
    wait_led_again(c, lead)
    got = consume_partitions(victim, parts)
    for p in parts:
        want = [(i, k, v) for i, (k, v) in enumerate(expected_records(p))]
        h.check(got[p] == want, "after the restart partition %d holds %r..." % (p, got[p][:3]))


# ---- controlled shutdown ----------------------------------------------------------------------

def test_controlled_shutdown(c):
    lead = spread_leaders()
    observer, victim = c.broker(4), c.broker(6)
    parts = sorted(p for p, l in lead.items() if l == victim.node_id)
    before = len(victim.log_lines())
    ctl, _ = c.active_controller()
    ctl_before = len(ctl.log_lines())
    t0 = time.monotonic()
    rc = victim.stop(timeout=10)
    took = time.monotonic() - t0
    h.check(rc == 0, "broker 6 exit code %r on SIGTERM" % rc)
    h.check(took < 5, "broker 6 took %.1f s to stop" % took)
    lines = victim.log_lines()[before:]
    h.check(any("controlled shutdown: waiting" in ln for ln in lines) and
            any("controlled shutdown complete" in ln for ln in lines) and
            not any("controlled shutdown timed out" in ln for ln in lines),
            "broker 6 log:\n" + "\n".join(lines))
    # Moved before the exit: leaderless at once, well inside the session timeout, and not by
    # the controller's session expiry.
    t1 = time.monotonic()
    wait_leaderless(observer, victim.node_id, parts, timeout=2.0)
    print("SIGTERM -> exit %.2f s; leaderless in broker 4's Metadata %.2f s after the exit" %
          (took, time.monotonic() - t1), flush=True)
    h.check(not any("fencing broker %d" % victim.node_id in ln
                    for ln in ctl.log_lines()[ctl_before:]),
            "the controller fenced broker 6 on its session timeout: the controlled shutdown "
            "did not hand over")
    rc, out, err = h.run_cli(["metadata", "dump", "--log-only", "--metadata-dir", ctl.logs_dir])
    h.check(rc == 0, "metadata dump of controller %d failed (%d): %s" % (ctl.node_id, rc, err))
    h.check(re.search(r"BrokerRegistrationChangeRecord brokerId=%d \S+ fenced=\S+ "
                      r"inControlledShutdown=1" % victim.node_id, out) is not None,
            "no BrokerRegistrationChangeRecord with inControlledShutdown=1 for broker 6:\n" +
            "\n".join(ln for ln in out.splitlines() if "BrokerRegistrationChange" in ln))
    c.restart(victim)
    wait_led_again(c, lead)


# ---- killing the active controller while topics are created ----------------------------------

RACE_TOPICS = 20


def test_controller_kill_during_creates(c):
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import NewTopic
    ctl, epoch = c.active_controller()
    admin = ck_admin(c.broker(4))
    futures = {}
    submitted = threading.Event()
    failure = []

    done_at = {}
    clis = {}

    def submit():
        try:
            for i in range(RACE_TOPICS):
                name = "race-%02d" % i
                f = admin.create_topics([NewTopic(name, 3, 1)], request_timeout=60,
                                        operation_timeout=50)[name]
                f.add_done_callback(lambda _f, name=name: done_at.setdefault(name,
                                                                             time.monotonic()))
                futures[name] = f
                if i % 4 == 0:
                    # The sluice CLI does not retry: a NOT_CONTROLLER would reach it as is.
                    cname = "race-cli-%02d" % i
                    clis[cname] = subprocess.Popen(
                        [h.SLUICE_BIN, "topic", "create", cname, "--partitions", "3",
                         "--timeout-ms", "60000", "--bootstrap-server", c_boot(c.broker(5))],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                if i == 4:
                    submitted.set()
                time.sleep(0.01)
        except Exception as e:  # noqa: BLE001
            failure.append(e)
        finally:
            submitted.set()
    th = threading.Thread(target=submit, daemon=True)
    th.start()
    h.check(submitted.wait(10), "the creates did not start")
    C.kill9(ctl)
    t_kill = time.monotonic()
    th.join(30)
    h.check(not failure, "submitting creates failed: %r" % failure)
    results = {}
    for name, f in sorted(futures.items()):
        try:
            f.result(timeout=90)
            results[name] = 0
        except KafkaException as e:
            results[name] = e.args[0].code()
    print("confluent creates across the controller kill: %r" %
          dict(collections.Counter(results.values())), flush=True)
    h.check(len(results) == RACE_TOPICS, "only %d creates submitted" % len(results))
    bad = {n: code for n, code in results.items()
           if code not in (0, C.ERR_TOPIC_ALREADY_EXISTS, C.ERR_REQUEST_TIMED_OUT)}
    h.check(not bad, "creates failed with unexpected errors: %r (41 = NOT_CONTROLLER)" % bad)
    late = [n for n, t in done_at.items() if t > t_kill + 0.2]
    h.check(late, "no create was answered after the failover: the kill missed them")
    for name, proc in sorted(clis.items()):
        out, _ = proc.communicate(timeout=90)
        h.check("NOT_CONTROLLER" not in out, "CLI create %s: %s" % (name, out))
        if proc.returncode == 0:
            results[name] = 0
        else:
            h.check("TOPIC_ALREADY_EXISTS" in out or "REQUEST_TIMED_OUT" in out,
                    "CLI create %s failed (%d): %s" % (name, proc.returncode, out))
    print("CLI creates: %d of %d succeeded" %
          (sum(1 for n in clis if results.get(n) == 0), len(clis)), flush=True)
    new_ctl, _ = c.active_controller(exclude=(ctl,), min_epoch=epoch + 1)
    h.check(new_ctl is not ctl, "no new active controller")

    created = sorted(n for n, code in results.items() if code == 0)

    def consistent():
        images = []
        for b in c.brokers:
            md = C.try_metadata(b.port)
            if md is None or any(n not in md.topics for n in created):
                return None
            images.append(C.image(md, "race-"))
        return images[0] if all(im == images[0] for im in images) else None
    try:
        h.wait_for(consistent, "every broker to list the same race-* topics, among them the "
                   "%d created ones" % len(created), timeout=15)
    except h.TestFailure:
        for b in c.brokers:
            md = C.try_metadata(b.port)
            print("broker %d lists %r" % (b.node_id, md and sorted(
                n for n in md.topics if n.startswith("race-"))), flush=True)
        raise
    names = None
    for b in c.brokers:
        md = C.metadata(b.port)
        race = {n: t for n, t in md.topics.items() if n.startswith("race-")}
        for n, t in race.items():
            h.check(t.error == 0 and sorted(t.partitions) == [0, 1, 2],
                    "broker %d: topic %s error %d partitions %r" %
                    (b.node_id, n, t.error, sorted(t.partitions)))
            for p in t.partitions.values():
                h.check(p.error == 0 and p.leader in (4, 5, 6),
                        "broker %d: %s-%d leader %d error %d" % (b.node_id, n, p.index, p.leader,
                                                                 p.error))
        missing = [n for n, code in results.items() if code == 0 and n not in race]
        h.check(not missing, "broker %d lacks created topics %r" % (b.node_id, missing))
        names = sorted(race)

    # The killed controller restarts and catches up: its log holds every topic, and the
    # quorum reports it without lag.
    c.restart(ctl)

    def caught_up():
        rc, out, err = C.cli(c.broker(5), "quorum", "describe", "--replication")
        if rc != 0:
            return False
        rows = [ln.split() for ln in out.splitlines()[1:] if ln.strip()]
        row = next((r for r in rows if r[0] == str(ctl.node_id)), None)
        return row is not None and row[3] == "0"
    h.wait_for(caught_up, "controller %d to catch up (lag 0)" % ctl.node_id, timeout=15)
    # A controller-only node serves no Metadata: read what its metadata log and snapshots hold.
    def logged():
        rc, out, err = h.run_cli(["metadata", "dump", "--metadata-dir", ctl.logs_dir])
        h.check(rc == 0, "metadata dump of controller %d: %s" % (ctl.node_id, err))
        return sorted(set(re.findall(r"TopicRecord name=(race-\S+) ", out)))
    try:
        h.wait_for(lambda: logged() == names, "controller %d's metadata to hold the race-* topics"
                   % ctl.node_id, timeout=10, interval=0.2)
    except h.TestFailure:
        raise h.TestFailure("restarted controller %d's metadata has %r, the brokers list %r" %
                            (ctl.node_id, logged(), names))


# ---- snapshot plus log tail -------------------------------------------------------------------

def alter(node, topic, *args):
    rc, out, err = C.cli(node, "topic", "alter-config", topic, *args)
    h.check(rc == 0, "alter-config %s %r through broker %d: %s%s" % (topic, args, node.node_id,
                                                                     out, err))


def create(node, topic, partitions=3):
    rc, out, err = C.cli(node, "topic", "create", topic, "--partitions", str(partitions))
    h.check(rc == 0, "create %s through broker %d: %s%s" % (topic, node.node_id, out, err))


def test_snapshot_restart(c):
    target, b5, b6 = c.broker(4), c.broker(5), c.broker(6)
    meta_dir = os.path.join(target.logs_dir, "__cluster_metadata-0")
    for i in range(5):
        create(b5, "snap-%d" % i)
    alter(b6, "snap-0", "--set", "retention.ms=123456", "--set", "cleanup.policy=compact")
    alter(b6, "snap-1", "--set", "segment.bytes=1048576")
    wait_topic_everywhere(c, "snap-4", 3)

    def snapshot():
        return [f for f in os.listdir(meta_dir) if f.endswith(".checkpoint")]
    h.wait_for(snapshot, "a snapshot in broker 4's %s" % meta_dir, timeout=15)
    h.check(target.stop() == 0, "broker 4 did not exit 0 on SIGTERM")
    snaps = snapshot()
    # The log tail: topics created and deleted, configs set and deleted while it is down.
    for i in range(5, 9):
        create(b5, "snap-%d" % i, partitions=2)
    alter(b5, "snap-0", "--set", "max.message.bytes=200000", "--delete", "cleanup.policy")
    alter(b6, "snap-6", "--set", "retention.bytes=99999")
    rc, out, err = C.cli(b6, "topic", "delete", "snap-2")
    h.check(rc == 0, "delete snap-2: %s%s" % (out, err))
    before = len(target.log_lines())
    c.restart(target)
    lines = target.log_lines()[before:]
    h.check(any("loaded snapshot" in ln and any(s in ln for s in snaps) for ln in lines),
            "broker 4 did not load one of its snapshots %r:\n%s" % (snaps, "\n".join(lines)))

    def same():
        images = []
        for b in c.brokers:
            md = C.try_metadata(b.port)
            if md is None:
                return None
            images.append(C.image(md))
        return images if all(im == images[0] for im in images) else None
    images = h.wait_for(same, "broker 4's Metadata to equal the others'", timeout=15)
    topics = [t[0] for t in images[0][1]]
    h.check("snap-2" not in topics and all("snap-%d" % i in topics for i in (0, 1, 3, 4, 5, 8)),
            "topics after the restart: %r" % topics)
    for topic in ("snap-0", "snap-1", "snap-6"):
        outs = []
        for b in c.brokers:
            rc, out, err = C.cli(b, "topic", "describe-config", topic, "--all")
            h.check(rc == 0, "describe-config %s through broker %d: %s" % (topic, b.node_id, err))
            outs.append(out)
        h.check(outs[0] == outs[1] == outs[2],
                "describe-config %s differs between brokers 4, 5, 6:\n%s" %
                (topic, "\n----\n".join(outs)))
        if topic == "snap-0":
            h.check("retention.ms=123456 source=DYNAMIC_TOPIC_CONFIG" in outs[0] and
                    "max.message.bytes=200000 source=DYNAMIC_TOPIC_CONFIG" in outs[0] and
                    not re.search(r"cleanup.policy=compact", outs[0]),
                    "snap-0 configs:\n" + outs[0])
    rc, out, err = h.run_cli(["metadata", "dump", "--snapshots-only", "--metadata-dir",
                              target.logs_dir])
    h.check(rc == 0 and "TopicRecord name=snap-0 " in out and "SnapshotFooter" in out,
            "metadata dump --snapshots-only of broker 4 (%d): %s%s" % (rc, out[-2000:], err))


# ---- stop -------------------------------------------------------------------------------------

# ---- UnregisterBroker through a broker (forwarded) ----------------------------------------------

def unregister(node, broker_id):
    """UnregisterBroker v0 (flexible) sent to node: (error code, error message)."""
    with h.connect(node.port) as s:
        r = h.kafka_call(s, 64, 0, struct.pack(">i", broker_id) + b"\x00", flexible=True)
        r.i32()  # throttle
        return r.i16(), r.compact_string()


def test_unregister_broker(c):
    lead = spread_leaders()
    via, victim = c.broker(4), c.broker(6)
    err, msg = unregister(via, 99)
    h.check(err == 102, "unregistering unknown broker 99: error %d %r, want "
            "BROKER_ID_NOT_REGISTERED (102)" % (err, msg))
    h.check(victim.stop(timeout=10) == 0, "broker 6 exit code on SIGTERM")
    err, msg = unregister(via, victim.node_id)
    h.check(err == 0, "unregistering broker 6 through broker 4: error %d %r" % (err, msg))
    err, _ = unregister(c.broker(5), victim.node_id)
    h.check(err == 102, "broker 6 still registered after UnregisterBroker: error %d" % err)
    ctl, _ = c.active_controller()
    rc, out, _ = h.run_cli(["metadata", "dump", "--log-only", "--metadata-dir", ctl.logs_dir])
    h.check(rc == 0 and re.search(r"UnregisterBrokerRecord\S* brokerId=%d" % victim.node_id,
                                  out) is not None,
            "no UnregisterBrokerRecord for broker 6 in controller %d's log" % ctl.node_id)
    # It comes back as a new registration and leads its partitions again.
    c.restart(victim)
    wait_led_again(c, lead)


def test_stop():
    c = the_cluster()
    try:
        # Brokers first, while the quorum can still move their leaderships; then the
        # controllers, all at once.
        for group in (c.brokers, c.controllers):
            for node in group:
                node.proc.send_signal(signal.SIGTERM)
            for node in group:
                rc = C.wait_exit(node)
                h.check(rc == 0, "node %d exit code %r on SIGTERM" % (node.node_id, rc))
    except Exception:
        dump_logs(c)
        raise


if __name__ == "__main__":
    h.watchdog(280, ALL_NODES)
    try:
        h.run([("forms_split", test_forms_split),
               ("forms_combined", test_forms_combined),
               ("clients", with_logs(test_clients)),
               ("kill_broker", with_logs(test_kill_broker)),
               ("controlled_shutdown", with_logs(test_controlled_shutdown)),
               ("controller_kill_during_creates", with_logs(test_controller_kill_during_creates)),
               ("snapshot_restart", with_logs(test_snapshot_restart)),
               ("unregister_broker", with_logs(test_unregister_broker)),
               ("stop", test_stop)])
    finally:
        for n in ALL_NODES:
            n.cleanup()
