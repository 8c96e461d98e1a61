"""test_fetch_session.py: incremental fetch sessions (KIP-227) the way the Java consumer uses them.

A small fetch-session client written here with raw sockets builds Fetch v12 (topic names) and
v13 (topic ids) requests by hand: a full fetch opens a session (session id != 0), incremental
fetches name only the partitions whose fetch offset changed and get back only partitions with
news (records, a new high watermark or log start, an error); a waiting incremental fetch wakes
when one partition gets a record and returns just that one; forgotten topics leave the session;
a wrong epoch gets INVALID_FETCH_SESSION_EPOCH, an unknown session FETCH_SESSION_ID_NOT_FOUND;
epoch -1 closes the session; v13 addresses topics by id and reports UNKNOWN_TOPIC_ID.
"""

import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

NODE = None
UNKNOWN_TOPIC_OR_PARTITION = 3
FETCH_SESSION_ID_NOT_FOUND = 70
INVALID_FETCH_SESSION_EPOCH = 71
UNKNOWN_TOPIC_ID = 100


class FetchResponse:
    def __init__(self, error, session_id, parts, elapsed):
        self.error = error
        self.session_id = session_id
        self.parts = parts  # {(topic name or id, partition): dict}
        self.elapsed = elapsed


def batches_info(data):
    """[(base offset, last offset, record count)] of the record batches in a records field."""
    out, off = [], 0
    while off + 61 <= len(data):
        base, blen = struct.unpack(">qi", data[off:off + 12])
        if off + 12 + blen > len(data):
            break  # a partial batch at the end is allowed
        (delta,) = struct.unpack(">i", data[off + 23:off + 27])
        (count,) = struct.unpack(">i", data[off + 57:off + 61])
        out.append((base, base + delta, count))
        off += 12 + blen
    return out


class SessionClient:
    """One connection, one fetch session; tracks fetch offsets like the Java FetchSessionHandler."""

    def __init__(self, port, version=12):
        self.sock = h.connect(port, timeout=20)
        self.version = version
        self.corr = 0
        self.session_id = 0
        self.epoch = 0

    def close(self):
        self.sock.close()

    def request(self, partitions, forgotten=None, session_id=None, epoch=None, max_wait=500,
                min_bytes=1):
        """partitions: {(topic, partition): fetch offset}; topic is a name (v12) or 16-byte id
        (v13). forgotten: {topic: [partitions]}. Returns a FetchResponse."""
        v = self.version
        by_topic = {}
        for (t, p), off in partitions.items():
            by_topic.setdefault(t, []).append((p, off))
        topics = []
        for t, plist in by_topic.items():
            tb = t if v >= 13 else h.compact_str(t)
            pb = [struct.pack(">iiqiqi", p, -1, off, -1, -1, 1 << 20) + b"\x00"
                  for p, off in plist]
            topics.append(tb + h.compact_array(pb) + b"\x00")
        fg = []
        for t, plist in (forgotten or {}).items():
            tb = t if v >= 13 else h.compact_str(t)
            fg.append(tb + h.compact_array([struct.pack(">i", p) for p in plist]) + b"\x00")
        body = struct.pack(">iiiibii", -1, max_wait, min_bytes, 8 << 20, 0,
                           self.session_id if session_id is None else session_id,
                           self.epoch if epoch is None else epoch)
        body += h.compact_array(topics) + h.compact_array(fg) + h.compact_str("") + b"\x00"
        self.corr += 1
        t0 = time.monotonic()
        r = h.kafka_call(self.sock, 1, v, body, correlation_id=self.corr, flexible=True)
        elapsed = time.monotonic() - t0
        r.i32()  # throttle
        err = r.i16()
        sid = r.i32()
        parts = {}
        for _ in range(r.compact_len()):
            topic = r.uuid() if v >= 13 else r.compact_string()
            for _ in range(r.compact_len()):
                pi = r.i32()
                perr = r.i16()
                hw, lso, lstart = r.i64(), r.i64(), r.i64()
                for _ in range(max(r.compact_len(), 0)):
                    r.i64()
                    r.i64()
                    r.tagged()
                r.i32()  # preferred read replica
                recs = r.compact_bytes() or b""
                r.tagged()
                h.check((topic, pi) not in parts, "partition %r-%d twice in one response" %
                        (topic, pi))
                parts[(topic, pi)] = {"error": perr, "hw": hw, "lso": lso, "log_start": lstart,
                                      "batches": batches_info(recs)}
            r.tagged()
        r.tagged()
        h.check(r.rest() == 0, "%d trailing bytes in the Fetch response" % r.rest())
        return FetchResponse(err, sid, parts, elapsed)

    def full(self, partitions, **kw):
        """A full fetch that opens a new session."""
        self.session_id, self.epoch = 0, 0
        resp = self.request(partitions, **kw)
        h.check(resp.error == 0, "full fetch: error %d" % resp.error)
        h.check(resp.session_id != 0, "full fetch (session 0, epoch 0) did not open a session")
        self.session_id, self.epoch = resp.session_id, 1
        return resp

    def incremental(self, partitions=None, **kw):
        resp = self.request(partitions or {}, **kw)
        h.check(resp.error == 0, "incremental fetch (session %d epoch %d): error %d" %
                (self.session_id, self.epoch, resp.error))
        h.check(resp.session_id == self.session_id, "incremental fetch answered for session "
                "%d, sent %d" % (resp.session_id, self.session_id))
        self.epoch += 1
        return resp


