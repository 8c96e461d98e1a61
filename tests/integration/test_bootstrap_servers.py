"""test_bootstrap_servers.py: a broker-only node that knows the controller quorum only through
controller.quorum.bootstrap.servers (KIP-853), real processes on loopback.

- discovers: 3 controllers (process.roles=controller, static controller.quorum.voters) and one
  broker configured only with controller.quorum.bootstrap.servers = the three controller
  listeners (the first entry a closed port, so the broker must move on to the next server).
  The broker asks DescribeQuorum v2, logs the voters it learned, starts ("started:"), `kcat -L`
  against it lists it as a broker, a topic created through it (`sluice topic create`) is
  produced to and consumed back; SIGTERM stops it with exit code 0.
- unreachable: a broker whose only bootstrap server is a closed port, with
  initial.broker.registration.timeout.ms=2000, exits non-zero after about 2 s (within 10 s)
  with a message naming the server and the last error.
- interrupted: the same broker with a 60 s timeout logs "waiting for the controller quorum at
  <server>: <last error>" after 5 s, and SIGTERM then stops it at once ("interrupted", non-zero
  exit: it never started).
"""

import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster as C  # noqa: E402
import harness as h  # noqa: E402

HOST = C.HOST
ALL_NODES = []


def broker_with_bootstrap(name, node_id, servers, extra=None):
    """A formatted broker-only node whose config has no controller.quorum.voters."""
    node = h.Node(name=name, node_id=node_id, roles="broker", host=HOST)
    ALL_NODES.append(node)
    cfg = dict(C.TUNED)
    cfg.update(extra or {})
    cfg["controller.quorum.bootstrap.servers"] = servers
    node.write_config(cfg)
    # write_config always writes a placeholder controller.quorum.voters: drop it.
    with open(node.config) as f:
        lines = [ln for ln in f if not ln.startswith("controller.quorum.voters=")]
    with open(node.config, "w") as f:
        f.writelines(lines)
    return node


def closed_port():
    """A loopback port nothing listens on (free now; the test does not bind it)."""
    return h.free_port()


def dump(nodes):
    for n in nodes:
        sys.stdout.write("---- %s log (tail) ----\n%s\n" % (n.tmp, n.logs()[-3000:]))
    sys.stdout.flush()


def test_discovers():
    ports = [h.free_port(also_free_offset=1) for _ in range(3)]
    voters = ",".join("%d@%s:%d" % (i + 1, HOST, ports[i] + 1) for i in range(3))
    cfg = dict(C.TUNED)
    cfg["controller.quorum.voters"] = voters
    cid = h.random_uuid()
    ctls = []
    for i in range(3):
        n = h.Node(name="bs-c%d" % (i + 1), node_id=i + 1, roles="controller", port=ports[i],
                   extra=cfg, host=HOST)
        ALL_NODES.append(n)
        ctls.append(n)
    dead = closed_port()
    servers = ",".join(["%s:%d" % (HOST, dead)] +
                       ["%s:%d" % (HOST, p + 1) for p in ports])
    b = broker_with_bootstrap("bs-b4", 4, servers)
    nodes = ctls + [b]
    try:
        for n in nodes:
            n.format(cid)
        for n in ctls:
            n.start(wait=False)
        for n in ctls:
            n.wait_listening(n.controller_port)
        b.start(wait=False)
        b.wait_listening(b.port)
        b.wait_log("started:", what="the broker's started: line")
        line = b.wait_log("controller quorum from", what="the voters the broker learned")
        for i in range(3):
            want = "%d@%s:%d" % (i + 1, HOST, ports[i] + 1)
            h.check(want in line, "learned voters line lacks %s: %s" % (want, line))

        def listed():
            rc, out, err = C.kcat(b, ["-L"], timeout=20)
            return rc == 0 and re.search(r"broker 4 at %s:%d" % (re.escape(HOST), b.port),
                                         out) and out
        h.wait_for(listed, "kcat -L to list broker 4", timeout=20, interval=0.3)

        rc, out, err = C.cli(b, "topic", "create", "bs-topic", "--partitions", "2")
        h.check(rc == 0, "topic create through the broker failed (%d): %s%s" % (rc, out, err))
        records = [{"key": b"k%d" % i, "value": b"v%d" % i, "partition": i % 2}
                   for i in range(20)]
        res = h.ck_produce(b, "bs-topic", records, extra={"bootstrap.servers":
                                                           "%s:%d" % (HOST, b.port)})
        h.check(all(r is not None for r in res), "delivery reports %r" % res)
        got = h.ck_consume(b, "bs-topic", [0, 1], 20,
                           extra={"bootstrap.servers": "%s:%d" % (HOST, b.port)})
        h.check(sorted((m.key(), m.value()) for m in got) ==
                sorted((r["key"], r["value"]) for r in records),
                "consumed %r" % [(m.key(), m.value()) for m in got])
        h.check(b.stop() == 0, "the broker did not exit 0 on SIGTERM")
    except Exception:
        dump(nodes)
        raise


