"""test_kafkajs.py: kafkajs (Node.js, its own protocol code: Produce v7, Fetch v11, ListOffsets
v3, CreateTopics v3, DescribeConfigs v2 ...) against sluice.

kafkajs admin creates/lists/deletes topics and gets the CreateTopics errors; describe/alter
configs; fetchTopicOffsets and fetchTopicOffsetsByTimestamp; kafkajs produces gzip (kcat
consumes), snappy (confluent-kafka consumes), lz4 (kcat consumes), uncompressed with acks 0/1/-1
(confluent-kafka consumes); confluent-kafka produces gzip/snappy/lz4/zstd-free batches and kafkajs'
Fetch decoder reads them back byte-exact. The scripts are kafkajs_*.js next to this file.
"""

import base64
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = None
T0 = 1680000000000
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def b64(b):
    return None if b is None else base64.b64encode(b).decode()


def unb64(s):
    return None if s is None else base64.b64decode(s)


def node_script(script, args, stdin=None, timeout=90):
    for mod in ("kafkajs", "kafkajs-snappy", "kafkajs-lz4"):
        h.check(os.path.isdir(os.path.join(HERE, "node_modules", mod)),
                "npm module %s missing: run scripts/deps.sh (npm install in %s)" % (mod, HERE))
    p = subprocess.run(["node", os.path.join(HERE, script), "localhost:%d" % NODE.port] +
                       [str(a) for a in args], input=stdin, capture_output=True, text=True,
                       timeout=timeout, cwd=HERE)
    h.check(p.returncode == 0, "%s %s failed (%d): %s" % (script, args, p.returncode,
                                                         p.stderr[-3000:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


def admin_ops(ops):
    return node_script("kafkajs_admin.js", [], stdin=json.dumps(ops))


def js_produce(topic, compression, batches, acks=-1):
    spec = {"topic": topic, "compression": compression, "acks": acks, "batches": [
        [{"key": b64(k), "value": b64(v), "headers": {n: b64(x) for n, x in hd.items()},
          "timestamp": str(ts), "partition": p} for k, v, hd, ts, p in batch]
        for batch in batches]}
    return node_script("kafkajs_produce.js", [], stdin=json.dumps(spec))


def js_fetch(topic, partition, offset, count):
    return node_script("kafkajs_fetch.js", [topic, partition, offset, count])


def records(tag, n, partition=0):
    out = []
    for i in range(n):
        key = None if i % 4 == 0 else b"%s-key-%d" % (tag.encode(), i)
        val = b"" if i % 9 == 5 else (b"%s value %d;" % (tag.encode(), i)) * (1 + i % 17)
        hd = {"idx": b"%d" % i} if i % 2 else {}
        out.append((key, val, hd, T0 + i * 3, partition))
    return out


def check_ck_records(got, want, what):
    h.check(len(got) == len(want), "%s: %d records, want %d" % (what, len(got), len(want)))
    for i, (m, (k, v, hd, ts, _)) in enumerate(zip(got, want)):
        h.check(m.offset() == i, "%s: offset %d at %d" % (what, m.offset(), i))
        h.check(m.key() == k and m.value() == v, "%s record %d: %r %r" %
                (what, i, m.key(), (m.value() or b"")[:30]))
        h.check(dict(m.headers() or []) == hd, "%s record %d headers %r" %
                (what, i, m.headers()))
        h.check(m.timestamp() == (1, ts), "%s record %d timestamp %r" % (what, i, m.timestamp()))


def kcat_json(topic, count):
    p = subprocess.run(["kcat", "-C", "-b", "localhost:%d" % NODE.port, "-t", topic, "-p", "0",
                        "-o", "beginning", "-c", str(count), "-e", "-J", "-q"],
                       capture_output=True, text=True, timeout=60)
    h.check(p.returncode == 0, "kcat -C failed (%d): %s" % (p.returncode, p.stderr))
    return [json.loads(x) for x in p.stdout.splitlines() if x.strip()]


# ---- tests ---------------------------------------------------------------------------------

def test_admin():
    res = admin_ops([
        {"op": "create", "topics": [{"topic": "js-a", "numPartitions": 3, "replicationFactor": 1,
                                     "configEntries": [{"name": "retention.ms",
                                                        "value": "600000"}]}]},
        {"op": "create", "topics": [{"topic": "js-a", "numPartitions": 1}]},
        {"op": "create", "topics": [{"topic": "js bad", "numPartitions": 1}]},
        {"op": "create", "topics": [{"topic": "js-p0", "numPartitions": 0,
                                     "replicationFactor": 1}]},
        {"op": "create", "topics": [{"topic": "js-rf", "numPartitions": 1,
                                     "replicationFactor": 2}]},
        {"op": "create", "topics": [{"topic": "js-cfg", "numPartitions": 1, "configEntries": [
            {"name": "cleanup.policy", "value": "maybe"}]}]},
        {"op": "metadata", "topics": ["js-a"]},
        {"op": "list"},
        {"op": "describeConfigs", "topic": "js-a"},
        {"op": "alterConfigs", "topic": "js-a", "configs": {"retention.ms": "700000"}},
        {"op": "describeConfigs", "topic": "js-a"},
        {"op": "delete", "topics": ["js-a"]},
        {"op": "list"},
    ])
    h.check(res[0] == {"ok": True, "value": True}, "create js-a: %r" % res[0])
    # kafkajs turns TOPIC_ALREADY_EXISTS into a false result.
    h.check(res[1] == {"ok": True, "value": False}, "duplicate create: %r" % res[1])

    def error_types(r):
        h.check(not r["ok"], "expected an error, got %r" % r)
        e = r["error"]
        return [x["type"] for x in (e.get("errors") or [e])]
    for i, want in ((2, "INVALID_TOPIC_EXCEPTION"), (3, "INVALID_PARTITIONS"),
                    (4, "INVALID_REPLICATION_FACTOR"), (5, "INVALID_CONFIG")):
        h.check(error_types(res[i]) == [want], "op %d: errors %r, want %s" %
                (i, res[i], want))
    md = res[6]["value"]["topics"]
    h.check(len(md) == 1 and md[0]["name"] == "js-a" and
            sorted(p["partitionId"] for p in md[0]["partitions"]) == [0, 1, 2],
            "metadata %r" % md)
    h.check(all(p["leader"] == NODE.node_id and p["partitionErrorCode"] == 0
                for p in md[0]["partitions"]), "partition leaders %r" % md[0]["partitions"])
    h.check("js-a" in res[7]["value"], "list %r" % res[7])
    for bad in ("js-p0", "js-rf", "js-cfg", "js bad"):
        h.check(bad not in res[7]["value"], "failed create left %s" % bad)
    h.check(res[8]["ok"] and res[8]["value"]["errorCode"] == 0 and
            res[8]["value"]["entries"].get("retention.ms") == "600000",
            "describeConfigs %r" % res[8])
    h.check(res[9]["ok"] and res[9]["value"] == [{"errorCode": 0}], "alterConfigs %r" % res[9])
    h.check(res[10]["ok"] and res[10]["value"]["entries"].get("retention.ms") == "700000",
            "describeConfigs after alter %r" % res[10])
    h.check(res[11]["ok"], "delete %r" % res[11])
    h.check("js-a" not in res[12]["value"], "js-a still listed after delete: %r" % res[12])


def test_offsets():
    h.ck_create_topic(NODE, "js-lo", partitions=2)
    batches = [[(None, b"lo%d" % i, {}, T0 + 100 * i, 1) for i in range(j * 10, j * 10 + 10)]
               for j in range(4)]
    res = js_produce("js-lo", "none", batches)
    h.check([r[0]["baseOffset"] for r in res] == ["0", "10", "20", "30"],
            "kafkajs produce base offsets %r" % res)
    out = admin_ops([{"op": "offsets", "topic": "js-lo"},
                     {"op": "offsetsByTime", "topic": "js-lo", "timestamp": T0 + 1250},
                     {"op": "offsetsByTime", "topic": "js-lo", "timestamp": T0 - 1}])
    offs = sorted(out[0]["value"], key=lambda x: x["partition"])
    h.check([(o["partition"], o["low"], o["high"]) for o in offs] ==
            [(0, "0", "0"), (1, "0", "40")], "fetchTopicOffsets %r" % offs)
    by_time = {o["partition"]: o["offset"] for o in out[1]["value"]}
    h.check(by_time.get(1) == "13", "offset by time T0+1250 on p1: %r" % out[1])
    by_time = {o["partition"]: o["offset"] for o in out[2]["value"]}
    h.check(by_time.get(1) == "0", "offset by time T0-1 on p1: %r" % out[2])


def test_kafkajs_gzip_lz4_to_kcat():
    for codec in ("gzip", "lz4"):
        topic = "js2kcat-" + codec
        h.ck_create_topic(NODE, topic)
        recs = [(b"k%d" % i, ("%s text %d " % (codec, i)).encode() * 4, {}, T0 + i, 0)
                for i in range(150)]
        js_produce(topic, codec, [recs[:50], recs[50:]])
        codecs = h.stored_codecs(NODE.port, topic, 0)
        h.check(codecs and set(codecs) == {CODEC_IDS[codec]}, "kafkajs %s: stored codecs %r" %
                (codec, codecs))
        got = kcat_json(topic, 150)
        h.check(len(got) == 150, "kcat read %d of 150 (%s)" % (len(got), codec))
        for i, m in enumerate(got):
            h.check(m["offset"] == i and m["key"] == "k%d" % i and
                    m["payload"] == ("%s text %d " % (codec, i)) * 4 and m["ts"] == T0 + i,
                    "kcat %s record %d: %r" % (codec, i, m))


def test_kafkajs_snappy_to_confluent():
    h.ck_create_topic(NODE, "js2ck-snappy")
    recs = records("snappy", 400)
    js_produce("js2ck-snappy", "snappy", [recs[i:i + 100] for i in range(0, 400, 100)])
    codecs = h.stored_codecs(NODE.port, "js2ck-snappy", 0)
    h.check(codecs and set(codecs) == {2}, "kafkajs snappy: stored codecs %r" % codecs)
    check_ck_records(h.ck_consume(NODE, "js2ck-snappy", [0], 400, timeout=30), recs,
                     "kafkajs snappy -> confluent")


def test_kafkajs_acks():
    h.ck_create_topic(NODE, "js-acks", partitions=3)
    for part, acks in enumerate((0, 1, -1)):
        recs = records("acks%d" % acks, 120, partition=part)
        res = js_produce("js-acks", "none", [recs[:60], recs[60:]], acks=acks)
        if acks != 0:
            h.check([r[0]["baseOffset"] for r in res] == ["0", "60"] and
                    all(r[0]["errorCode"] == 0 for r in res), "acks=%d results %r" % (acks, res))
        check_ck_records(h.ck_consume(NODE, "js-acks", [part], 120, timeout=30), recs,
                         "kafkajs acks=%d -> confluent" % acks)


def kp_produce(topic, recs, codec):
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers="localhost:%d" % NODE.port, compression_type=codec,
                      acks="all", linger_ms=30, request_timeout_ms=15000, max_block_ms=15000,
                      api_version_auto_timeout_ms=10000)
    try:
        futs = [p.send(topic, key=k, value=v, headers=list(hd.items()), timestamp_ms=ts,
                       partition=part) for k, v, hd, ts, part in recs]
        p.flush(timeout=30)
        h.check([f.get(timeout=30).offset for f in futs] == list(range(len(recs))),
                "kafka-python %s offsets" % codec)
    finally:
        p.close(timeout=10)


def test_confluent_to_kafkajs_fetch():
    for codec in ("none", "gzip", "snappy", "lz4"):
        topic = "ck2js-" + codec
        h.ck_create_topic(NODE, topic)
        recs = records("ck" + codec, 300)
        if codec == "lz4":
            # librdkafka only sends lz4 to brokers advertising FindCoordinator; kafka-python
            # always does, so it writes the lz4 batches kafkajs must decode.
            kp_produce(topic, recs, codec)
        else:
            h.ck_produce(NODE, topic, [{"key": k, "value": v,
                                        "headers": list(hd.items()) or None,
                                        "timestamp": ts, "partition": p}
                                       for k, v, hd, ts, p in recs],
                         extra={"compression.type": codec, "linger.ms": 30})
        h.check_stored_codec(NODE.port, topic, 0, codec, codec)
        out = js_fetch(topic, 0, 0, 300)
        h.check(out["errorCodes"] == [], "kafkajs fetch errors %r" % out["errorCodes"])
        h.check(out["highWatermark"] == "300", "high watermark %r" % out["highWatermark"])
        msgs = out["messages"]
        h.check(len(msgs) == 300, "kafkajs fetched %d of 300 (%s)" % (len(msgs), codec))
        for i, (m, (k, v, hd, ts, _)) in enumerate(zip(msgs, recs)):
            h.check(m["offset"] == str(i), "%s offset %r at %d" % (codec, m["offset"], i))
            h.check(unb64(m["key"]) == k and unb64(m["value"]) == v,
                    "%s record %d key/value differ" % (codec, i))
            h.check({n: unb64(x) for n, x in m["headers"].items()} == hd,
                    "%s record %d headers %r" % (codec, i, m["headers"]))
            h.check(m["timestamp"] == str(ts), "%s record %d timestamp %r" %
                    (codec, i, m["timestamp"]))
        # Fetch from the middle.
        out = js_fetch(topic, 0, 250, 50)
        h.check([m["offset"] for m in out["messages"]] == [str(i) for i in range(250, 300)],
                "%s fetch from 250: %r" % (codec, [m["offset"] for m in out["messages"]][:3]))


def test_fetch_unknown_partition():
    h.ck_create_topic(NODE, "js-fu")
    p = subprocess.run(["node", os.path.join(HERE, "kafkajs_fetch.js"),
                        "localhost:%d" % NODE.port, "js-fu", "5", "0", "1"],
                       capture_output=True, text=True, timeout=60, cwd=HERE)
    # kafkajs finds no leader for a partition the metadata does not list: it must fail
    # cleanly (no hang) and the broker must stay up.
    h.check(p.returncode != 0 or json.loads(p.stdout.strip().splitlines()[-1])["errorCodes"],
            "fetching js-fu-5 succeeded: %s" % p.stdout)
    h.assert_api_versions_ok(NODE.port)


TESTS = [
    ("admin", test_admin),
    ("offsets", test_offsets),
    ("kafkajs_gzip_lz4_to_kcat", test_kafkajs_gzip_lz4_to_kcat),
    ("kafkajs_snappy_to_confluent", test_kafkajs_snappy_to_confluent),
    ("kafkajs_acks", test_kafkajs_acks),
    ("confluent_to_kafkajs_fetch", test_confluent_to_kafkajs_fetch),
    ("fetch_unknown_partition", test_fetch_unknown_partition),
]


def set_node(node):
    global NODE
    NODE = node


def main():
    h.run_on_single_nodes("kafkajs", TESTS, set_node)


if __name__ == "__main__":
    main()
