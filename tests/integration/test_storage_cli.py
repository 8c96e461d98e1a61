#!/usr/bin/env python3
"""Integration test of `sluice storage random-uuid | format | info` (kraft.md §1).

Runs $SLUICE_BIN as a subprocess against temporary directories and checks output, exit codes
and the files written (meta.properties, bootstrap.checkpoint, the bootstrap snapshot), decoding
the RecordBatch v2 files independently of the C code. Prints "N passed, M failed" last and exits
non-zero on any failure.
"""
import base64
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback

BIN = os.environ.get("SLUICE_BIN", "build/sluice")
UUID_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")


def run(*args, cwd=None):
    p = subprocess.run([BIN, "storage", *args], capture_output=True, text=True, timeout=60,
                       cwd=cwd)
    return p.returncode, p.stdout, p.stderr


# ---- a small independent RecordBatch v2 reader -------------------------------------------

CRC_TABLE = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    CRC_TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def uvarint(buf, pos):
    shift = value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def varint(buf, pos):
    v, pos = uvarint(buf, pos)
    return (v >> 1) ^ -(v & 1), pos


def read_batches(path):
    data = open(path, "rb").read()
    pos, batches = 0, []
    while pos < len(data):
        base_offset, length, epoch, magic, crc = struct.unpack_from(">qiibI", data, pos)
        end = pos + 12 + length
        assert end <= len(data), "truncated batch"
        assert magic == 2, magic
        assert crc32c(data[pos + 21:end]) == crc, "bad crc"
        attrs, last_delta, base_ts, max_ts, pid, pepoch, bseq, count = struct.unpack_from(
            ">hiqqqhii", data, pos + 21)
        rpos, records = pos + 61, []
        for _ in range(count):
            rlen, rpos = varint(data, rpos)
            rend = rpos + rlen
            rpos += 1  # attributes
            _, rpos = varint(data, rpos)  # timestamp delta
            odelta, rpos = varint(data, rpos)
            klen, rpos = varint(data, rpos)
            key = None if klen < 0 else data[rpos:rpos + klen]
            rpos += max(klen, 0)
            vlen, rpos = varint(data, rpos)
            value = None if vlen < 0 else data[rpos:rpos + vlen]
            rpos += max(vlen, 0)
            hcount, rpos = varint(data, rpos)
            assert hcount == 0 and rpos == rend
            records.append((odelta, key, value))
        assert rpos == end, "records do not fill the batch"
        batches.append({"base_offset": base_offset, "epoch": epoch,
                        "control": bool(attrs & 0x20), "last_delta": last_delta,
                        "producer_id": pid, "records": records})
        pos = end
    return batches


def control_type(key):
    version, ctype = struct.unpack(">hh", key)
    assert version == 0
    return ctype


def feature_levels(batch):
    """Decodes framed FeatureLevelRecords: uvarint 1, 12, 0, compact string, int16, tags."""
    out = []
    for _, key, value in batch["records"]:
        assert key is None
        frame, p = uvarint(value, 0)
        api, p = uvarint(value, p)
        ver, p = uvarint(value, p)
        assert (frame, api, ver) == (1, 12, 0), (frame, api, ver)
        n, p = uvarint(value, p)
        name = value[p:p + n - 1].decode()
        p += n - 1
        (level,) = struct.unpack_from(">h", value, p)
        p += 2
        assert value[p:] == b"\x00", value[p:]
        out.append((name, level))
    return out


def read_props(path):
    props = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            k, v = line.split("=", 1)
            props[k] = v
    return props


# ---- fixtures -----------------------------------------------------------------------------

class Env:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="sl-storage-cli-")
        self.cfg = os.path.join(self.root, "server.properties")

    def config(self, text):
        base = ("node.id=1\n"
                "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
                "advertised.listeners=PLAINTEXT://localhost:9092\n"
                "controller.listener.names=CONTROLLER\n"
                f"log.dirs={self.root}/d1,{self.root}/d2\n"
                f"metadata.log.dir={self.root}/meta\n")
        with open(self.cfg, "w") as f:
            f.write(base + text)

    def path(self, *p):
        return os.path.join(self.root, *p)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


