#!/usr/bin/env python3
"""gen_broker_seeds.py: writes the seed corpus of fuzz_broker under corpus/broker/.

fuzz_broker's input is: byte 0 = the api key (0xff = raw mode, the rest is a whole frame), byte
1 = the version, then the frame after its key and version (correlation id, client id, tagged
fields, body). The seeds are
- every request frame of corpus/request/ (written by gen_seeds.py; run that first), converted;
- requests that reach real data in the fuzzer's world (topics "t" x3 and "orders" x1, 3 records
  in each partition of "t"): Produce with a valid RecordBatch (CRC32C computed here) at acks
  -1/1/0, fetches that read data, park on the high watermark or open a session, Metadata that
  auto-creates a topic;
- raw frames: an unknown api key and an ApiVersions version we do not serve.
Hand-assembled with struct, independent of our generator. Run: python3 tests/fuzz/gen_broker_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "broker")
RAW = 0xFF


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def uvarint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def varint(n):  # zigzag
    return uvarint((n << 1) ^ (n >> 63))


def i8(x):
    return struct.pack(">b", x)


def i16(x):
    return struct.pack(">h", x)


def i32(*xs):
    return struct.pack(">" + "i" * len(xs), *xs)


def i64(x):
    return struct.pack(">q", x)


def s16(s):
    return b"\xff\xff" if s is None else i16(len(s)) + s.encode()


def cstr(s):
    return b"\x00" if s is None else uvarint(len(s) + 1) + s.encode()


def carr(n):
    return uvarint(0 if n is None else n + 1)


def b32(data):
    return i32(len(data)) + data


def cbytes(data):
    return uvarint(len(data) + 1) + data


TAG0 = b"\x00"


def record_batch(values, ts=1700000000000):
    """A valid uncompressed RecordBatch v2 (baseOffset 0, CreateTime)."""
    recs = b""
    for i, v in enumerate(values):
        body = i8(0) + varint(i) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        recs += varint(len(body)) + body
    after_crc = (i16(0) + i32(len(values) - 1) + i64(ts) + i64(ts + len(values) - 1) +
                 i64(-1) + i16(-1) + i32(-1) + i32(len(values)) + recs)
    tail = i32(0) + i8(2) + struct.pack(">I", crc32c(after_crc)) + after_crc
    return i64(0) + i32(len(tail)) + tail


def head(key, ver, corr, client="fuzz", flexible=False):
    """The selector bytes and the header after key and version."""
    return bytes([key, ver]) + i32(corr) + s16(client) + (TAG0 if flexible else b"")


def first_session_id(seed=0x9E3779B97F4A7C15):
    """The id fuzz_broker's reseeded session generator gives the first new session."""
    m = (1 << 64) - 1
    x = seed
    x ^= (x << 13) & m
    x ^= x >> 7
    x ^= (x << 17) & m
    return x & 0x7FFFFFFF


SESSION = first_session_id()
BATCH = record_batch([b"hello", b"world", b"fuzz"])

