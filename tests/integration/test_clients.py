"""test_clients.py: real Kafka clients read cluster metadata from a sluice node.

kcat (librdkafka: ApiVersions v3, Metadata v4), confluent-kafka's AdminClient (librdkafka),
kafka-python with default api_version probing (ApiVersions v0 then Metadata v0, later v1/v5)
and kafkajs (ApiVersions v2, Metadata v6) must each see this one broker and zero topics, on
both io backends.
"""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def kcat(node, cluster_id):
    p = subprocess.run(["kcat", "-L", "-J", "-m", "10", "-b", "localhost:%d" % node.port],
                       capture_output=True, text=True, timeout=60)
    h.check(p.returncode == 0, "kcat failed (%d): %s" % (p.returncode, p.stderr))
    md = json.loads(p.stdout)
    brokers = md.get("brokers", [])
    h.check(len(brokers) == 1, "kcat brokers %r" % brokers)
    h.check(brokers[0]["id"] == node.node_id, "kcat broker id %r" % brokers[0])
    h.check(brokers[0]["name"] == "localhost:%d" % node.port, "kcat broker %r" % brokers[0])
    h.check(md.get("topics") == [], "kcat topics %r" % md.get("topics"))
    h.check(md.get("controllerid") == node.node_id, "kcat controller %r" % md.get("controllerid"))


def confluent(node, cluster_id):
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": "localhost:%d" % node.port})
    md = admin.list_topics(timeout=15)
    h.check(set(md.brokers) == {node.node_id}, "confluent brokers %r" % md.brokers)
    b = md.brokers[node.node_id]
    h.check((b.host, b.port) == ("localhost", node.port), "confluent broker %s:%d" %
            (b.host, b.port))
    h.check(md.topics == {}, "confluent topics %r" % md.topics)
    h.check(md.cluster_id == cluster_id, "confluent cluster id %r" % md.cluster_id)
    h.check(md.controller_id == node.node_id, "confluent controller %r" % md.controller_id)
    # A named topic that does not exist is reported with UNKNOWN_TOPIC_OR_PARTITION.
    md = admin.list_topics(topic="no-such-topic", timeout=15)
    t = md.topics.get("no-such-topic")
    h.check(t is not None and t.error is not None and t.error.code() == 3,
            "confluent unknown topic %r" % (t.error if t else None))


def kafka_python(node, cluster_id):
    from kafka import KafkaConsumer
    from kafka.admin import KafkaAdminClient
    # No api_version: the client probes with ApiVersions v0 then Metadata v0.
    consumer = KafkaConsumer(bootstrap_servers="localhost:%d" % node.port,
                             request_timeout_ms=15000, api_version_auto_timeout_ms=10000)
    try:
        topics = consumer.topics()
        h.check(topics == set(), "kafka-python topics %r" % topics)
    finally:
        consumer.close()
    admin = KafkaAdminClient(bootstrap_servers="localhost:%d" % node.port,
                             request_timeout_ms=15000)
    try:
        h.check(admin.list_topics() == [], "kafka-python admin topics")
        cluster = admin.describe_cluster()
        h.check(cluster["cluster_id"] == cluster_id, "kafka-python cluster %r" % cluster)
        h.check([b["node_id"] for b in cluster["brokers"]] == [node.node_id],
                "kafka-python brokers %r" % cluster["brokers"])
    finally:
        admin.close()


def kafkajs(node, cluster_id):
    if not os.path.isdir(os.path.join(HERE, "node_modules", "kafkajs")):
        npm = shutil.which("npm")
        h.check(npm is not None, "kafkajs missing and npm not found")
        subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=HERE, check=True,
                       timeout=300)
    p = subprocess.run(["node", os.path.join(HERE, "kafkajs_metadata.js"),
                        "localhost:%d" % node.port], capture_output=True, text=True,
                       timeout=60, cwd=HERE)
    h.check(p.returncode == 0, "kafkajs failed (%d): %s" % (p.returncode, p.stderr))
    md = json.loads(p.stdout.strip().splitlines()[-1])
    h.check(md["clusterId"] == cluster_id, "kafkajs cluster id %r" % md["clusterId"])
    h.check(md["controller"] == node.node_id, "kafkajs controller %r" % md["controller"])
    h.check(md["brokers"] == [{"nodeId": node.node_id, "host": "localhost", "port": node.port}],
            "kafkajs brokers %r" % md["brokers"])
    h.check(md["topics"] == [] and md["listTopics"] == [], "kafkajs topics %r" % md)


def make_test(backend):
    def test():
        # No auto-creation: the clients below look up a topic that must stay unknown
        # (test_admin_auto_create.py covers auto-creation).
        node = h.Node(name="clients-" + backend, extra={"auto.create.topics.enable": "false"})
        try:
            cluster_id = h.random_uuid()
            node.format(cluster_id)
            node.start(backend=backend)
            node.wait_log("io.backend=" + backend)
            for client in (kcat, confluent, kafka_python, kafkajs):
                try:
                    client(node, cluster_id)
                except Exception:
                    print("client %s failed" % client.__name__)
                    raise
                h.check(node.alive(), "server died during %s" % client.__name__)
            rc = node.stop()
            h.check(rc == 0, "exit code %r after SIGTERM" % rc)
        except Exception:
            sys.stdout.write("---- sluice log ----\n%s\n" % node.logs()[-6000:])
            raise
        finally:
            node.cleanup()
    return test


if __name__ == "__main__":
    h.run([("clients[%s]" % b, make_test(b)) for b in h.BACKENDS])