COMBINED = "process.roles=broker,controller\ncontroller.quorum.voters=1@localhost:9093\n"
DYNAMIC = ("process.roles=controller\nlisteners=CONTROLLER://:9093\nadvertised.listeners=\n"
           "controller.quorum.bootstrap.servers=localhost:9093\n")


# ---- tests --------------------------------------------------------------------------------

def test_random_uuid():
    seen = set()
    for _ in range(50):
        rc, out, err = run("random-uuid")
        assert rc == 0, err
        u = out.strip()
        assert out == u + "\n"
        assert UUID_RE.match(u), u
        assert not u.startswith("-"), u
        raw = base64.urlsafe_b64decode(u + "==")
        assert len(raw) == 16
        msb, lsb = struct.unpack(">QQ", raw)
        assert not (msb == 0 and lsb < 100), "reserved uuid"
        seen.add(u)
    assert len(seen) == 50


def test_help():
    for sub in ("random-uuid", "format", "info"):
        rc, out, _ = run(sub, "--help")
        assert rc == 0 and out.startswith("usage: sluice storage " + sub), out
    rc, out, _ = run("--help")
    assert rc == 0 and "random-uuid" in out
    rc, _, err = run()
    assert rc == 2 and "usage" in err
    rc, _, err = run("nope")
    assert rc == 2 and "unknown command 'nope'" in err
    rc, _, err = run("random-uuid", "extra")
    assert rc == 2


def test_format_and_info():
    e = Env()
    try:
        e.config(COMBINED)
        rc, out, err = run("info", "-c", e.cfg)
        assert rc == 1
        assert f"  {e.root}/d1 does not exist\n" in out, out
        rc, out, err = run("format", "-c", e.cfg, "-t", "MkU3OEVBNTcwNTJENDM2Qk")
        assert rc == 0, err
        assert out == (f"Formatting data directory {e.root}/d1 with metadata.version 4.0-IV0.\n"
                       f"Formatting data directory {e.root}/d2 with metadata.version 4.0-IV0.\n"
                       f"Formatting metadata directory {e.root}/meta with metadata.version "
                       "4.0-IV0.\n"), out
        ids = set()
        for d in ("d1", "d2", "meta"):
            text = open(e.path(d, "meta.properties")).read()
            assert text.startswith("#\n#"), text
            p = read_props(e.path(d, "meta.properties"))
            assert p["version"] == "1" and p["node.id"] == "1"
            assert p["cluster.id"] == "MkU3OEVBNTcwNTJENDM2Qk"
            assert UUID_RE.match(p["directory.id"])
            ids.add(p["directory.id"])
            b = read_batches(e.path(d, "bootstrap.checkpoint"))
            assert len(b) == 3
            assert [x["base_offset"] for x in b] == [0, 1, 2]
            assert all(x["epoch"] == 0 for x in b)
            assert b[0]["control"] and control_type(b[0]["records"][0][1]) == 3
            assert b[0]["records"][0][2] == b"\x00\x00" + b"\x00" * 8 + b"\x00"
            assert not b[1]["control"] and b[1]["producer_id"] == -1
            assert feature_levels(b[1]) == [("metadata.version", 22)]
            assert b[2]["control"] and control_type(b[2]["records"][0][1]) == 4
        assert len(ids) == 3
        assert not os.path.exists(e.path("meta", "__cluster_metadata-0"))

        rc, out, err = run("info", "-c", e.cfg)
        assert rc == 0, out + err
        assert out.startswith(f"Found log directories:\n  {e.root}/d1\n  {e.root}/d2\n"
                              f"  {e.root}/meta\n\nFound metadata: {{cluster.id="
                              "MkU3OEVBNTcwNTJENDM2Qk, directory.id="), out
        assert "node.id=1, version=1}\n" in out
        assert "problem" not in out

        rc, out, err = run("format", "-c", e.cfg, "-t", "MkU3OEVBNTcwNTJENDM2Qk")
        assert rc == 1
        assert err == (f"Log directory {e.root}/d1 is already formatted. Use --ignore-formatted "
                       "to ignore this directory and format the others.\n"), err
        rc, out, err = run("format", "-c", e.cfg, "-t", "MkU3OEVBNTcwNTJENDM2Qk", "-g")
        assert rc == 0 and out == "All of the log directories are already formatted.\n", out
        rc, out, err = run("format", "-c", e.cfg, "-t", "other", "--ignore-formatted")
        assert rc == 1
        assert err == (f"Invalid cluster.id in: {e.root}/d1/meta.properties. Expected other, "
                       "but read MkU3OEVBNTcwNTJENDM2Qk\n"), err
        rc, out, err = run("format", "-c", e.cfg, "-t", "MkU3OEVBNTcwNTJENDM2Qk", "-g",
                           "--override", "node.id=2",
                           "--override", "controller.quorum.voters=2@localhost:9093")
        assert rc == 1 and err.startswith("Stored node id 1 doesn't match previous node id 2 "
                                          f"in {e.root}/d1/meta.properties."), err

        with open(e.path("d2", "meta.properties"), "w") as f:
            f.write("version=1\ncluster.id=zzz\nnode.id=1\n")
        rc, out, err = run("info", "-c", e.cfg)
        assert rc == 1
        assert "Found problem" in out and "Mismatched cluster IDs between storage directories." in out
    finally:
        e.close()


