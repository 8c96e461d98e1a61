#!/usr/bin/python3
"""cluster_lifecycle.py: how long a broker's lifecycle steps take on a loopback cluster (issue 6).

Real processes, repeated trials, min/p50/p99/max, a markdown table at the end. Not a test: it
asserts no timing (the machine is shared and noisy); it fails only when a step never happens.

Split cluster (3 controllers ids 1..3 + 3 brokers ids 4..6, Kafka's default Raft timeouts),
one per session profile: "9000/2000" (broker.session.timeout.ms / broker.heartbeat.interval.ms,
Kafka's defaults) and "3000/500". A 6-partition topic gives every broker two partitions to lead.

  idle CPU    user+sys CPU of every process over --idle-s (30 s) with nothing to do, from
              /proc/<pid>/stat (10 ms ticks) and the threads' schedstat (ns): ms of CPU per
              second, and per heartbeat interval for the brokers; with both profiles run,
              their difference per extra heartbeat/s estimates the CPU of one heartbeat;
  kill -9     kill -9 broker 5 -> the active controller's "fencing broker 5" line (log time)
              and -> broker 5 gone from broker 4's Metadata (raw Metadata v10 polled every
              20 ms); then restart broker 5 and wait until it leads its partitions again;
  SIGTERM     SIGTERM broker 6 while it leads partitions -> its "controlled shutdown
              complete" line and -> process exit;
  start       respawn broker 6 (same node id and dirs) -> its "started:" line (logged once
              the controller unfenced it), -> listed in broker 4's Metadata and -> leading its
              partitions again there.
  Each kill / SIGTERM waits 0.2 s plus a random part of one heartbeat interval first (fixed
  seed), so the trials do not all land on the same heartbeat phase.

Combined cluster (3 broker+controller nodes, default timeouts):

  CreateTopics  --creates (200) sequential 1-partition creations alternating between the node
              whose process is the active controller (decided locally) and another node
              (forwarded in an Envelope), (a) through confluent_kafka's AdminClient bootstrapped
              on that one node (Sluice's Metadata names the answering broker as controller, so
              librdkafka sends CreateTopics there; periodic metadata refresh is off) and (b) raw
              CreateTopics v7 on one TCP connection per target.

Usage: /usr/bin/python3 tests/bench/cluster_lifecycle.py [--trials N] [--creates N]
       [--idle-s S] [--sluice PATH] [--only split,fast,combined]
"""

import argparse
import datetime
import os
import random
import re
import signal
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
os.environ.setdefault("SLUICE_BIN", os.path.join(HERE, "..", "..", "build", "sluice"))
os.environ.setdefault("SLUICE_SOURCE_DIR", os.path.join(HERE, "..", ".."))
import harness as h  # noqa: E402
import cluster as C  # noqa: E402

# Kafka's defaults for the quorum (cluster.py tunes them down for the tests).
RAFT_DEFAULTS = {
    "controller.quorum.election.timeout.ms": "1000",
    "controller.quorum.fetch.timeout.ms": "2000",
    "controller.quorum.election.backoff.max.ms": "1000",
    "controller.quorum.request.timeout.ms": "2000",
}
PROFILES = {
    "default": ("9000/2000", {"broker.session.timeout.ms": "9000",
                              "broker.heartbeat.interval.ms": "2000"}),
    "fast": ("3000/500", {"broker.session.timeout.ms": "3000",
                          "broker.heartbeat.interval.ms": "500"}),
}
TOPIC = "lifecycle"
PARTITIONS = 6
POLL_S = 0.02
CLK_TCK = os.sysconf("SC_CLK_TCK")
RNG = random.Random(6)  # the pauses before each kill / SIGTERM: the same on every run

ROWS = []  # (measurement, profile, samples in ms)
IDLE = {}  # profile: mean idle broker CPU, ms/s
NOTES = []


def log_time(line):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z", line)
    if not m:
        return None
    dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def wait_line(node, text, after, timeout=60):
    """(log time, line) of the first line containing text among node's lines[after:]."""
    def find():
        for line in node.log_lines()[after:]:
            if text in line:
                return line
        return None
    line = h.wait_for(find, "%r in node %d's log" % (text, node.node_id), timeout=timeout,
                      interval=POLL_S)
    return log_time(line), line


def load():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def record(what, profile, xs):
    ROWS.append((what, profile, list(xs)))
    print("  %-44s %-9s n=%-3d min %8.1f  p50 %8.1f  p99 %8.1f  max %8.1f ms" %
          (what, profile, len(xs), min(xs), pct(xs, 50), pct(xs, 99), max(xs)), flush=True)