def test_unreachable():
    dead = closed_port()
    server = "%s:%d" % (HOST, dead)
    b = broker_with_bootstrap("bs-dead", 7, server,
                              extra={"initial.broker.registration.timeout.ms": "2000"})
    try:
        b.format(h.random_uuid())
        t0 = time.monotonic()
        b.start(wait=False)
        try:
            rc = b.proc.wait(timeout=10)
        except Exception:
            raise h.TestFailure("the broker did not exit within 10 s:\n" + b.logs())
        took = time.monotonic() - t0
        logs = b.logs()
        h.check(rc != 0, "exit code %d, want non-zero:\n%s" % (rc, logs))
        h.check(took >= 1.5, "exited after %.1f s, before the 2 s timeout:\n%s" % (took, logs))
        h.check(server in logs and "controller.quorum.bootstrap.servers" in logs,
                "no message naming the bootstrap servers:\n%s" % logs)
    except Exception:
        dump([b])
        raise


def test_interrupted():
    dead = closed_port()
    b = broker_with_bootstrap("bs-int", 8, "%s:%d" % (HOST, dead),
                              extra={"initial.broker.registration.timeout.ms": "60000"})
    try:
        b.format(h.random_uuid())
        b.start(wait=False)
        server = "%s:%d" % (HOST, dead)
        line = b.wait_log("waiting for the controller quorum at", what="the 5 s waiting line")
        h.check(server in line and "refused" in line,
                "waiting line should name %s and the last error: %s" % (server, line))
        t0 = time.monotonic()
        b.proc.send_signal(signal.SIGTERM)
        rc = b.proc.wait(timeout=10)
        took = time.monotonic() - t0
        h.check(took < 3, "took %.1f s to exit on SIGTERM while waiting" % took)
        h.check(rc != 0 and "interrupted" in b.logs(),
                "exit code %d, want non-zero with \"interrupted\":\n%s" % (rc, b.logs()))
    except Exception:
        dump([b])
        raise


def test_controller_without_voters():
    """A controller that knows only bootstrap servers and was formatted with
    --no-initial-controllers has no voter set (we cannot add voters dynamically): it must refuse
    to start, not elect itself as a private single-voter quorum (it did before)."""
    port = h.free_port(also_free_offset=1)
    node = h.Node(name="ctl-novoters", node_id=1, roles="controller", host=HOST, port=port)
    ALL_NODES.append(node)
    cfg = dict(C.TUNED)
    cfg["controller.quorum.bootstrap.servers"] = "%s:%d" % (HOST, node.controller_port)
    node.write_config(cfg)
    with open(node.config) as f:
        lines = [ln for ln in f if not ln.startswith("controller.quorum.voters=")]
    with open(node.config, "w") as f:
        f.writelines(lines)
    try:
        rc, out, err = h.run_cli(["storage", "format", "-t", h.random_uuid(), "-c", node.config,
                                  "--no-initial-controllers"])
        h.check(rc == 0, "format --no-initial-controllers failed: %s%s" % (out, err))
        node.start(wait=False)
        try:
            rc = node.proc.wait(timeout=15)
        except Exception:
            raise h.TestFailure("the controller did not exit:\n" + node.logs())
        logs = node.logs()
        h.check(rc != 0, "exit code %d, want non-zero:\n%s" % (rc, logs))
        h.check("no voter set" in logs and "--initial-controllers" in logs,
                "no message explaining the missing voter set:\n%s" % logs)
        h.check("active leader" not in logs, "it elected itself:\n%s" % logs)
    except Exception:
        dump([node])
        raise


if __name__ == "__main__":
    h.watchdog(170, ALL_NODES)
    try:
        h.run([("discovers", test_discovers),
               ("unreachable", test_unreachable),
               ("interrupted", test_interrupted),
               ("controller_without_voters", test_controller_without_voters)])
    finally:
        for n in ALL_NODES:
            n.cleanup()