def test_format_options():
    e = Env()
    try:
        e.config(COMBINED)
        rc, out, err = run("format", "-c", e.cfg, "-t=-starts-with-dash", "-r", "3.9",
                           "-f", "transaction.version=1")
        assert rc == 0, err
        assert "with metadata.version 3.9-IV0." in out
        p = read_props(e.path("d1", "meta.properties"))
        assert p["cluster.id"] == "-starts-with-dash"
        b = read_batches(e.path("meta", "bootstrap.checkpoint"))
        assert feature_levels(b[1]) == [("metadata.version", 21), ("transaction.version", 1)]
        assert b[2]["base_offset"] == 3
    finally:
        e.close()
    e = Env()
    try:
        e.config(COMBINED)
        cases = [
            (["-r", "3.2"], "metadata.version 3.2-IV0 is too old to be supported."),
            (["-r", "4.0-IV1"], "metadata.version 4.0-IV1 is not yet stable."),
            (["-r", "banana"], "Unknown metadata.version 'banana'."),
            (["-r", "3.9", "-f", "metadata.version=21"], "Both --release-version and --feature "
             "metadata.version were set."),
            (["-f", "kraft.version=1"], "Cannot set kraft.version to 1 unless KIP-853"),
            (["-f", "group.version=9"], "Unsupported level 9 of feature group.version"),
            (["-f", "nope"], "Invalid feature specification 'nope'"),
            (["-s"], "--standalone and --initial-controllers set up a dynamic quorum"),
        ]
        for extra, msg in cases:
            rc, out, err = run("format", "-c", e.cfg, "-t", "x", *extra)
            assert rc == 1, (extra, rc, err)
            assert err.startswith(msg), (extra, err)
            assert not os.path.exists(e.path("d1")), extra
        for extra in (["-s", "-N"], ["-I", "1@a:1:AAAAAAAAAAAAAAAAAAAAAQ", "-s"], ["--bogus"],
                      ["-c"]):
            rc, out, err = run("format", "-c", e.cfg, "-t", "x", *extra)
            assert rc == 2, (extra, rc, err)
        rc, _, err = run("format", "-t", "x")
        assert rc == 2 and "--config" in err
        rc, _, err = run("format", "-c", e.cfg)
        assert rc == 2 and "--cluster-id" in err
        rc, _, err = run("format", "-c", e.path("missing.properties"), "-t", "x")
        assert rc == 1 and "missing.properties" in err, err
        e.config("process.roles=\n")
        rc, _, err = run("format", "-c", e.cfg, "-t", "x")
        assert rc == 1 and err == ("The configuration file appears to be for a legacy cluster. "
                                   "Formatting is only supported for clusters in KRaft mode.\n")
        e.config(COMBINED + "num.partitions=zero\n")
        rc, _, err = run("format", "-c", e.cfg, "-t", "x")
        assert rc == 1 and err == ("Invalid value zero for configuration num.partitions: "
                                   "Not a number of type INT\n"), err
        e.config(COMBINED + "some.unknown.key=1\n")
        rc, _, err = run("format", "-c", e.cfg, "-t", "x")
        assert rc == 0 and "Unknown configuration key 'some.unknown.key' (ignored)" in err
    finally:
        e.close()


