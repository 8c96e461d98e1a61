#!/usr/bin/env python3
"""gen_batch_seeds.py: writes the seed corpus corpus/batch/ for fuzz_batch: RecordBatch v2
batches in every codec (written by kafka-python's DefaultRecordBatchBuilder, a Kafka client,
independent of our encoder), a control batch, a raw-snappy batch, and a few broken ones.
Run with the system interpreter (kafka-python, snappy, lz4, zstandard are Debian packages):
    /usr/bin/python3 tests/fuzz/gen_batch_seeds.py"""
import os
import struct

import snappy
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.util import calc_crc32c

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "batch")


def write(name, data):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(data)


def client_batch(codec, count, producer_id=-1, transactional=0):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=codec,
                                  is_transactional=transactional, producer_id=producer_id,
                                  producer_epoch=0 if producer_id >= 0 else -1,
                                  base_sequence=0 if producer_id >= 0 else -1,
                                  batch_size=1 << 20)
    for i in range(count):
        key = None if i % 3 == 1 else b"k%d" % i
        value = None if i % 5 == 4 else b"value-%d " % i * (1 + i % 4)
        headers = [("h", b"x" * i)] if i % 2 else []
        b.append(i, timestamp=1700000000000 + i, key=key, value=value, headers=headers)
    return bytes(b.build())


def uvarint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def varint(n):
    return uvarint((n << 1) ^ (n >> 63))


def frame(attributes, records_area, count, base_offset=0):
    """A batch around records_area with correct length and CRC32C."""
    body = struct.pack(">hiqqqhii", attributes, count - 1, 0, 0, -1, -1, -1, count)
    body += records_area
    crc = calc_crc32c(body)
    head = struct.pack(">qiibI", base_offset, len(body) + 9, 0, 2, crc)
    return head + body


def record(i, key, value):
    body = b"\x00" + varint(0) + varint(i)
    body += varint(-1) if key is None else varint(len(key)) + key
    body += varint(-1) if value is None else varint(len(value)) + value
    body += varint(0)
    return varint(len(body)) + body


def main():
    for codec, name in ((0, "none"), (1, "gzip"), (2, "snappy"), (3, "lz4"), (4, "zstd")):
        write("client_%s_1" % name, client_batch(codec, 1))
        write("client_%s_20" % name, client_batch(codec, 20, producer_id=7))
    write("txn_zstd", client_batch(4, 3, producer_id=9, transactional=1))
    # Control batch: COMMIT marker (key version 0, type 1; value version 0, coordinator epoch).
    marker = record(0, struct.pack(">hh", 0, 1), struct.pack(">hi", 0, 5))
    write("control_commit", frame(0x30, marker, 1))
    # Raw (unframed) snappy, which we accept besides xerial framing.
    area = b"".join(record(i, b"k", b"v" * i) for i in range(4))
    write("snappy_raw", frame(2, snappy.compress(area), 4))
    # Broken ones: v1-looking magic, wrong count, unknown codec, truncated.
    good = client_batch(0, 3)
    write("magic1", good[:16] + b"\x01" + good[17:])
    write("codec7", frame(7, area, 4))
    write("count_wrong", frame(0, area, 5))
    write("truncated", good[:-3])


if __name__ == "__main__":
    main()