def ms(x):
    return "%.1f" % x if x < 100 else "%.0f" % x


def cpu_ticks(pid):
    """utime + stime of a process (every thread), in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)


def cpu_ns(pid):
    """{tid: ns on CPU} of every live thread (/proc/<pid>/task/<tid>/schedstat, field 1):
    nanosecond resolution where stat's ticks are 10 ms, but a thread that exits is lost."""
    out = {}
    base = "/proc/%d/task" % pid
    for tid in os.listdir(base):
        try:
            with open("%s/%s/schedstat" % (base, tid)) as f:
                out[tid] = int(f.read().split()[0])
        except OSError:
            pass
    return out


def pause(profile):
    """Sleeps 0.2 s plus a random part of one heartbeat interval, so that the trials do not
    lock onto the brokers' heartbeat phase (a trial cycle can last about one interval)."""
    hb = int(PROFILES[profile][1]["broker.heartbeat.interval.ms"]) / 1000.0
    time.sleep(0.2 + RNG.uniform(0, hb))


# ---- the broker's view: raw Metadata v10 to broker 4 ------------------------------------------

def listed(observer, node_id):
    md = C.try_metadata(observer.port, [TOPIC])
    return None if md is None else node_id in md.brokers


def leads_again(observer, node_id, want):
    """True once observer's Metadata lists node_id and it leads the partitions in want."""
    md = C.try_metadata(observer.port, [TOPIC])
    if md is None or node_id not in md.brokers or TOPIC not in md.topics:
        return False
    return all(md.topics[TOPIC].partitions[p].leader == node_id for p in want)


def spawn(cl, node):
    """Respawns a stopped node once its port is free; returns the spawn time."""
    if node.log_file:
        node.log_file.close()
        node.log_file = None
    h.wait_port_free(node.port)
    t = time.time()
    node.start(wait=False)
    return t


# ---- split cluster ---------------------------------------------------------------------------

def split_cluster(profile):
    extra = dict(RAFT_DEFAULTS)
    extra.update(PROFILES[profile][1])
    cl = C.Cluster(split=True, extra=extra, name="bench-" + profile)
    cl.start()
    rc, out, err = C.cli(cl.brokers[0], "topic", "create", TOPIC, "--partitions", str(PARTITIONS))
    if rc != 0:
        raise h.TestFailure("topic create failed: %s%s" % (out, err))
    observer = cl.broker(4)

    def spread():
        md = C.try_metadata(observer.port, [TOPIC])
        if md is None or TOPIC not in md.topics or len(md.topics[TOPIC].partitions) != PARTITIONS:
            return None
        lead = C.leaders(md, TOPIC)
        return lead if all(l in (4, 5, 6) for l in lead.values()) else None
    lead = h.wait_for(spread, "every partition of %s led" % TOPIC, timeout=30)
    return cl, observer, lead


def idle_cpu(cl, profile, seconds):
    hb_ms = int(PROFILES[profile][1]["broker.heartbeat.interval.ms"])
    ctl, _ = cl.active_controller()
    time.sleep(2)  # let the topic creation settle
    before = {n.node_id: (cpu_ticks(n.proc.pid), cpu_ns(n.proc.pid)) for n in cl.nodes}
    t0 = time.monotonic()
    time.sleep(seconds)
    el = time.monotonic() - t0
    after = {n.node_id: (cpu_ticks(n.proc.pid), cpu_ns(n.proc.pid)) for n in cl.nodes}
    tick = {i: (after[i][0] - before[i][0]) * 1000.0 / CLK_TCK / el for i in before}
    ns = {i: sum(v - before[i][1].get(t, 0) for t, v in after[i][1].items()) / 1e6 / el
          for i in before}
    label = PROFILES[profile][0]
    for what, ms in (("stat ticks", tick), ("schedstat", ns)):
        brokers = [ms[b.node_id] for b in cl.brokers]
        others = [ms[c.node_id] for c in cl.controllers if c is not ctl]
        line = ("idle CPU (%s) over %.0f s, profile %s (%s): brokers %s ms/s (%.2f ms per "
                "%d ms heartbeat interval, mean); active controller %d %.2f ms/s; other "
                "controllers %s ms/s" %
                (what, el, label, load(), " ".join("%.2f" % x for x in brokers),
                 sum(brokers) / len(brokers) * hb_ms / 1000.0, hb_ms, ctl.node_id,
                 ms[ctl.node_id], " ".join("%.2f" % x for x in others)))
        print("  " + line, flush=True)
        NOTES.append(line)
    return sum(ns[b.node_id] for b in cl.brokers) / len(cl.brokers)