def test_dynamic_quorum():
    e = Env()
    try:
        e.config(DYNAMIC)
        rc, out, err = run("format", "-c", e.cfg, "-t", "x")
        assert rc == 1
        assert err == ("Because controller.quorum.voters is not set on this controller, you must "
                       "specify one of the following: --standalone, --initial-controllers, or "
                       "--no-initial-controllers.\n"), err
        rc, out, err = run("format", "-c", e.cfg, "-t", "x", "--standalone")
        assert rc == 0, err
        assert (f"Formatting dynamic metadata voter directory {e.root}/meta with "
                "metadata.version 4.0-IV0.\n") in out, out
        dir_id = read_props(e.path("meta", "meta.properties"))["directory.id"]
        snap = e.path("meta", "__cluster_metadata-0", "00000000000000000000-0000000000.checkpoint")
        b = read_batches(snap)
        assert len(b) == 2 and b[0]["control"] and b[1]["control"]
        assert [control_type(r[1]) for r in b[0]["records"]] == [3, 5, 6]
        assert b[0]["records"][1][2] == b"\x00\x00\x00\x01\x00"  # KRaftVersionRecord{0, 1}
        voters = b[0]["records"][2][2]
        raw_id = base64.urlsafe_b64decode(dir_id + "==")
        # Version 0, 1 voter: id 1, directory id, endpoint CONTROLLER localhost:9093, 0..1.
        want = (b"\x00\x00" + b"\x02" + b"\x00\x00\x00\x01" + raw_id + b"\x02" +
                b"\x0bCONTROLLER" + b"\x0alocalhost" + struct.pack(">H", 9093) + b"\x00" +
                b"\x00\x00\x00\x01" + b"\x00" + b"\x00" + b"\x00")
        assert voters == want, (voters.hex(), want.hex())
        assert control_type(b[1]["records"][0][1]) == 4 and b[1]["base_offset"] == 3
        assert not os.path.exists(e.path("d1", "__cluster_metadata-0"))
        b = read_batches(e.path("meta", "bootstrap.checkpoint"))
        assert feature_levels(b[1]) == [("metadata.version", 22)]  # never kraft.version
    finally:
        e.close()
    e = Env()
    try:
        e.config(DYNAMIC)
        rc, out, err = run("format", "-c", e.cfg, "-t", "x", "-I",
                           "2@[::1]:9094:nVK2QmdpSKaCu1HIOAfjKA,1@h:9093:nVK2QmdpSKaCu1HIOAfjKQ")
        assert rc == 0, err
        assert read_props(e.path("meta", "meta.properties"))["directory.id"] == \
            "nVK2QmdpSKaCu1HIOAfjKQ"
        snap = e.path("meta", "__cluster_metadata-0", "00000000000000000000-0000000000.checkpoint")
        voters = read_batches(snap)[0]["records"][2][2]
        assert voters.index(b"\x02h") < voters.index(b"\x04::1"), "voters sorted by id"
        for bad, msg in [("1@h:9093", "No colon following port could be found."),
                         ("x@h:1:nVK2QmdpSKaCu1HIOAfjKQ", "Failed to parse node id"),
                         ("1@[::1:1:nVK2QmdpSKaCu1HIOAfjKQ", "Hostname began with left bracket"),
                         ("1@h:1:nope", "Failed to parse directory ID")]:
            rc, out, err = run("format", "-c", e.cfg, "-t", "x", "-I", bad)
            assert rc == 1 and msg in err, (bad, err)
    finally:
        e.close()


def main():
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_") and callable(v)]
    passed = failed = 0
    for t in tests:
        try:
            t()
            passed += 1
            print(f"ok   {t.__name__}")
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__}")
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
