"""test_crash.py: acknowledged data and metadata survive kill -9 and restarts.

- kill -9 mid-stream: confluent-kafka produces with acks=all while the broker is SIGKILLed;
  after a restart on the same dir every acknowledged record is there at its acknowledged offset
  with the same bytes, offsets are dense from 0, and nothing unknown appeared.
- kill -9 right after CreateTopics returned: the topic exists after restart (same topic id).
- SIGTERM restart: topics keep their ids, partition counts and configs, a deleted topic stays
  deleted, records are still there and new records continue at the old end offset.
"""

import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

from confluent_kafka import Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import ConfigResource  # noqa: E402

NODES = []


def value_for(i):
    return (b"crash-record-%08d|" % i) * (1 + i % 9)


def high_watermark(node, topic, partition):
    c = h.ck_consumer(node)
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
    finally:
        c.close()


def start_after_kill(node):
    """Restarts a SIGKILLed node once its old listeners are gone (see h.wait_port_free)."""
    h.wait_port_free(node.port)
    h.wait_port_free(node.controller_port)
    node.start()
    h.check(node.alive(), "restarted node exited:\n%s" % node.logs()[-2000:])


def restart(node, sig):
    rc = node.stop(sig=sig)
    if sig == signal.SIGTERM:
        h.check(rc == 0, "exit code %r after SIGTERM" % rc)
        node.start()
    else:
        start_after_kill(node)


def test_kill9_mid_stream(backend):
    node = h.start_single("crash", extra={"sluice.io.backend": backend})
    NODES.append(node)
    try:
        node.wait_log("io.backend=" + backend)
        nparts = 2
        h.ck_create_topic(node, "crash", partitions=nparts)
        p = Producer({"bootstrap.servers": "localhost:%d" % node.port, "acks": "all",
                      "linger.ms": 2, "retries": 0, "enable.idempotence": False,
                      "message.timeout.ms": 8000, "socket.timeout.ms": 5000,
                      "reconnect.backoff.max.ms": 500})
        acked = {}  # (partition, offset) -> index
        failed = [0]
        lock = threading.Lock()

        def on_delivery(err, msg):
            if err is not None:
                failed[0] += 1
                return
            i = int(msg.key())
            with lock:
                h.check((msg.partition(), msg.offset()) not in acked,
                        "two records acknowledged at %d/%d" % (msg.partition(), msg.offset()))
                acked[(msg.partition(), msg.offset())] = i
        sent = 0

        def pump(until_sent=None, until_acked=None):
            nonlocal sent
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with lock:
                    n_acked = len(acked)
                if until_acked is not None and n_acked >= until_acked:
                    return
                if until_sent is not None and sent >= until_sent:
                    return
                if sent - n_acked - failed[0] < 1500:
                    try:
                        p.produce("crash", key=b"%d" % sent, value=value_for(sent),
                                  partition=sent % nparts, on_delivery=on_delivery)
                        sent += 1
                    except BufferError:
                        pass
                    p.poll(0)
                else:
                    p.poll(0.01)
            raise h.TestFailure("producing stalled: sent %d, acknowledged %d, failed %d" %
                                (sent, len(acked), failed[0]))
        pump(until_acked=4000)
        node.proc.send_signal(signal.SIGKILL)  # records are in flight right now
        killed_at = len(acked)
        pump(until_sent=sent + 500)
        h.check(p.flush(30) == 0, "delivery reports still pending 30s after the kill")
        node.stop(sig=signal.SIGKILL)
        print("  sent %d, acknowledged %d (killed at %d acks), failed %d" %
              (sent, len(acked), killed_at, failed[0]), flush=True)
        h.check(len(acked) + failed[0] == sent, "reports for %d of %d records" %
                (len(acked) + failed[0], sent))

        start_after_kill(node)
        for part in range(nparts):
            want = {off: i for (pp, off), i in acked.items() if pp == part}
            hw = high_watermark(node, "crash", part)
            top = max(want) + 1 if want else 0
            h.check(hw >= top, "partition %d: high watermark %d after restart, but offset %d "
                    "was acknowledged" % (part, hw, top - 1))
            got = h.ck_consume(node, "crash", [part], hw, timeout=60) if hw else []
            h.check([m.offset() for m in got] == list(range(hw)),
                    "partition %d: offsets not dense 0..%d" % (part, hw - 1))
            for m in got:
                i = int(m.key())
                h.check(m.value() == value_for(i) and i % nparts == part,
                        "partition %d offset %d: record %d is corrupt" % (part, m.offset(), i))
                if m.offset() in want:
                    h.check(want[m.offset()] == i, "partition %d offset %d holds record %d, "
                            "acknowledged as record %d" % (part, m.offset(), i, want[m.offset()]))
        # And the restarted broker keeps accepting writes after the last offset.
        res = h.ck_produce(node, "crash", [{"key": b"-1", "value": b"after", "partition": 0}],
                           extra={"acks": "all"})
        h.check(res[0][1] == high_watermark(node, "crash", 0) - 1, "post-restart offset %r" %
                res)
        rc = node.stop()
        h.check(rc == 0, "exit code %r after SIGTERM" % rc)
    except Exception:
        sys.stdout.write("---- sluice log (tail) ----\n%s\n" % node.logs()[-5000:])
        raise
    finally:
        node.cleanup()