def kill_trials(cl, observer, lead, profile, trials):
    victim = cl.broker(5)
    parts = sorted(p for p, l in lead.items() if l == victim.node_id)
    to_line, to_md, silence = [], [], []
    for _ in range(trials):
        h.wait_for(lambda: leads_again(observer, victim.node_id, parts),
                   "broker 5 leading %r" % parts, timeout=60)
        pause(profile)
        ctl, _ = cl.active_controller()
        mark = len(ctl.log_lines())
        t_kill = time.time()
        victim.proc.send_signal(signal.SIGKILL)
        gone = h.wait_for(lambda: listed(observer, victim.node_id) is False and time.time(),
                          "broker 5 gone from broker 4's Metadata", timeout=60, interval=POLL_S)
        t_line, line = wait_line(ctl, "fencing broker %d" % victim.node_id, mark)
        to_line.append((t_line - t_kill) * 1000)
        to_md.append((gone - t_kill) * 1000)
        m = re.search(r"no heartbeat for (\d+) ms", line)
        silence.append(int(m.group(1)) if m else float("nan"))
        victim.proc.wait()
        spawn(cl, victim)
    h.wait_for(lambda: leads_again(observer, victim.node_id, parts), "broker 5 back", timeout=60)
    label = PROFILES[profile][0]
    record("kill -9 -> controller logs fencing", label, to_line)
    record("kill -9 -> gone from another broker's Metadata", label, to_md)
    record("(silence the controller saw when fencing)", label, silence)


def term_start_trials(cl, observer, lead, profile, trials):
    victim = cl.broker(6)
    parts = sorted(p for p, l in lead.items() if l == victim.node_id)
    to_done, to_exit, to_started, to_listed, to_lead = [], [], [], [], []
    for _ in range(trials):
        h.wait_for(lambda: leads_again(observer, victim.node_id, parts),
                   "broker 6 leading %r" % parts, timeout=60)
        pause(profile)
        mark = len(victim.log_lines())
        t_term = time.time()
        victim.proc.send_signal(signal.SIGTERM)
        rc = victim.proc.wait(timeout=60)
        t_exit = time.time()
        if rc != 0:
            raise h.TestFailure("broker 6 exited %d on SIGTERM" % rc)
        t_done, _ = wait_line(victim, "controlled shutdown complete", mark, timeout=1)
        to_done.append((t_done - t_term) * 1000)
        to_exit.append((t_exit - t_term) * 1000)
        mark = len(victim.log_lines())
        t_spawn = spawn(cl, victim)
        t_list = h.wait_for(lambda: listed(observer, victim.node_id) and time.time(),
                            "broker 6 in broker 4's Metadata", timeout=60, interval=POLL_S)
        t_led = h.wait_for(lambda: leads_again(observer, victim.node_id, parts) and time.time(),
                           "broker 6 leading again", timeout=60, interval=POLL_S)
        t_started, _ = wait_line(victim, "started:", mark)
        to_started.append((t_started - t_spawn) * 1000)
        to_listed.append((t_list - t_spawn) * 1000)
        to_lead.append((t_led - t_spawn) * 1000)
    label = PROFILES[profile][0]
    record("SIGTERM -> \"controlled shutdown complete\"", label, to_done)
    record("SIGTERM -> process exit", label, to_exit)
    record("spawn -> \"started:\" (unfenced)", label, to_started)
    record("spawn -> listed in another broker's Metadata", label, to_listed)
    record("spawn -> leads its partitions again", label, to_lead)


def run_split(profile, a):
    print("split cluster 3+3, profile %s (%s)" % (PROFILES[profile][0], load()), flush=True)
    cl = None
    try:
        cl, observer, lead = split_cluster(profile)
        IDLE[profile] = idle_cpu(cl, profile, a.idle_s)
        term_start_trials(cl, observer, lead, profile, a.trials)
        kill_trials(cl, observer, lead, profile, a.trials)
        print("  (%s)" % load(), flush=True)
    finally:
        if cl is not None:
            cl.cleanup()


# ---- combined cluster: CreateTopics decided locally vs forwarded -----------------------------

def create_topics_v7(name):
    body = h.compact_array([h.compact_str(name) + struct.pack(">ih", 1, 1) +
                            b"\x01" + b"\x01" + b"\x00"])  # no assignments, no configs
    return body + struct.pack(">i", 30000) + b"\x00" + b"\x00"  # timeout, validate_only


