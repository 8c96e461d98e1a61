"""test_kafka_python.py: kafka-python (pure Python client, its own protocol code) against sluice.

KafkaAdminClient creates, describes and deletes topics and gets every CreateTopics error as its
exception class; describe/alter configs; kafka-python produces in every codec (and with acks
0/1/all) and confluent-kafka consumes; confluent-kafka produces in every codec (zstd included)
and kafka-python consumes; kafka-python's ListOffsets (beginning/end/offsets_for_times) and seek.
"""

import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

import kafka.errors as KE  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic  # noqa

NODE = None
T0 = 1650000000000
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def bootstrap():
    return "localhost:%d" % NODE.port


def admin():
    return KafkaAdminClient(bootstrap_servers=bootstrap(), request_timeout_ms=15000,
                            api_version_auto_timeout_ms=10000)


def producer(**kw):
    conf = dict(bootstrap_servers=bootstrap(), request_timeout_ms=15000,
                api_version_auto_timeout_ms=10000, linger_ms=5, max_block_ms=15000)
    conf.update(kw)
    return KafkaProducer(**conf)


def consumer(**kw):
    conf = dict(bootstrap_servers=bootstrap(), group_id=None, enable_auto_commit=False,
                request_timeout_ms=15000, api_version_auto_timeout_ms=10000,
                fetch_max_wait_ms=100, consumer_timeout_ms=1000)
    conf.update(kw)
    return KafkaConsumer(**conf)


def kp_consume(topic, partition, count, timeout=60, offset=None, **kw):
    c = consumer(**kw)
    try:
        tp = TopicPartition(topic, partition)
        c.assign([tp])
        if offset is None:
            c.seek_to_beginning(tp)
        else:
            c.seek(tp, offset)
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            h.check(time.monotonic() < deadline, "kafka-python consumed %d of %d from %s" %
                    (len(out), count, topic))
            for recs in c.poll(timeout_ms=500, max_records=count - len(out)).values():
                out.extend(recs)
        return out
    finally:
        c.close()


def expect_error(fn, exc, what):
    try:
        fn()
    except exc:
        return
    except Exception as e:  # noqa: BLE001
        raise h.TestFailure("%s: expected %s (errno %s), got %r" %
                            (what, exc.__name__, getattr(exc, "errno", "?"), e))
    raise h.TestFailure("%s: expected %s, got success" % (what, exc.__name__))


def test_admin_topics_and_errors():
    a = admin()
    try:
        a.create_topics([NewTopic("kp-a", 3, 1, topic_configs={"retention.ms": "7200000"})],
                        timeout_ms=15000)
        h.wait_for(lambda: "kp-a" in a.list_topics(), "kp-a in list_topics")
        md = a.describe_topics(["kp-a"])
        h.check(len(md) == 1 and md[0]["error_code"] == 0 and md[0]["topic"] == "kp-a",
                "describe_topics %r" % md)
        h.check(sorted(p["partition"] for p in md[0]["partitions"]) == [0, 1, 2],
                "kp-a partitions %r" % md[0]["partitions"])
        expect_error(lambda: a.create_topics([NewTopic("kp-a", 1, 1)], timeout_ms=15000),
                     KE.TopicAlreadyExistsError, "duplicate topic")
        for bad in ("has space", "x" * 260, "..", "a:b"):
            expect_error(lambda: a.create_topics([NewTopic(bad, 1, 1)], timeout_ms=15000),
                         KE.InvalidTopicError, "bad name %r" % bad[:20])
        expect_error(lambda: a.create_topics([NewTopic("kp-p0", 0, 1)], timeout_ms=15000),
                     KE.InvalidPartitionsError, "0 partitions")
        expect_error(lambda: a.create_topics([NewTopic("kp-p-5", -5, 1)], timeout_ms=15000),
                     KE.InvalidPartitionsError, "-5 partitions")
        expect_error(lambda: a.create_topics([NewTopic("kp-rf", 1, 2)], timeout_ms=15000),
                     KE.InvalidReplicationFactorError, "rf 2 on one node")
        expect_error(lambda: a.create_topics([NewTopic("kp-rf0", 1, 0)], timeout_ms=15000),
                     KE.InvalidReplicationFactorError, "rf 0")
        expect_error(lambda: a.create_topics(
            [NewTopic("kp-cfg", 1, 1, topic_configs={"cleanup.policy": "sometimes"})],
            timeout_ms=15000), KE.InvalidConfigurationError, "cleanup.policy=sometimes")
        expect_error(lambda: a.create_topics(
            [NewTopic("kp-cfg", 1, 1, topic_configs={"min.insync.replicas": "-3"})],
            timeout_ms=15000), KE.InvalidConfigurationError, "min.insync.replicas=-3")
        topics = a.list_topics()
        for t in ("kp-p0", "kp-p-5", "kp-rf", "kp-rf0", "kp-cfg"):
            h.check(t not in topics, "failed create left %s behind" % t)

        a.delete_topics(["kp-a"], timeout_ms=15000)
        h.wait_for(lambda: "kp-a" not in a.list_topics(), "kp-a to be deleted")
        expect_error(lambda: a.delete_topics(["kp-a"], timeout_ms=15000),
                     KE.UnknownTopicOrPartitionError, "delete deleted topic")
    finally:
        a.close()


