#!/usr/bin/env python3
"""Integration test of `sluice metadata dump` (docs/cli.md).

Starts one broker+controller node (harness.start_single), creates topics with partitions and
configs through the CLI, deletes one, stops the node, then dumps its metadata directory (by
-c server.properties and by --metadata-dir) and checks that the records appear: FeatureLevel,
TopicRecord, PartitionRecord per partition, ConfigRecord, RemoveTopicRecord, batch lines with
offsets. Also: --snapshots-only prints bootstrap.checkpoint (header, features, footer) and no
segment, --log-only no snapshot, the 0-0 bootstrap snapshot of a dynamic-quorum format,
explicit file arguments, a corrupt snapshot (error naming the file, exit 1) and usage errors.
Prints "N passed, M failed" last.
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check  # noqa: E402

BIN = harness.SLUICE_BIN
STATE = {}


def sluice(args, timeout=60):
    p = subprocess.run([BIN] + list(args), capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def ok(args):
    rc, out, err = sluice(args)
    check(rc == 0, "sluice %s: exit %d, stderr %r" % (" ".join(args), rc, err))
    return out


def node_setup():
    node = harness.start_single("mdump")
    STATE["node"] = node
    boot = ["--bootstrap-server", "localhost:%d" % node.port]
    ok(["topic", "create", "orders", "--partitions", "3",
        "--config", "retention.ms=12345"] + boot)
    ok(["topic", "create", "logs.v1", "--partitions", "1"] + boot)
    ok(["topic", "create", "doomed", "--partitions", "2"] + boot)
    ok(["topic", "delete", "doomed"] + boot)
    rc = node.stop()
    check(rc == 0, "node exit code %r" % rc)
    STATE["mdir"] = node.logs_dir


def topic_id(out, name):
    m = re.search(r"TopicRecord name=%s topicId=(\S+) \(v0\)" % re.escape(name), out)
    check(m is not None, "no TopicRecord for %s in:\n%s" % (name, out[:4000]))
    return m.group(1)


def test_dump_log_by_config():
    out = ok(["metadata", "dump", "-c", STATE["node"].config])
    check("(log segment)" in out, "no log segment printed")
    check("FeatureLevelRecord name=metadata.version featureLevel=" in out, "no metadata.version")
    oid = topic_id(out, "orders")
    for p in range(3):
        check(re.search(r"PartitionRecord partitionId=%d topicId=%s replicas=\[1\] isr=\[1\]"
                        % (p, re.escape(oid)), out), "no PartitionRecord orders-%d" % p)
    check(re.search(r"ConfigRecord resourceType=2\(TOPIC\) resourceName=orders "
                    r"name=retention.ms value=12345", out), "no ConfigRecord for orders")
    lid = topic_id(out, "logs.v1")
    check(re.search(r"PartitionRecord partitionId=0 topicId=%s " % re.escape(lid), out),
          "no PartitionRecord logs.v1-0")
    did = topic_id(out, "doomed")
    check("RemoveTopicRecord topicId=%s" % did in out, "no RemoveTopicRecord for doomed")
    check(re.search(r"^batch baseOffset=\d+ lastOffset=\d+ epoch=\d+ records=\d+ data "
                    r"timestamp=\d+", out, re.M), "no data batch line")
    check(re.search(r"^  offset=\d+ ", out, re.M), "no record lines with offsets")
    # The same through --metadata-dir.
    out2 = ok(["metadata", "dump", "--metadata-dir", STATE["mdir"]])
    check(out2 == out, "--metadata-dir and -c print different output")


def test_snapshots_only_and_log_only():
    out = ok(["metadata", "dump", "--metadata-dir", STATE["mdir"], "--snapshots-only"])
    check("bootstrap.checkpoint (snapshot)" in out, "bootstrap.checkpoint not dumped")
    check("SnapshotHeader version=0 lastContainedLogTimestamp=0" in out, "no SnapshotHeader")
    check("SnapshotFooter version=0" in out, "no SnapshotFooter")
    check("FeatureLevelRecord name=metadata.version" in out, "no FeatureLevelRecord")
    check("(log segment)" not in out, "--snapshots-only printed a segment")
    check("TopicRecord" not in out, "--snapshots-only printed log records")
    out = ok(["metadata", "dump", "--metadata-dir", STATE["mdir"], "--log-only"])
    check("(snapshot)" not in out, "--log-only printed a snapshot")
    check("TopicRecord name=orders" in out, "--log-only lacks the topics")


def test_explicit_files_and_corruption():
    boot = os.path.join(STATE["mdir"], "bootstrap.checkpoint")
    out = ok(["metadata", "dump", boot])
    check(out.startswith("== %s (snapshot)" % boot), "bad header line: %r" % out[:200])
    check(re.search(r"^batch baseOffset=0 lastOffset=0 epoch=0 records=1 control", out, re.M),
          "header batch line missing")
    check(re.search(r"^end: \d+ data records", out, re.M), "no end line")
    with open(boot, "rb") as f:
        data = f.read()
    tmp = tempfile.mkdtemp(prefix="sluice-it-mdump-")
    try:
        bad = os.path.join(tmp, "00000000000000000005-0000000001.checkpoint")
        with open(bad, "wb") as f:
            f.write(data[:-20])  # footer cut
        rc, out, err = sluice(["metadata", "dump", bad])
        check(rc == 1, "corrupt snapshot: exit %d" % rc)
        check(bad in err and "truncated" in err, "error does not name the file: %r" % err)
        # Flip a byte in the data batch: CRC.
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x55
        with open(bad, "wb") as f:
            f.write(bytes(flipped))
        rc, out, err = sluice(["metadata", "dump", bad])
        check(rc == 1 and "CRC mismatch" in err and bad in err, "CRC error: %d %r" % (rc, err))
        # A segment with garbage appended: the good batches print, then the error.
        seg_dir = os.path.join(STATE["mdir"], "__cluster_metadata-0")
        segs = sorted(n for n in os.listdir(seg_dir) if n.endswith(".log"))
        check(segs, "no segments in %s" % seg_dir)
        with open(os.path.join(seg_dir, segs[0]), "rb") as f:
            seg = f.read()
        junk = os.path.join(tmp, "00000000000000000000.log")
        with open(junk, "wb") as f:
            f.write(seg + b"\x00\x00\x00\x00\x00\x00\x00\x99\x00\x00\x01\x00garbage")
        rc, out, err = sluice(["metadata", "dump", junk])
        check(rc == 1 and junk in err, "segment error: %d %r" % (rc, err))
        check("TopicRecord name=orders" in out, "good batches before the error not printed")
    finally:
        subprocess.run(["rm", "-rf", tmp])


def test_dynamic_bootstrap_snapshot():
    node = harness.Node(name="mdump-dyn", extra={"controller.quorum.voters": ""})
    try:
        # Write a dynamic-quorum config: bootstrap servers instead of static voters.
        with open(node.config) as f:
            lines = [ln for ln in f if not ln.startswith("controller.quorum.voters")]
        lines.append("controller.quorum.bootstrap.servers=localhost:%d\n" % node.controller_port)
        with open(node.config, "w") as f:
            f.writelines(lines)
        rc, out, err = harness.run_cli(["storage", "format", "-t", harness.random_uuid(),
                                        "-c", node.config, "--standalone"])
        check(rc == 0, "format --standalone failed: %s %s" % (out, err))
        out = ok(["metadata", "dump", "-c", node.config, "--snapshots-only"])
        check("00000000000000000000-0000000000.checkpoint (snapshot)" in out,
              "0-0 snapshot not dumped:\n%s" % out)
        check("KRaftVersion version=0 kraftVersion=1" in out, "no KRaftVersion record")
        check(re.search(r"Voters version=0 voters=\[\{voterId=1 voterDirectoryId=\S+ "
                        r"endpoints=\[CONTROLLER@localhost:%d\]" % node.controller_port, out),
              "no Voters record:\n%s" % out)
    finally:
        node.cleanup()


def test_usage_errors():
    rc, out, err = sluice(["metadata", "dump"])
    check(rc == 2 and "--metadata-dir" in err, "no-arg usage: %d %r" % (rc, err))
    rc, out, err = sluice(["metadata", "dump", "--bogus"])
    check(rc == 2 and "unknown option" in err, "bad option: %d %r" % (rc, err))
    rc, out, err = sluice(["metadata", "dump", "--metadata-dir", "/x", "--log-only",
                           "--snapshots-only"])
    check(rc == 2, "exclusive options: %d" % rc)
    rc, out, err = sluice(["metadata", "dump", "--metadata-dir", "/nonexistent/sluice-md"])
    check(rc == 1 and "/nonexistent/sluice-md" in err, "missing dir: %d %r" % (rc, err))
    rc, out, err = sluice(["metadata", "frobnicate"])
    check(rc == 2, "unknown sub-command: %d" % rc)
    rc, out, err = sluice(["metadata", "dump", "--help"])
    check(rc == 0 and "--snapshots-only" in out, "help: %d" % rc)


def main():
    try:
        node_setup()
        harness.run([
            ("dump_log_by_config", test_dump_log_by_config),
            ("snapshots_only_and_log_only", test_snapshots_only_and_log_only),
            ("explicit_files_and_corruption", test_explicit_files_and_corruption),
            ("dynamic_bootstrap_snapshot", test_dynamic_bootstrap_snapshot),
            ("usage_errors", test_usage_errors),
        ])
    finally:
        if "node" in STATE:
            STATE["node"].cleanup()


if __name__ == "__main__":
    main()