def produce(topic, partition, n, tag):
    h.ck_produce(NODE, topic, [{"value": b"%s-%d" % (tag.encode(), i), "partition": partition}
                               for i in range(n)], extra={"acks": "all"})


def next_offsets(resp, offsets):
    """Advances offsets past the records in resp; returns the partitions whose offset moved."""
    changed = {}
    for key, p in resp.parts.items():
        if p["batches"]:
            last = p["batches"][-1][1]
            if last + 1 > offsets.get(key, 0):
                offsets[key] = last + 1
                changed[key] = last + 1
    return changed


def setup_topics():
    h.ck_create_topic(NODE, "fs-a", partitions=3)
    h.ck_create_topic(NODE, "fs-b", partitions=2)
    produce("fs-a", 0, 5, "a0")
    produce("fs-a", 1, 3, "a1")
    produce("fs-b", 0, 2, "b0")


ALL = [("fs-a", 0), ("fs-a", 1), ("fs-a", 2), ("fs-b", 0), ("fs-b", 1)]


def test_full_then_incremental():
    c = SessionClient(NODE.port, 12)
    try:
        offsets = {k: 0 for k in ALL}
        resp = c.full(dict(offsets))
        h.check(set(resp.parts) == set(ALL), "full fetch partitions %r" % sorted(resp.parts))
        want_hw = {("fs-a", 0): 5, ("fs-a", 1): 3, ("fs-a", 2): 0, ("fs-b", 0): 2,
                   ("fs-b", 1): 0}
        for k, p in resp.parts.items():
            h.check(p["error"] == 0 and p["hw"] == want_hw[k], "full fetch %r: %r" % (k, p))
            got = sum(b[2] for b in p["batches"])
            h.check(got == want_hw[k], "full fetch %r returned %d records, want %d" %
                    (k, got, want_hw[k]))
        changed = next_offsets(resp, offsets)

        # Nothing new: the incremental fetch waits out max_wait and returns no partitions.
        resp = c.incremental(changed, max_wait=400)
        h.check(resp.parts == {}, "incremental with no news returned %r" % sorted(resp.parts))
        h.check(resp.elapsed >= 0.3, "empty incremental fetch returned after %.0f ms, "
                "before max_wait 400 ms" % (resp.elapsed * 1000))

        # New records in one partition: only that partition comes back.
        produce("fs-a", 2, 4, "a2")
        resp = c.incremental({}, max_wait=2000)
        h.check(set(resp.parts) == {("fs-a", 2)}, "after producing to fs-a-2 got %r" %
                sorted(resp.parts))
        p = resp.parts[("fs-a", 2)]
        h.check(p["hw"] == 4 and sum(b[2] for b in p["batches"]) == 4, "fs-a-2: %r" % p)
        changed = next_offsets(resp, offsets)

        # A waiting incremental fetch wakes when another partition gets a record.
        result = {}

        def fetch_bg():
            try:
                result["resp"] = c.incremental(changed, max_wait=5000)
            except Exception as e:  # noqa: BLE001
                result["error"] = e
        th = threading.Thread(target=fetch_bg, daemon=True)
        th.start()
        time.sleep(0.5)
        t_prod = time.monotonic()
        produce("fs-b", 1, 1, "b1")
        th.join(10)
        h.check(not th.is_alive(), "waiting fetch did not return")
        h.check("error" not in result, "waiting fetch failed: %r" % result.get("error"))
        resp = result["resp"]
        h.check(set(resp.parts) == {("fs-b", 1)}, "woken fetch returned %r" % sorted(resp.parts))
        h.check(time.monotonic() - t_prod < 2.0, "waiting fetch returned %.1fs after produce" %
                (time.monotonic() - t_prod))
        changed = next_offsets(resp, offsets)
        h.check(changed == {("fs-b", 1): 1}, "fs-b-1 next offset %r" % changed)

        # The moved offset plus an unchanged re-sent one: no news.
        changed[("fs-a", 0)] = offsets[("fs-a", 0)]
        resp = c.incremental(changed, max_wait=300)
        h.check(resp.parts == {}, "unchanged re-sent partition came back: %r" %
                sorted(resp.parts))

        # Forget fs-b: records produced to it no longer come back.
        resp = c.incremental({}, forgotten={"fs-b": [0, 1]}, max_wait=300)
        h.check(resp.parts == {}, "forget request returned %r" % sorted(resp.parts))
        produce("fs-b", 0, 3, "b0-late")
        resp = c.incremental({}, max_wait=400)
        h.check(resp.parts == {}, "forgotten fs-b came back: %r" % sorted(resp.parts))
        produce("fs-a", 0, 1, "a0-late")
        resp = c.incremental({}, max_wait=2000)
        h.check(set(resp.parts) == {("fs-a", 0)}, "after forgetting fs-b got %r" %
                sorted(resp.parts))
        p = resp.parts[("fs-a", 0)]
        h.check(p["batches"] and p["batches"][0][0] <= 5 <= p["batches"][-1][1] and p["hw"] == 6,
                "fs-a-0 from offset 5: %r" % p)

        changed = next_offsets(resp, offsets)
        h.check(changed == {("fs-a", 0): 6}, "fs-a-0 next offset %r" % changed)

        # Adding a partition back to the session returns it in full.
        changed[("fs-b", 0)] = 0
        resp = c.incremental(changed, max_wait=2000)
        h.check(set(resp.parts) == {("fs-b", 0)}, "re-added fs-b-0: %r" % sorted(resp.parts))
        h.check(resp.parts[("fs-b", 0)]["hw"] == 5, "fs-b-0 hw %r" % resp.parts[("fs-b", 0)])

        # Wrong epoch and unknown session.
        sid, ep = c.session_id, c.epoch
        resp = c.request({}, epoch=ep + 5, max_wait=100)
        h.check(resp.error == INVALID_FETCH_SESSION_EPOCH, "epoch %d (expected %d): error %d, "
                "want INVALID_FETCH_SESSION_EPOCH" % (ep + 5, ep, resp.error))
        resp = c.request({}, session_id=(sid ^ 0x5A5A5A5) or 7, epoch=1, max_wait=100)
        h.check(resp.error == FETCH_SESSION_ID_NOT_FOUND,
                "unknown session: error %d, want FETCH_SESSION_ID_NOT_FOUND" % resp.error)

        # Epoch -1 closes the session and does a sessionless full fetch.
        resp = c.request({("fs-a", 1): 0}, epoch=-1, max_wait=100)
        h.check(resp.error == 0 and resp.session_id == 0,
                "close (epoch -1): error %d session %d" % (resp.error, resp.session_id))
        h.check(set(resp.parts) == {("fs-a", 1)} and resp.parts[("fs-a", 1)]["hw"] == 3,
                "sessionless fetch %r" % resp.parts)
        resp = c.request({}, session_id=sid, epoch=ep, max_wait=100)
        h.check(resp.error == FETCH_SESSION_ID_NOT_FOUND,
                "closed session still answers: error %d" % resp.error)
    finally:
        c.close()