seeds = {
    # Produce with real batches: acks -1 (waits for fsync), 1, 0 (no response).
    "produce_v3_acks_all": head(0, 3, 100) + s16(None) + i16(-1) + i32(30000, 1) + s16("t") +
    i32(1, 0) + b32(BATCH),
    "produce_v7_acks_1": head(0, 7, 101) + s16(None) + i16(1) + i32(30000, 1) + s16("t") +
    i32(1, 1) + b32(BATCH),
    "produce_v9_acks_0": head(0, 9, 102, flexible=True) + cstr(None) + i16(0) + i32(1000) +
    carr(1) + cstr("t") + carr(1) + i32(2) + cbytes(BATCH) + TAG0 + TAG0 + TAG0,
    "produce_v9_two_topics": head(0, 9, 103, flexible=True) + cstr(None) + i16(-1) +
    i32(1000) + carr(2) + cstr("orders") + carr(1) + i32(0) + cbytes(BATCH) + TAG0 + TAG0 +
    cstr("nope") + carr(1) + i32(0) + cbytes(BATCH) + TAG0 + TAG0 + TAG0,
    # Fetch: data at offset 0; parked at the high watermark (3); a v7 full fetch session.
    "fetch_v4_data": head(1, 4, 110) + i32(-1, 100, 1, 1048576) + i8(0) + i32(1) + s16("t") +
    i32(2, 0) + i64(0) + i32(65536) + i32(1) + i64(1) + i32(65536),
    "fetch_v4_park": head(1, 4, 111) + i32(-1, 500, 1, 1048576) + i8(0) + i32(1) + s16("t") +
    i32(1, 0) + i64(3) + i32(65536),
    "fetch_v7_session": head(1, 7, 112) + i32(-1, 0, 1, 1048576) + i8(1) + i32(0, 0) + i32(1) +
    s16("orders") + i32(1, 0) + i64(0) + i64(-1) + i32(65536) + i32(0),
    "fetch_v11_min_bytes": head(1, 11, 113) + i32(-1, 50, 100000, 1048576) + i8(0) +
    i32(0, -1) + i32(1) + s16("t") + i32(1, 2) + i32(0) + i64(0) + i64(-1) + i32(1024) +
    i32(0) + s16(""),
    # Fetch v7 incremental on the session the full fetch above opened: epoch 1 adds t-1,
    # epoch 2 forgets it; session_epoch -1 closes the session.
    "fetch_v7_incremental": head(1, 7, 114) + i32(-1, 0, 1, 1048576) + i8(0) +
    i32(SESSION, 1) + i32(1) + s16("t") + i32(1, 1) + i64(0) + i64(-1) + i32(65536) + i32(0),
    "fetch_v7_forget": head(1, 7, 115) + i32(-1, 0, 1, 1048576) + i8(0) + i32(SESSION, 2) +
    i32(0) + i32(1) + s16("t") + i32(1, 1),
    "fetch_v7_close": head(1, 7, 116) + i32(-1, 0, 1, 1048576) + i8(0) + i32(SESSION, -1) +
    i32(0) + i32(0),
    # Metadata: auto-creates "fresh" (auto.create.topics.enable=true).
    "metadata_v4_autocreate": head(3, 4, 120) + i32(1) + s16("fresh") + i8(1),
    "metadata_v12_all": head(3, 12, 121, flexible=True) + carr(None) + i8(1) + i8(1) + TAG0,
    # ListOffsets latest / earliest / max timestamp on "t".
    "list_offsets_v7_max_ts": head(2, 7, 130, flexible=True) + i32(-1) + i8(0) + carr(1) +
    cstr("t") + carr(2) + i32(0, -1) + i64(-3) + TAG0 + i32(1, -1) + i64(-1) + TAG0 + TAG0 +
    TAG0,
    # DeleteRecords up to offset 1 of t-0.
    "delete_records_v1": head(21, 1, 140) + i32(1) + s16("t") + i32(1, 0) + i64(1) + i32(1000),
    # Raw frames: unknown api key 57005, ApiVersions v99, a truncated header.
    "raw_unknown_key": bytes([RAW, 0]) + i16(-8531) + i16(0) + i32(150) + s16("c"),
    "raw_api_versions_v99": bytes([RAW, 0]) + i16(18) + i16(99) + i32(151) + s16("c") +
    cstr("x") + cstr("1") + TAG0,
    "raw_truncated": bytes([RAW, 0]) + i16(3) + i16(1) + b"\x00",
}


def convert_request_corpus():
    src = os.path.join(HERE, "corpus", "request")
    out = {}
    if not os.path.isdir(src):
        raise SystemExit("corpus/request is missing: run gen_seeds.py first")
    for name in sorted(os.listdir(src)):
        with open(os.path.join(src, name), "rb") as fh:
            frame = fh.read()
        key, ver = struct.unpack(">hh", frame[:4])
        if not 0 <= key < RAW or not 0 <= ver < 256:
            out["req_" + name] = bytes([RAW, 0]) + frame
        else:
            out["req_" + name] = bytes([key, ver]) + frame[4:]
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    all_seeds = convert_request_corpus()
    all_seeds.update(seeds)
    for name, data in all_seeds.items():
        with open(os.path.join(OUT, name), "wb") as fh:
            fh.write(data)
    print("wrote %d seeds to %s" % (len(all_seeds), OUT))


if __name__ == "__main__":
    main()
