#!/usr/bin/env python3
"""gen_seeds.py: writes the seed corpora under corpus/ (valid request frame bodies without the
4-byte size prefix, and framed metadata records). Hand-assembled with struct, independent of
our generator. Run from anywhere: python3 tests/fuzz/gen_seeds.py"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def uvarint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def s16(s):  # classic string
    return b"\xff\xff" if s is None else struct.pack(">h", len(s)) + s.encode()


def cstr(s):  # compact string
    return b"\x00" if s is None else uvarint(len(s) + 1) + s.encode()


def hdr(key, ver, corr, client, flexible):
    h = struct.pack(">hhi", key, ver, corr) + s16(client)
    return h + (b"\x00" if flexible else b"")


def write(sub, name, data):
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as fh:
        fh.write(data)


UUID = bytes(range(1, 17))
req = {
    "api_versions_v0": hdr(18, 0, 1, "kafka-python", False),
    "api_versions_v3": hdr(18, 3, 2, "rdkafka", True) + cstr("librdkafka") + cstr("2.0.2") + b"\x00",
    "api_versions_v4_tagged": hdr(18, 4, 3, None, True) + cstr("x") + cstr("1") +
    b"\x01\x05\x02\xab\xcd",
    "metadata_v0_all": hdr(3, 0, 4, "kafka-python", False) + struct.pack(">i", 0),
    "metadata_v1_null": hdr(3, 1, 5, "c", False) + struct.pack(">i", -1),
    "metadata_v4_one": hdr(3, 4, 6, "kafkajs", False) + struct.pack(">i", 1) + s16("orders") + b"\x01",
    "metadata_v8": hdr(3, 8, 7, "c", False) + struct.pack(">i", 2) + s16("a") + s16("b") + b"\x01\x01\x01",
    "metadata_v9": hdr(3, 9, 8, "c", True) + b"\x02" + cstr("orders") + b"\x00" + b"\x01\x00\x00\x00",
    "metadata_v12_ids": hdr(3, 12, 9, "c", True) + b"\x03" + UUID + cstr(None) + b"\x00" + UUID +
    cstr("t") + b"\x00" + b"\x00\x01\x00",
}


def i8(x):
    return struct.pack(">b", x)


def i16(x):
    return struct.pack(">h", x)


def i32(*xs):
    return struct.pack(">" + "i" * len(xs), *xs)


def i64(x):
    return struct.pack(">q", x)


def carr(n):  # compact array length (n None = null)
    return uvarint(0 if n is None else n + 1)


def b32(data):  # classic bytes
    return i32(len(data)) + data


def cbytes(data):  # compact bytes
    return uvarint(len(data) + 1) + data


BATCH = bytes(range(61))  # not a valid RecordBatch: the codec does not look inside
TAG0 = b"\x00"  # an empty tagged-field section
# Issue 4 apis (field layouts from the Kafka protocol guide, written out by hand).
req.update({
    "produce_v3": hdr(0, 3, 10, "c", False) + s16(None) + i16(-1) + i32(30000, 1) + s16("t") +
    i32(1, 0) + b32(BATCH),
    "produce_v9": hdr(0, 9, 11, "c", True) + cstr("txn") + i16(1) + i32(1000) + carr(1) +
    cstr("t") + carr(1) + i32(2) + cbytes(BATCH) + TAG0 + TAG0 + TAG0,
    "fetch_v4": hdr(1, 4, 12, "c", False) + i32(-1, 500, 1, 52428800) + i8(1) + i32(1) +
    s16("t") + i32(1, 0) + i64(0) + i32(1048576),
    "fetch_v12_cluster_id": hdr(1, 12, 13, "c", True) + i32(-1, 500, 1, 52428800) + i8(0) +
    i32(0, -1) + carr(1) + cstr("t") + carr(1) + i32(0, 5) + i64(100) + i32(4) + i64(-1) +
    i32(1048576) + TAG0 + TAG0 + carr(0) + cstr("") + b"\x01\x00\x04" + cstr("abc"),
    "fetch_v15_replica_state": hdr(1, 15, 14, "c", True) + i32(500, 1, 52428800) + i8(0) +
    i32(7, 2) + carr(1) + UUID + carr(1) + i32(0, 5) + i64(100) + i32(4) + i64(-1) +
    i32(1048576) + TAG0 + TAG0 + carr(1) + UUID + carr(1) + i32(1) + TAG0 + cstr("rack") +
    b"\x01\x01\x0d" + i32(3) + i64(7) + TAG0,
    "list_offsets_v0": hdr(2, 0, 15, "c", False) + i32(-1, 1) + s16("t") + i32(1, 0) +
    i64(-1) + i32(1),
    "list_offsets_v1": hdr(2, 1, 16, "c", False) + i32(-1, 1) + s16("t") + i32(1, 0) + i64(-2),
    "list_offsets_v7": hdr(2, 7, 17, "c", True) + i32(-1) + i8(1) + carr(1) + cstr("t") +
    carr(1) + i32(0, -1) + i64(-3) + TAG0 + TAG0 + TAG0,
    "create_topics_v2": hdr(19, 2, 18, "c", False) + i32(1) + s16("t") + i32(-1) + i16(-1) +
    i32(1, 0, 1, 1) + i32(1) + s16("retention.ms") + s16(None) + i32(1000) + i8(0),
    "create_topics_v5": hdr(19, 5, 19, "c", True) + carr(1) + cstr("t") + i32(3) + i16(1) +
    carr(0) + carr(1) + cstr("cleanup.policy") + cstr("compact") + TAG0 + TAG0 + i32(30000) +
    i8(0) + TAG0,
    "delete_topics_v3": hdr(20, 3, 20, "c", False) + i32(1) + s16("t") + i32(1000),
    "delete_topics_v6": hdr(20, 6, 21, "c", True) + carr(1) + cstr(None) + UUID + TAG0 +
    i32(1000) + TAG0,
    "create_partitions_v1": hdr(37, 1, 22, "c", False) + i32(1) + s16("t") + i32(4, -1, 1000) +
    i8(0),
    "create_partitions_v3": hdr(37, 3, 23, "c", True) + carr(1) + cstr("t") + i32(4) +
    carr(1) + carr(1) + i32(1) + TAG0 + TAG0 + i32(1000) + i8(1) + TAG0,
    "delete_records_v2": hdr(21, 2, 24, "c", True) + carr(1) + cstr("t") + carr(1) + i32(0) +
    i64(10) + TAG0 + TAG0 + i32(1000) + TAG0,
    "describe_configs_v1": hdr(32, 1, 25, "c", False) + i32(1) + i8(4) + s16("1") + i32(1) +
    s16("log.retention.ms") + i8(1),
    "describe_configs_v4": hdr(32, 4, 26, "c", True) + carr(1) + i8(2) + cstr("t") +
    carr(None) + TAG0 + i8(1) + i8(0) + TAG0,
    "alter_configs_v2": hdr(33, 2, 27, "c", True) + carr(1) + i8(2) + cstr("t") + carr(1) +
    cstr("retention.ms") + cstr("1000") + TAG0 + TAG0 + i8(0) + TAG0,
    "incremental_alter_configs_v0": hdr(44, 0, 28, "c", False) + i32(1) + i8(2) + s16("t") +
    i32(1) + s16("k") + i8(1) + s16(None) + i8(0),
    "incremental_alter_configs_v1": hdr(44, 1, 29, "c", True) + carr(1) + i8(2) + cstr("t") +
    carr(1) + cstr("retention.ms") + i8(0) + cstr("1000") + TAG0 + TAG0 + i8(1) + TAG0,
    "describe_cluster_v0": hdr(60, 0, 30, "c", True) + i8(0) + TAG0,
    "describe_cluster_v1": hdr(60, 1, 31, "c", True) + i8(1) + i8(2) + TAG0,
    "offset_for_leader_epoch_v2": hdr(23, 2, 32, "c", False) + i32(1) + s16("t") + i32(1, 0, 3, 2),
    "offset_for_leader_epoch_v4": hdr(23, 4, 33, "c", True) + i32(-1) + carr(1) + cstr("t") +
    carr(1) + i32(0, 3, 2) + TAG0 + TAG0 + TAG0,
    "describe_log_dirs_v1": hdr(35, 1, 34, "c", False) + i32(1) + s16("t") + i32(2, 0, 1),
    "describe_log_dirs_v4_all": hdr(35, 4, 35, "c", True) + carr(None) + TAG0,
})
# Issue 6: broker lifecycle and forwarding (KIP-631, KIP-590, KIP-919), all flexible from v0.
LISTENER = cstr("PLAINTEXT") + cstr("localhost") + struct.pack(">Hh", 9092, 0) + TAG0
MV_FEATURE = cstr("metadata.version") + i16(1) + i16(21) + TAG0
req.update({
    "envelope_v0": hdr(58, 0, 36, "b1", True) + cbytes(hdr(18, 3, 1, "c", True) + cstr("x") +
    cstr("1") + TAG0) + cbytes(b"\x00\x05alice") + cbytes(bytes([127, 0, 0, 1])) + TAG0,
    "envelope_v0_null_principal": hdr(58, 0, 37, "b1", True) + cbytes(b"\x00") + b"\x00" +
    cbytes(bytes(16)) + TAG0,
    "broker_registration_v0": hdr(62, 0, 38, "b1", True) + i32(1) + cstr("cid") + UUID +
    carr(1) + LISTENER + carr(1) + MV_FEATURE + cstr("r1") + TAG0,
    "broker_registration_v3": hdr(62, 3, 39, "b1", True) + i32(1) + cstr("cid") + UUID +
    carr(1) + LISTENER + carr(1) + MV_FEATURE + cstr(None) + i8(0) + carr(1) + UUID + i64(-1) +
    TAG0,
    "broker_heartbeat_v0": hdr(63, 0, 40, "b1", True) + i32(1) + i64(5) + i64(100) + i8(1) +
    i8(0) + TAG0,
    "broker_heartbeat_v1_offline_dirs": hdr(63, 1, 41, "b1", True) + i32(1) + i64(5) +
    i64(100) + i8(0) + i8(1) + b"\x01\x00\x11" + carr(1) + UUID,
    "unregister_broker_v0": hdr(64, 0, 42, "admin", True) + i32(2) + TAG0,
    "controller_registration_v0": hdr(70, 0, 43, "c3000", True) + i32(3000) + UUID + i8(0) +
    carr(1) + cstr("CONTROLLER") + cstr("localhost") + struct.pack(">Hh", 9093, 0) + TAG0 +
    carr(1) + MV_FEATURE + TAG0,
})
for name, data in req.items():
    write("request", name, data)


def frame(key, ver):
    return uvarint(1) + uvarint(key) + uvarint(ver)


rec = {
    "feature_level": frame(12, 0) + cstr("metadata.version") + struct.pack(">h", 21) + b"\x00",
    "topic": frame(2, 0) + cstr("orders") + UUID + b"\x00",
    "partition_v2": frame(3, 2) + struct.pack(">i", 0) + UUID + b"\x02" + struct.pack(">i", 1) +
    b"\x02" + struct.pack(">i", 1) + b"\x01\x01" + struct.pack(">iii", 1, 0, 0) + b"\x02" + UUID +
    b"\x01\x01\x05\x02" + struct.pack(">i", 1),
    "config_delete": frame(4, 0) + b"\x02" + cstr("orders") + cstr("retention.ms") + cstr(None) + b"\x00",
    "no_op": frame(20, 0) + b"\x00",
    "register_broker_v3": frame(0, 3) + struct.pack(">i", 1) + b"\x00" + UUID + struct.pack(">q", 5) +
    b"\x02" + cstr("PLAINTEXT") + cstr("localhost") + struct.pack(">Hh", 9092, 0) + b"\x00" +
    b"\x02" + cstr("metadata.version") + struct.pack(">hh", 1, 21) + b"\x00" + cstr(None) +
    b"\x01\x00" + b"\x01\x00\x11\x02" + UUID,
    "register_controller": frame(27, 0) + struct.pack(">i", 3000) + UUID + b"\x01" + b"\x02" +
    cstr("CONTROLLER") + cstr("localhost") + struct.pack(">Hh", 9093, 0) + b"\x00" + b"\x02" +
    cstr("kraft.version") + struct.pack(">hh", 0, 1) + b"\x00" + b"\x00",
}
for name, data in rec.items():
    write("metadata_record", name, data)