def test_sessionless_and_unknown_topic():
    c = SessionClient(NODE.port, 12)
    try:
        resp = c.request({("fs-a", 0): 0, ("fs-nope", 0): 0, ("fs-a", 9): 0},
                         session_id=0, epoch=-1, max_wait=100)
        h.check(resp.error == 0 and resp.session_id == 0,
                "sessionless fetch error %d session %d" % (resp.error, resp.session_id))
        h.check(resp.parts[("fs-a", 0)]["error"] == 0, "fs-a-0 %r" % resp.parts[("fs-a", 0)])
        h.check(resp.parts.get(("fs-nope", 0), {}).get("error") == UNKNOWN_TOPIC_OR_PARTITION,
                "unknown topic: %r" % resp.parts.get(("fs-nope", 0)))
        h.check(resp.parts.get(("fs-a", 9), {}).get("error") == UNKNOWN_TOPIC_OR_PARTITION,
                "unknown partition: %r" % resp.parts.get(("fs-a", 9)))
    finally:
        c.close()


def test_v13_topic_ids():
    ids = h.metadata_v10_topic_ids(NODE.port, ["fs-a", "fs-b"])
    for t in ("fs-a", "fs-b"):
        h.check(ids.get(t) and ids[t][0] == 0 and ids[t][1] != b"\x00" * 16,
                "Metadata v10 topic id of %s: %r" % (t, ids.get(t)))
    a, b = ids["fs-a"][1], ids["fs-b"][1]
    h.check(a != b, "two topics share a topic id")
    c = SessionClient(NODE.port, 13)
    try:
        offsets = {(a, 0): 0, (a, 1): 0, (b, 1): 0}
        resp = c.full(dict(offsets))
        h.check(set(resp.parts) == set(offsets), "v13 full fetch %r" % sorted(resp.parts))
        h.check(resp.parts[(a, 1)]["hw"] == 3 and
                sum(x[2] for x in resp.parts[(a, 1)]["batches"]) == 3,
                "v13 fs-a-1 %r" % resp.parts[(a, 1)])
        changed = next_offsets(resp, offsets)
        resp = c.incremental(changed, max_wait=300)
        h.check(resp.parts == {}, "v13 incremental with no news: %r" % sorted(resp.parts))
        produce("fs-a", 1, 2, "a1-v13")
        resp = c.incremental({}, max_wait=2000)
        h.check(set(resp.parts) == {(a, 1)}, "v13 incremental after produce %r" %
                sorted(resp.parts))
        h.check(resp.parts[(a, 1)]["hw"] == 5, "v13 fs-a-1 hw %r" % resp.parts[(a, 1)])
        # Forgotten by id.
        resp = c.incremental({}, forgotten={a: [1]}, max_wait=200)
        produce("fs-a", 1, 1, "a1-v13-late")
        resp = c.incremental({}, max_wait=300)
        h.check(resp.parts == {}, "v13 forgotten partition came back %r" % sorted(resp.parts))
    finally:
        c.close()
    c = SessionClient(NODE.port, 13)
    try:
        unknown = b"\x13" * 16
        resp = c.request({(unknown, 0): 0, (a, 0): 0}, session_id=0, epoch=-1, max_wait=100)
        h.check(resp.error == 0, "v13 fetch with an unknown topic id: top error %d" % resp.error)
        h.check(resp.parts.get((unknown, 0), {}).get("error") == UNKNOWN_TOPIC_ID,
                "unknown topic id: %r" % resp.parts.get((unknown, 0)))
        h.check(resp.parts.get((a, 0), {}).get("error") == 0, "fs-a-0 by id %r" %
                resp.parts.get((a, 0)))
    finally:
        c.close()


TESTS = [
    ("setup_topics", setup_topics),
    ("full_then_incremental", test_full_then_incremental),
    ("sessionless_and_unknown_topic", test_sessionless_and_unknown_topic),
    ("v13_topic_ids", test_v13_topic_ids),
]


def set_node(node):
    global NODE
    NODE = node


def main():
    h.run_on_single_nodes("fetch-session", TESTS, set_node)


if __name__ == "__main__":
    main()