def test_describe_alter_configs():
    a = admin()
    try:
        a.create_topics([NewTopic("kp-cfgs", 1, 1, topic_configs={"retention.bytes": "1048576"})],
                        timeout_ms=15000)

        def entries():
            resp = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-cfgs")])
            h.check(len(resp) == 1 and len(resp[0].resources) == 1, "describe %r" % resp)
            res = resp[0].resources[0]
            h.check(res[0] == 0, "describe_configs error %r" % (res[:2],))
            return {e[0]: e[1] for e in res[4]}
        cfg = entries()
        h.check(cfg.get("retention.bytes") == "1048576", "retention.bytes %r" %
                cfg.get("retention.bytes"))
        h.check(cfg.get("cleanup.policy") == "delete", "cleanup.policy %r" %
                cfg.get("cleanup.policy"))
        resp = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-cfgs",
                                               configs={"retention.bytes": "2097152"})])
        h.check(resp.resources[0][0] == 0, "alter_configs error %r" % (resp.resources[0],))
        h.wait_for(lambda: entries().get("retention.bytes") == "2097152",
                   "retention.bytes=2097152 after alter")
        resp = a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "kp-cfgs",
                                               configs={"cleanup.policy": "nope"})])
        h.check(resp.resources[0][0] == 40, "alter cleanup.policy=nope: error %r, want 40" %
                (resp.resources[0][:2],))
        h.check(entries().get("cleanup.policy") == "delete", "failed alter changed config")
    finally:
        a.close()


def create(name, partitions=1):
    h.ck_create_topic(NODE, name, partitions=partitions)


def records_for(codec, n=500):
    rnd = random.Random(codec)
    out = []
    for i in range(n):
        key = None if i % 5 == 0 else (b"" if i % 5 == 1 else b"key-%d" % i)
        val = None if i % 11 == 3 else (b"" if i % 11 == 4 else
                                        (b"%s-%d|" % (codec.encode(), i)) * rnd.randrange(1, 30))
        if key is None and val is None:
            val = b"kafka-python refuses a null key with a null value"
        hdrs = [("n", b"%d" % i), ("e", b"")] if i % 3 == 0 else []
        out.append((key, val, hdrs, T0 + i))
    return out


def test_kafka_python_produces_confluent_consumes():
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        topic = "kp2ck-" + codec
        create(topic)
        recs = records_for(codec)
        p = producer(compression_type=codec, acks="all", batch_size=65536, linger_ms=20)
        try:
            futs = [p.send(topic, key=k, value=v, headers=hd, timestamp_ms=ts, partition=0)
                    for k, v, hd, ts in recs]
            p.flush(timeout=30)
            offs = [f.get(timeout=30).offset for f in futs]
        finally:
            p.close(timeout=10)
        h.check(offs == list(range(len(recs))), "%s acked offsets %r..." % (codec, offs[:5]))
        codecs = h.stored_codecs(NODE.port, topic, 0)
        h.check(codecs and set(codecs) == {CODEC_IDS[codec]},
                "kafka-python %s: stored batch codecs %r" % (codec, codecs))
        got = h.ck_consume(NODE, topic, [0], len(recs), timeout=30)
        for i, (m, (k, v, hd, ts)) in enumerate(zip(got, recs)):
            h.check(m.offset() == i, "%s offset %d at %d" % (codec, m.offset(), i))
            h.check(m.key() == k and m.value() == v, "%s record %d key/value differ: %r %r" %
                    (codec, i, m.key(), (m.value() or b"")[:30]))
            h.check((m.headers() or []) == hd, "%s record %d headers %r != %r" %
                    (codec, i, m.headers(), hd))
            h.check(m.timestamp() == (1, ts), "%s record %d timestamp %r != CreateTime %d" %
                    (codec, i, m.timestamp(), ts))