def raw_create(sock, name, corr):
    r = h.kafka_call(sock, 19, 7, create_topics_v7(name), correlation_id=corr, flexible=True)
    r.i32()  # throttle
    if r.compact_len() != 1:
        raise h.TestFailure("CreateTopics answered not one topic")
    r.compact_string()
    r.uuid()
    err = r.i16()
    if err != 0:
        raise h.TestFailure("CreateTopics %s: error %d %s" % (name, err, r.compact_string()))


def ck_create(admin, name):
    from confluent_kafka.admin import NewTopic
    fs = admin.create_topics([NewTopic(name, 1, 1)], operation_timeout=30, request_timeout=30)
    fs[name].result(timeout=30)


def run_combined(a):
    from confluent_kafka.admin import AdminClient
    print("combined cluster of 3 (%s)" % load(), flush=True)
    cl = None
    try:
        cl = C.Cluster(split=False, extra=dict(RAFT_DEFAULTS, **PROFILES["default"][1]),
                       name="bench-comb")
        cl.start()
        ctl, _ = cl.active_controller()
        other = next(n for n in cl.brokers if n is not ctl)
        targets = (("local", ctl), ("forwarded", other))
        admins = {k: AdminClient({"bootstrap.servers": cl.bootstrap(n),
                                  "topic.metadata.refresh.interval.ms": -1})
                  for k, n in targets}
        socks = {k: h.connect(n.port, timeout=60) for k, n in targets}
        for k, _ in targets:  # warm up: connections, the controller's first commits
            for i in range(5):
                ck_create(admins[k], "warm-%s-%d" % (k, i))
        lat = {("ck", k): [] for k, _ in targets}
        lat.update({("raw", k): [] for k, _ in targets})
        for i in range(a.creates):
            for k, _ in (targets if i % 2 == 0 else targets[::-1]):
                t0 = time.perf_counter()
                ck_create(admins[k], "ck-%s-%d" % (k, i))
                lat[("ck", k)].append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                raw_create(socks[k], "raw-%s-%d" % (k, i), i + 1)
                lat[("raw", k)].append((time.perf_counter() - t0) * 1000)
        for s in socks.values():
            s.close()
        admins.clear()  # destroys the clients before the nodes stop (no disconnect noise)
        for how, name in (("ck", "AdminClient"), ("raw", "raw v7")):
            loc, fwd = lat[(how, "local")], lat[(how, "forwarded")]
            record("CreateTopics %s, on the active controller" % name, "combined", loc)
            record("CreateTopics %s, forwarded (Envelope)" % name, "combined", fwd)
            NOTES.append("CreateTopics %s forwarded / local: p50 %.2fx, p99 %.2fx" %
                         (name, pct(fwd, 50) / pct(loc, 50), pct(fwd, 99) / pct(loc, 99)))
            print("  " + NOTES[-1], flush=True)
        print("  (%s)" % load(), flush=True)
    finally:
        if cl is not None:
            cl.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--creates", type=int, default=200)
    ap.add_argument("--idle-s", type=float, default=30.0)
    ap.add_argument("--sluice")
    ap.add_argument("--only", default="split,fast,combined")
    a = ap.parse_args()
    if a.sluice:
        h.SLUICE_BIN = os.path.abspath(a.sluice)
    only = a.only.split(",")
    start = time.time()
    print("cluster_lifecycle: %s, %s, %d cpus, %s" % (
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), h.SLUICE_BIN, os.cpu_count(),
        load()), flush=True)
    if "split" in only:
        run_split("default", a)
    if "fast" in only:
        run_split("fast", a)
    if "combined" in only:
        run_combined(a)
    if len(IDLE) == 2:
        # Only the heartbeat interval differs for a broker between the profiles (schedstat).
        hb = {p: 1000.0 / int(PROFILES[p][1]["broker.heartbeat.interval.ms"]) for p in IDLE}
        NOTES.append("marginal broker CPU per heartbeat (idle CPU of profile 3000/500 minus "
                     "9000/2000, over %.1f more heartbeats/s): %.2f ms" % (
                         hb["fast"] - hb["default"],
                         (IDLE["fast"] - IDLE["default"]) / (hb["fast"] - hb["default"])))
    print("\n| measurement | session/heartbeat ms | n | min ms | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for what, profile, xs in ROWS:
        print("| %s | %s | %d | %s | %s | %s | %s |" % (
            what, profile, len(xs), ms(min(xs)), ms(pct(xs, 50)), ms(pct(xs, 99)),
            ms(max(xs))))
    print()
    for n in NOTES:
        print("- " + n)
    print("- %.0f s in all; %s at the end" % (time.time() - start, load()))


if __name__ == "__main__":
    main()
