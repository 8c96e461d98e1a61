"""test_admin_auto_create.py: topic auto-creation through Metadata, and the admin switches, with
real clients.

auto.create.topics.enable=true: kcat (librdkafka, Metadata v4 with allow_auto_topic_creation)
and kafka-python (Metadata v1: always allows) produce to topics that do not exist; the topic is
created with num.partitions and the very first Metadata reply already carries it (sluice waits
for the commit instead of answering LEADER_NOT_AVAILABLE), so the records land at offset 0.
auto.create.topics.enable=false: the topic stays unknown (kcat -L reports it, kafka-python's
producer gives up). delete.topic.enable=false: DeleteTopics gets TOPIC_DELETION_DISABLED.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

import kafka.errors as KE  # noqa: E402
from kafka import KafkaProducer  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402


def kcat(port, args, stdin=None):
    r = subprocess.run(["kcat", "-b", "localhost:%d" % port] + args, input=stdin,
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def producer(port, **kw):
    conf = dict(bootstrap_servers="localhost:%d" % port, request_timeout_ms=15000,
                api_version_auto_timeout_ms=10000, max_block_ms=15000)
    conf.update(kw)
    return KafkaProducer(**conf)


def test_auto_create_enabled():
    node = h.start_single("auto-on", extra={"auto.create.topics.enable": "true",
                                            "num.partitions": "3"})
    try:
        rc, out, err = kcat(node.port, ["-P", "-t", "auto-kcat", "-p", "0"], "one\ntwo\n")
        h.check(rc == 0, "kcat produce to a new topic failed: %s %s" % (out, err))
        rc, out, err = kcat(node.port, ["-L", "-t", "auto-kcat"])
        h.check(rc == 0 and 'topic "auto-kcat" with 3 partitions' in out,
                "auto-created topic not listed with num.partitions: %s %s" % (out, err))
        rc, out, err = kcat(node.port, ["-C", "-t", "auto-kcat", "-p", "0", "-o", "beginning",
                                        "-e", "-f", "%o:%s\\n"])
        h.check(rc == 0 and "0:one" in out and "1:two" in out,
                "records of the auto-created topic: %s %s" % (out, err))
        p = producer(node.port)
        try:
            md = p.send("auto-kpy", b"v").get(timeout=15)
            h.check(md.offset == 0, "kafka-python: first record at offset %d" % md.offset)
        finally:
            p.close()
        h.check(any("auto-creating topic auto-kpy" in line for line in node.log_lines()),
                "no log line for the auto-creation")
        # An illegal name is never created.
        rc, out, err = kcat(node.port, ["-L", "-t", "bad!name"])
        h.check('topic "bad!name" with 0 partitions: Broker: Invalid topic' in out,
                "an illegal topic name: %s %s" % (out, err))
    finally:
        node.stop()
        node.cleanup()


def test_auto_create_disabled_and_no_deletion():
    node = h.start_single("auto-off", extra={"auto.create.topics.enable": "false",
                                             "delete.topic.enable": "false"})
    try:
        rc, out, err = kcat(node.port, ["-L", "-t", "never-made"])
        h.check("Unknown topic" in out + err, "kcat -L of an unknown topic: %s %s" % (out, err))
        p = producer(node.port, max_block_ms=3000)
        try:
            try:
                p.send("never-made", b"v").get(timeout=10)
                raise h.TestFailure("a record was produced to a topic that does not exist")
            except KE.KafkaTimeoutError:
                pass
        finally:
            p.close()
        a = KafkaAdminClient(bootstrap_servers="localhost:%d" % node.port,
                             request_timeout_ms=15000, api_version_auto_timeout_ms=10000)
        try:
            a.create_topics([NewTopic("kept", 1, 1)])
            h.check("never-made" not in a.list_topics(), "never-made was auto-created")
            # kafka-python 2.0.2 has no class for code 73: it raises UnknownError quoting it.
            try:
                a.delete_topics(["kept"])
                raise h.TestFailure("DeleteTopics succeeded with delete.topic.enable=false")
            except KE.KafkaError as e:
                h.check("error_code=73" in str(e), "DeleteTopics error: %r" % e)
            h.check("kept" in a.list_topics(), "the topic went away")
        finally:
            a.close()
    finally:
        node.stop()
        node.cleanup()


if __name__ == "__main__":
    h.run([
        ("auto_create_enabled", test_auto_create_enabled),
        ("auto_create_disabled_and_no_deletion", test_auto_create_disabled_and_no_deletion),
    ])