def test_confluent_produces_kafka_python_consumes():
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        topic = "ck2kp-" + codec
        create(topic)
        recs = records_for(codec + "!")
        h.ck_produce(NODE, topic, [{"key": k, "value": v, "headers": hd or None,
                                    "timestamp": ts, "partition": 0} for k, v, hd, ts in recs],
                     extra={"compression.type": codec, "linger.ms": 30})
        got = kp_consume(topic, 0, len(recs))
        for i, (m, (k, v, hd, ts)) in enumerate(zip(got, recs)):
            h.check(m.offset == i, "%s offset %d at %d" % (codec, m.offset, i))
            h.check(m.key == k and m.value == v, "%s record %d differs: %r %r" %
                    (codec, i, m.key, (m.value or b"")[:30]))
            h.check(list(m.headers) == hd, "%s record %d headers %r != %r" %
                    (codec, i, m.headers, hd))
            h.check(m.timestamp == ts and m.timestamp_type == 0,
                    "%s record %d timestamp %r type %r" % (codec, i, m.timestamp,
                                                           m.timestamp_type))


def test_acks():
    create("kp-acks", partitions=3)
    for part, acks in enumerate((0, 1, "all")):
        p = producer(acks=acks)
        try:
            futs = [p.send("kp-acks", value=b"a%s-%d" % (str(acks).encode(), i), partition=part)
                    for i in range(300)]
            p.flush(timeout=30)
            metas = [f.get(timeout=30) for f in futs]
        finally:
            p.close(timeout=10)
        if acks != 0:
            h.check([m.offset for m in metas] == list(range(300)), "acks=%s offsets" % acks)
        got = kp_consume("kp-acks", part, 300)
        h.check([m.value for m in got] == [b"a%s-%d" % (str(acks).encode(), i)
                                           for i in range(300)], "acks=%s records" % acks)


def test_offsets_and_seek():
    create("kp-lo")
    p = producer(acks="all", batch_size=200)
    try:
        for i in range(60):
            p.send("kp-lo", value=b"lo%d" % i, timestamp_ms=T0 + 10 * i, partition=0)
        p.flush(timeout=30)
    finally:
        p.close(timeout=10)
    c = consumer()
    try:
        tp = TopicPartition("kp-lo", 0)
        h.check(c.beginning_offsets([tp])[tp] == 0, "beginning offset")
        h.check(c.end_offsets([tp])[tp] == 60, "end offset %r" % c.end_offsets([tp]))
        for ts, want in ((T0 - 1, 0), (T0 + 300, 30), (T0 + 301, 31), (T0 + 590, 59)):
            r = c.offsets_for_times({tp: ts})[tp]
            h.check(r is not None and r.offset == want and r.timestamp == T0 + 10 * want,
                    "offsets_for_times(T0%+d) = %r, want offset %d" % (ts - T0, r, want))
        r = c.offsets_for_times({tp: T0 + 10000})[tp]
        h.check(r is None, "offsets_for_times past the end = %r, want None" % (r,))
    finally:
        c.close()
    got = kp_consume("kp-lo", 0, 10, offset=45)
    h.check([m.offset for m in got] == list(range(45, 55)) and got[0].value == b"lo45",
            "seek to 45 got %r" % [(m.offset, m.value) for m in got][:3])


def test_null_header_values():
    """kcat writes null header values (-H name); kafka-python reads them back as None.
    (kafka-python and confluent-kafka 1.7 cannot produce them.)"""
    create("kp-hnull")
    lines = "".join("k%d:v%d\n" % (i, i) for i in range(20))
    p = subprocess.run(["kcat", "-P", "-b", bootstrap(), "-t", "kp-hnull", "-p", "0", "-K", ":",
                        "-H", "null", "-H", "empty=", "-H", "dup=1", "-H", "dup=2"],
                       input=lines, capture_output=True, text=True, timeout=60)
    h.check(p.returncode == 0, "kcat -P failed (%d): %s" % (p.returncode, p.stderr))
    got = kp_consume("kp-hnull", 0, 20)
    for i, m in enumerate(got):
        h.check(list(m.headers) == [("null", None), ("empty", b""), ("dup", b"1"),
                                    ("dup", b"2")], "record %d headers %r" % (i, m.headers))
        h.check(m.key == b"k%d" % i and m.value == b"v%d" % i, "record %d" % i)


TESTS = [
    ("admin_topics_and_errors", test_admin_topics_and_errors),
    ("describe_alter_configs", test_describe_alter_configs),
    ("kafka_python_produces_confluent_consumes", test_kafka_python_produces_confluent_consumes),
    ("confluent_produces_kafka_python_consumes", test_confluent_produces_kafka_python_consumes),
    ("acks", test_acks),
    ("offsets_and_seek", test_offsets_and_seek),
    ("null_header_values", test_null_header_values),
]


def set_node(node):
    global NODE
    NODE = node


def main():
    h.run_on_single_nodes("kafka-python", TESTS, set_node)


if __name__ == "__main__":
    main()