def describe_topic_config(node, topic):
    admin = h.ck_admin(node)
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    cfg = admin.describe_configs([res], request_timeout=15)[res].result(timeout=20)
    return {k: v.value for k, v in cfg.items()}


def test_kill9_after_create(backend):
    node = h.start_single("crash-create", extra={"sluice.io.backend": backend})
    NODES.append(node)
    try:
        node.wait_log("io.backend=" + backend)
        h.ck_create_topic(node, "made-then-killed", partitions=4)
        ids = h.metadata_v10_topic_ids(node.port, ["made-then-killed"])
        node.stop(sig=signal.SIGKILL)
        start_after_kill(node)
        after = h.wait_for(lambda: h.metadata_v10_topic_ids(node.port, ["made-then-killed"]),
                           "Metadata v10 after restart")
        h.check(after.get("made-then-killed") == ids["made-then-killed"] and
                after["made-then-killed"][0] == 0,
                "after kill -9: %r, before %r" % (after, ids))
    except Exception:
        sys.stdout.write("---- sluice log (tail) ----\n%s\n" % node.logs()[-5000:])
        raise
    finally:
        node.cleanup()


def test_sigterm_restart_keeps_metadata(backend):
    node = h.start_single("restart", extra={"sluice.io.backend": backend})
    NODES.append(node)
    try:
        node.wait_log("io.backend=" + backend)
        h.ck_create_topic(node, "keep", partitions=3, config={"retention.ms": "3600000",
                                                             "max.message.bytes": "2000000"})
        h.ck_create_topic(node, "gone", partitions=1)
        h.ck_create_topic(node, "other", partitions=2)
        ids = h.metadata_v10_topic_ids(node.port)
        for t in ("keep", "gone", "other"):
            h.check(t in ids and ids[t][0] == 0 and ids[t][1] != b"\x00" * 16,
                    "Metadata v10 %s: %r" % (t, ids.get(t)))
        h.check(len({ids[t][1] for t in ("keep", "gone", "other")}) == 3, "topic ids collide")
        admin = h.ck_admin(node)
        fs = admin.delete_topics(["gone"], request_timeout=15, operation_timeout=15)
        fs["gone"].result(timeout=20)
        recs = [{"key": b"%d" % i, "value": value_for(i), "partition": i % 3}
                for i in range(300)]
        h.ck_produce(node, "keep", recs, extra={"acks": "all"})

        restart(node, signal.SIGTERM)
        after = h.wait_for(lambda: h.metadata_v10_topic_ids(node.port), "metadata after restart")
        h.check("gone" not in after, "deleted topic is back after restart: %r" %
                after.get("gone"))
        for t in ("keep", "other"):
            h.check(after.get(t) == ids[t], "%s after restart %r, before %r" %
                    (t, after.get(t), ids[t]))
        cfg = describe_topic_config(node, "keep")
        h.check(cfg.get("retention.ms") == "3600000" and
                cfg.get("max.message.bytes") == "2000000", "configs after restart: %r" %
                {k: cfg.get(k) for k in ("retention.ms", "max.message.bytes")})
        got = h.ck_consume(node, "keep", [0, 1, 2], 300, timeout=30)
        h.check(sorted((m.partition(), m.offset(), m.value()) for m in got) ==
                sorted((i % 3, i // 3, value_for(i)) for i in range(300)),
                "records differ after restart")
        res = h.ck_produce(node, "keep", [{"value": b"next", "partition": 1}],
                           extra={"acks": "all"})
        h.check(res == [(1, 100)], "first record after restart at %r, want (1, 100)" % res)

        # Twice more, including a restart with no activity in between.
        restart(node, signal.SIGTERM)
        restart(node, signal.SIGTERM)
        again = h.wait_for(lambda: h.metadata_v10_topic_ids(node.port), "metadata")
        h.check(again.get("keep") == ids["keep"] and "gone" not in again,
                "after two more restarts: %r" % again)
        h.check(high_watermark(node, "keep", 1) == 101, "keep-1 end offset after restarts")
        rc = node.stop()
        h.check(rc == 0, "exit code %r after SIGTERM" % rc)
    except Exception:
        sys.stdout.write("---- sluice log (tail) ----\n%s\n" % node.logs()[-5000:])
        raise
    finally:
        node.cleanup()


def main():
    h.watchdog(175, NODES)
    env = os.environ.get("SLUICE_IT_BACKENDS")
    tests = []
    for b in (env.split(",") if env else h.BACKENDS):
        for name, fn in (("kill9_mid_stream", test_kill9_mid_stream),
                         ("kill9_after_create", test_kill9_after_create),
                         ("sigterm_restart_keeps_metadata", test_sigterm_restart_keeps_metadata)):
            tests.append(("%s[%s]" % (name, b), lambda fn=fn, b=b: fn(b)))
    h.run(tests)


if __name__ == "__main__":
    main()
