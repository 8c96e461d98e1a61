#!/usr/bin/env python3
"""Integration test of the client commands `sluice topic | produce | consume` (docs/cli.md).

Usage errors and "broker down" run without a node; everything else runs against one
`sluice server start` node (harness.Node): topic create / list / describe / alter-config /
describe-config / delete with their error paths, then produce 1000 keyed lines with headers
with every compression codec and consume them back byte-exact, checking offsets, partitions
(Kafka's murmur2 partitioner, recomputed here) and headers. Prints "N passed, M failed" last
and exits non-zero on any failure.
"""
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check  # noqa: E402

BIN = harness.SLUICE_BIN
NODE = None
BOOT = []


def sluice(args, stdin=None, timeout=60):
    """Runs sluice with bytes in and out: (rc, stdout bytes, stderr str)."""
    p = subprocess.run([BIN] + list(args), input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def ok(args, stdin=None):
    rc, out, err = sluice(args + BOOT, stdin)
    check(rc == 0, "sluice %s: exit %d, stderr %r" % (" ".join(args), rc, err))
    return out.decode(), err


def fails(args, code, needle, stdin=None, boot=True):
    rc, out, err = sluice(args + (BOOT if boot else []), stdin)
    check(rc == code, "sluice %s: exit %d (want %d), stderr %r" % (" ".join(args), rc, code, err))
    check(needle in err, "sluice %s: stderr %r lacks %r" % (" ".join(args), err, needle))
    return err


def murmur2(data):
    """Kafka's Utils.murmur2."""
    m, length = 0x5BD1E995, len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    for i in range(length // 4):
        k = int.from_bytes(data[i * 4:i * 4 + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest, tail = length % 4, length & ~3
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def test_murmur2_reference():
    # Kafka's UtilsTest.testMurmur2 vectors, as signed ints.
    cases = {b"21": -973932308, b"foobar": -790332482, b"a-little-bit-long-string": -985981536,
             b"a-little-bit-longer-string": -1486304829, b"abc": 479470107}
    for data, want in cases.items():
        got = murmur2(data)
        got = got - (1 << 32) if got >= 1 << 31 else got
        check(got == want, "murmur2(%r) = %d, want %d" % (data, got, want))


# ---- without a broker ----------------------------------------------------------------------

def test_usage_errors():
    cases = [
        (["produce", "--acks", "2", "--topic", "t"], "invalid value '2' for --acks"),
        (["produce"], "missing required option --topic"),
        (["produce", "--topic", "t", "--compression", "brotli"], "--compression"),
        (["produce", "--topic", "t", "--batch-size", "x"], "for --batch-size"),
        (["produce", "--topic", "t", "--header", "novalue"], "--header expects KEY=VALUE"),
        (["consume", "--topic", "t", "--format", "%z"], "unknown sequence '%z'"),
        (["consume", "--topic", "t", "--from-beginning", "--offset", "3"], "at most one of"),
        (["consume", "--topic", "t", "--count", "-1"], "for --count"),
        (["consume", "--topic"], "option '--topic' needs a value"),
        (["topic", "create"], "missing topic NAME"),
        (["topic", "create", "t", "--partitions", "zero"], "for --partitions"),
        (["topic", "create", "t", "--config", "novalue"], "--config expects KEY=VALUE"),
        (["topic", "list", "--bogus"], "unknown option '--bogus'"),
        (["topic", "list", "--partitions", "3"], "'--partitions' is not valid for 'topic list'"),
        (["topic", "alter-config", "t"], "nothing to change"),
        (["topic", "frobnicate"], "unknown command 'frobnicate'"),
        (["topic", "list", "--timeout-ms", "0"], "for --timeout-ms"),
    ]
    for args, needle in cases:
        fails(args, 2, needle, boot=False)
    for args in (["topic", "--help"], ["topic", "create", "--help"], ["produce", "--help"],
                 ["consume", "--help"]):
        rc, out, _ = sluice(args)
        check(rc == 0 and b"usage: sluice" in out, "%s: rc %d out %r" % (args, rc, out))


def test_broker_down():
    port = harness.free_port()
    want = "error: cannot connect to localhost:%d: Connection refused" % port
    b = ["--bootstrap-server", "localhost:%d" % port]
    for args in (["topic", "list"], ["topic", "create", "t"], ["consume", "--topic", "t"]):
        err = fails(args + b, 1, want, boot=False)
        check(err.count("\n") == 1, "more than one line: %r" % err)
    fails(["produce", "--topic", "t"] + b, 1, want, stdin=b"x\n", boot=False)
    fails(["topic", "list", "--bootstrap-server", "localhost:notaport"], 1,
          "invalid broker address 'localhost:notaport'", boot=False)


# ---- a fake broker for protocol-level error paths ------------------------------------------

class FakeBroker:
    """Accepts one connection on a free port and runs handler(sock) in a thread."""

    def __init__(self, handler):
        import socket
        import threading
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)
        self.port = self.srv.getsockname()[1]
        self.seen = []
        self.handler = handler
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.srv.accept()
        with conn:
            try:
                self.handler(self, conn)
            except OSError:
                pass

    def read_request(self, conn):
        """(api key, version, correlation id) of the next request, or None at EOF."""
        frame = harness.read_frame(conn)
        if frame is None:
            return None
        key, version, corr = struct.unpack(">hhi", frame[:8])
        self.seen.append((key, version))
        return key, version, corr

    def close(self):
        self.srv.close()
        self.thread.join(timeout=5)


def send_frame(conn, corr, body):
    conn.sendall(struct.pack(">ii", 4 + len(body), corr) + body)


def test_api_versions_fallback():
    """KIP-511: ApiVersions v4 answered with UNSUPPORTED_VERSION and a v0 body listing
    ApiVersions 0-3 makes the client retry at v3, then use the versions offered (Metadata
    v1 here)."""
    def handler(fb, conn):
        _, _, corr = fb.read_request(conn)
        send_frame(conn, corr, struct.pack(">hihhh", 35, 1, 18, 0, 3))
        _, _, corr = fb.read_request(conn)
        keys = [(18, 0, 3), (3, 0, 1)]
        body = struct.pack(">h", 0) + bytes([len(keys) + 1])
        for k in keys:
            body += struct.pack(">hhh", *k) + b"\x00"
        body += struct.pack(">i", 0) + b"\x00"
        send_frame(conn, corr, body)
        fb.read_request(conn)  # the Metadata request; then hang up
    fb = FakeBroker(handler)
    try:
        fails(["topic", "list", "--bootstrap-server", "127.0.0.1:%d" % fb.port], 1,
              "error: 127.0.0.1:%d (Metadata v1): the broker closed the connection" % fb.port,
              boot=False)
    finally:
        fb.close()
    check(fb.seen == [(18, 4), (18, 3), (3, 1)], "requests seen %r" % fb.seen)


def test_broker_silent_and_bad_frames():
    def silent(fb, conn):
        fb.read_request(conn)
        time.sleep(3)
    fb = FakeBroker(silent)
    try:
        start = time.monotonic()
        fails(["topic", "list", "--bootstrap-server", "127.0.0.1:%d" % fb.port,
               "--timeout-ms", "300"], 1, "timed out waiting for a response", boot=False)
        check(time.monotonic() - start < 2.5, "--timeout-ms not honoured")
    finally:
        fb.close()

    def wrong_corr(fb, conn):
        _, _, corr = fb.read_request(conn)
        send_frame(conn, corr + 1, struct.pack(">hi", 0, 0))
    fb = FakeBroker(wrong_corr)
    try:
        fails(["topic", "list", "--bootstrap-server", "127.0.0.1:%d" % fb.port], 1,
              "(ApiVersions): malformed response", boot=False)
    finally:
        fb.close()

    def huge(fb, conn):
        fb.read_request(conn)
        conn.sendall(struct.pack(">i", 0x7FFFFFF0))
    fb = FakeBroker(huge)
    try:
        fails(["topic", "list", "--bootstrap-server", "127.0.0.1:%d" % fb.port], 1,
              "(ApiVersions): malformed response", boot=False)
    finally:
        fb.close()


# ---- topic administration ------------------------------------------------------------------

def test_topic_create_list_describe():
    out, _ = ok(["topic", "create", "orders", "--partitions", "3", "--replication-factor", "1",
                 "--config", "retention.ms=123456"])
    check(out == "Created topic orders.\n", "create output %r" % out)
    ok(["topic", "create", "alpha"])
    fails(["topic", "create", "orders"], 1, "error: topic 'orders': TOPIC_ALREADY_EXISTS")
    ok(["topic", "create", "orders", "--if-not-exists"])
    out, _ = ok(["topic", "list"])
    names = out.split()
    check("orders" in names and "alpha" in names, "list %r" % out)
    check(names.index("alpha") < names.index("orders"), "list not sorted: %r" % out)
    out, _ = ok(["topic", "describe", "orders"])
    lines = out.splitlines()
    check(lines[0].startswith("Topic: orders\tTopicId: "), "describe %r" % out)
    check("\tPartitionCount: 3\tReplicationFactor: 1\t" in lines[0], "describe %r" % out)
    check("Configs: retention.ms=123456" in lines[0], "describe configs %r" % out)
    check(len(lines) == 4, "describe lines %r" % out)
    for i, line in enumerate(lines[1:]):
        check(line == "\tTopic: orders\tPartition: %d\tLeader: 1\tReplicas: 1\tIsr: 1" % i,
              "partition line %r" % line)
    out, _ = ok(["topic", "describe"])
    check("Topic: orders\t" in out and "Topic: alpha\t" in out, "describe all %r" % out)
    fails(["topic", "describe", "nope"], 1,
          "error: topic 'nope': UNKNOWN_TOPIC_OR_PARTITION: This server does not host this "
          "topic-partition")


def test_topic_bad_config():
    fails(["topic", "create", "badcfg", "--config", "retention.ms=soon"], 1,
          "error: topic 'badcfg': INVALID_CONFIG")
    fails(["topic", "create", "badcfg", "--config", "no.such.config=1"], 1,
          "error: topic 'badcfg': INVALID_CONFIG")
    fails(["topic", "create", "bad/name"], 1, "error: topic 'bad/name': INVALID_TOPIC_EXCEPTION")


def test_topic_configs():
    ok(["topic", "create", "cfg", "--partitions", "1"])
    out, _ = ok(["topic", "describe-config", "cfg"])
    check(out == "", "no overrides expected, got %r" % out)
    out, _ = ok(["topic", "alter-config", "cfg", "--set", "retention.ms=5000", "--set",
                 "cleanup.policy=compact"])
    check("Completed updating config for topic cfg." in out, "alter output %r" % out)
    out, _ = ok(["topic", "describe-config", "cfg"])
    check("retention.ms=5000 source=DYNAMIC_TOPIC_CONFIG" in out, "describe-config %r" % out)
    check("cleanup.policy=compact source=DYNAMIC_TOPIC_CONFIG" in out, "describe-config %r" % out)
    ok(["topic", "alter-config", "cfg", "--delete", "retention.ms"])
    out, _ = ok(["topic", "describe-config", "cfg"])
    check("retention.ms" not in out and "cleanup.policy=compact" in out, "after delete %r" % out)
    out, _ = ok(["topic", "describe-config", "cfg", "--all"])
    check("retention.ms=604800000 source=DEFAULT_CONFIG" in out, "--all %r" % out)
    check(len(out.splitlines()) > 10, "--all lists few configs: %r" % out)
    fails(["topic", "alter-config", "cfg", "--set", "retention.ms=never"], 1,
          "error: topic 'cfg': INVALID_CONFIG")
    fails(["topic", "alter-config", "nope", "--set", "retention.ms=1"], 1,
          "error: topic 'nope': UNKNOWN_TOPIC_OR_PARTITION")
    fails(["topic", "describe-config", "nope"], 1, "error: topic 'nope': UNKNOWN_TOPIC_OR_PARTITION")


def test_topic_delete():
    ok(["topic", "create", "doomed"])
    out, _ = ok(["topic", "delete", "doomed"])
    check(out == "Deleted topic doomed.\n", "delete output %r" % out)

    def gone():
        listed, _ = ok(["topic", "list"])
        return "doomed" not in listed.split()
    harness.wait_for(gone, "deleted topic to leave the list")
    fails(["topic", "delete", "doomed"], 1, "error: topic 'doomed': UNKNOWN_TOPIC_OR_PARTITION")
    ok(["topic", "delete", "doomed", "--if-exists"])


# ---- produce / consume ---------------------------------------------------------------------

def make_lines(n, tag):
    """n keyed lines: 'key<TAB>value' with spaces, UTF-8, '%' and backslashes in values."""
    lines = []
    for i in range(n):
        key = "k%d" % (i % 37)
        value = "%s value %d \u00e9\u4e2d %%v \\n %s" % (tag, i, "x" * (i % 50))
        lines.append((key.encode(), value.encode()))
    return lines


def produce_consume(topic, codec, partitions=3, n=1000):
    ok(["topic", "create", topic, "--partitions", str(partitions)])
    lines = make_lines(n, codec)
    data = b"".join(k + b"\t" + v + b"\n" for k, v in lines)
    _, err = ok(["produce", "--topic", topic, "--key-separator", "\t", "--compression", codec,
                 "--header", "h1=v1", "--header", "src=cli", "--batch-size", "4096"], data)
    check("sent %d records" % n in err, "produce summary %r" % err)
    rc, out, err = sluice(["consume", "--topic", topic, "--from-beginning", "--count", str(n),
                           "--timeout-ms", "10000", "--format", "%p\\t%o\\t%k\\t%h\\t%v\\n"] +
                          BOOT)
    check(rc == 0, "consume exit %d: %s" % (rc, err))
    got = out.split(b"\n")
    check(got[-1] == b"", "output does not end with a newline")
    got = got[:-1]
    check(len(got) == n, "consumed %d of %d records" % (len(got), n))
    per_partition = {}
    for row in got:
        p, o, k, h, v = row.split(b"\t", 4)
        per_partition.setdefault(int(p), []).append((int(o), k, h, v))
    expected = {}
    for k, v in lines:
        expected.setdefault((murmur2(k) & 0x7FFFFFFF) % partitions, []).append((k, v))
    check(sorted(per_partition) == sorted(expected),
          "partitions %r vs %r" % (sorted(per_partition), sorted(expected)))
    for p, rows in per_partition.items():
        check([r[0] for r in rows] == list(range(len(rows))), "offsets of partition %d" % p)
        check([(r[1], r[3]) for r in rows] == expected[p], "records of partition %d differ" % p)
        check(all(r[2] == b"h1=v1,src=cli" for r in rows), "headers of partition %d" % p)


def make_codec_test(codec):
    def t():
        produce_consume("data-" + codec, codec)
    return t


def test_consume_default_format_and_positions():
    ok(["topic", "create", "pos", "--partitions", "1"])
    t0 = int(time.time() * 1000)
    ok(["produce", "--topic", "pos"], b"a\nb\nc")  # last line without a newline counts
    rc, out, _ = sluice(["consume", "--topic", "pos", "--from-beginning", "--count", "3"] + BOOT)
    check(rc == 0 and out == b"a\nb\nc\n", "default format %r" % out)
    rc, out, _ = sluice(["consume", "--topic", "pos", "--offset", "1", "--count", "2",
                         "--format", "%o:%v\\n"] + BOOT)
    check(rc == 0 and out == b"1:b\n2:c\n", "--offset %r" % out)
    rc, out, _ = sluice(["consume", "--topic", "pos", "--timestamp", str(t0 - 60000), "--count",
                         "1", "--format", "%o %t\\n"] + BOOT)
    check(rc == 0 and out.split()[0] == b"0", "--timestamp %r" % out)
    check(abs(int(out.split()[1]) - t0) < 60000, "timestamp %r" % out)
    # Default start is the end: nothing old is printed, and --timeout-ms ends the wait.
    start = time.monotonic()
    rc, out, err = sluice(["consume", "--topic", "pos", "--timeout-ms", "700"] + BOOT)
    check(rc == 0 and out == b"", "from end: rc %d out %r err %r" % (rc, out, err))
    check(time.monotonic() - start >= 0.6, "returned before --timeout-ms")
    rc, out, _ = sluice(["consume", "--topic", "pos", "--timestamp", str(t0 + 3600000),
                         "--timeout-ms", "500"] + BOOT)
    check(rc == 0 and out == b"", "future --timestamp %r" % out)


def test_produce_options():
    ok(["topic", "create", "opts", "--partitions", "4"])
    ok(["produce", "--topic", "opts", "--partition", "2", "--acks", "1"], b"p1\np2\n")
    ok(["produce", "--topic", "opts", "--partition", "2", "--acks", "0"], b"p3\n")
    rc, out, err = sluice(["consume", "--topic", "opts", "--partition", "2", "--from-beginning",
                           "--count", "3", "--timeout-ms", "10000", "--format", "%p %k|%v\\n"]
                          + BOOT)
    check(rc == 0 and out == b"2 |p1\n2 |p2\n2 |p3\n", "partition 2: %r %s" % (out, err))
    path = os.path.join(NODE.tmp, "input.txt")
    with open(path, "wb") as f:
        f.write(b"".join(b"f%d\n" % i for i in range(100)))
    ok(["produce", "--topic", "opts", "--file", path])  # null keys: sticky round-robin
    rc, out, _ = sluice(["consume", "--topic", "opts", "--from-beginning", "--count", "103",
                         "--timeout-ms", "10000"] + BOOT)
    check(rc == 0, "consume all partitions")
    got = sorted(out.split())
    check(got == sorted([b"p1", b"p2", b"p3"] + [b"f%d" % i for i in range(100)]),
          "file records %r" % got[:5])
    fails(["produce", "--topic", "opts", "--partition", "9"], 1,
          "error: topic 'opts' has no partition 9 (it has 4)", stdin=b"x\n")
    fails(["consume", "--topic", "opts", "--partition", "9"], 1,
          "error: topic 'opts' has no partition 9 (it has 4)")
    fails(["produce", "--topic", "opts", "--file", "/nonexistent/in"], 1,
          "cannot open /nonexistent/in")


def test_unknown_topic():
    want = ("error: topic 'ghost': UNKNOWN_TOPIC_OR_PARTITION: This server does not host this "
            "topic-partition")
    fails(["produce", "--topic", "ghost"], 1, want, stdin=b"x\n")
    fails(["consume", "--topic", "ghost", "--timeout-ms", "100"], 1, want)
    fails(["consume", "--topic", "pos", "--offset", "1000000", "--timeout-ms", "2000"], 1,
          "OFFSET_OUT_OF_RANGE")


def test_progress_line():
    ok(["topic", "create", "bulk", "--partitions", "2"])
    data = b"".join(b"%d\t%s\n" % (i, b"y" * 200) for i in range(60000))
    _, err = ok(["produce", "--topic", "bulk", "--key-separator", "\t", "--compression", "lz4",
                 "--batch-size", "65536"], data)
    check("sent 60000 records (" in err, "summary %r" % err)
    for line in err.splitlines()[:-1]:
        check(line.startswith("sent ") and line.endswith(" MB/s"), "progress line %r" % line)


def test_node_down_midway():
    ok(["topic", "create", "late", "--partitions", "1"])
    NODE.stop()
    fails(["produce", "--topic", "late"], 1, "cannot connect to", stdin=b"x\n")
    fails(["topic", "describe", "late"], 1, "cannot connect to")


def main():
    global NODE, BOOT
    tests = [("murmur2_reference", test_murmur2_reference), ("usage_errors", test_usage_errors),
             ("broker_down", test_broker_down),
             ("api_versions_fallback", test_api_versions_fallback),
             ("broker_silent_and_bad_frames", test_broker_silent_and_bad_frames)]
    NODE = harness.Node(name="cli")
    try:
        NODE.format()
        NODE.start()
        BOOT = ["--bootstrap-server", "localhost:%d" % NODE.port]
        tests += [("topic_create_list_describe", test_topic_create_list_describe),
                  ("topic_bad_config", test_topic_bad_config),
                  ("topic_configs", test_topic_configs),
                  ("topic_delete", test_topic_delete)]
        tests += [("produce_consume_" + c, make_codec_test(c))
                  for c in ("none", "gzip", "snappy", "lz4", "zstd")]
        tests += [("consume_positions", test_consume_default_format_and_positions),
                  ("produce_options", test_produce_options),
                  ("unknown_topic", test_unknown_topic),
                  ("progress_line", test_progress_line),
                  ("node_down_midway", test_node_down_midway)]
        harness.run(tests)
    finally:
        if NODE.alive():
            NODE.stop()
        NODE.cleanup()


if __name__ == "__main__":
    main()
