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
}
for name, data in rec.items():
    write("metadata_record", name, data)
