"""test_bad_input.py: hostile and broken clients on raw sockets, on both io backends.

For every case: the server logs one line about that connection and closes it (or answers
it), a well-behaved client on another connection still gets a correct ApiVersions answer,
and the server process is still alive. Also: the KIP-511 reply to a too-new ApiVersions,
10,000 pipelined requests answered in order, and a half-sent frame closed by
connections.max.idle.ms.
"""

import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

IDLE_MS = 1500


def expect_one_close_line(node, mark, reason):
    """Exactly one new "closing connection" line, and it names reason."""
    line = node.wait_log(reason, after=mark)
    h.check("conn=" in line and "peer=" in line, "log line lacks conn/peer context: " + line)
    time.sleep(0.05)  # let any duplicate line land before counting
    closing = [l for l in node.log_lines()[mark:] if "closing connection" in l]
    h.check(len(closing) == 1, "expected one close line, got:\n" + "\n".join(closing))


def bad_case(node, payload, reason):
    mark = len(node.log_lines())
    with h.connect(node.port) as s:
        s.sendall(payload)
        h.assert_closed(s)
    expect_one_close_line(node, mark, reason)
    h.assert_api_versions_ok(node.port)
    h.check(node.alive(), "server died")


def size_prefix(n):
    return struct.pack(">I", n & 0xFFFFFFFF)


def open_fds(node):
    return len(os.listdir("/proc/%d/fd" % node.proc.pid))


def settled_fds(node):
    """The descriptor count once it held still for 300 ms: a connection the client just closed
    is closed by the server only when it reads the EOF (slow under sanitizers and load)."""
    last = open_fds(node)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = open_fds(node)
        if now == last:
            return now
        last = now
    return last


def answered_then_closed(node):
    """Two good requests, an unknown API key, then a good one, in one write: exactly the two
    earlier answers arrive, in order, then the close; the request after the bad one is not
    answered (Kafka closes at the bad request)."""
    mark = len(node.log_lines())
    with h.connect(node.port) as s:
        s.sendall(h.request_frame(18, 0, 1) + h.request_frame(18, 0, 2) +
                  h.request_frame(999, 0, 3) + h.request_frame(18, 0, 4))
        for want in (1, 2):
            frame = h.read_frame(s)
            h.check(frame is not None, "answer %d missing" % want)
            corr, err, _ = h.parse_api_versions_v0(frame)
            h.check(corr == want and err == 0, "answer %d: corr %d err %d" % (want, corr, err))
        h.assert_closed(s)
    expect_one_close_line(node, mark, "unknown API key 999")
    h.check(node.alive(), "server died")


def cases(node):
    port = node.port
    h.assert_api_versions_ok(port)
    fds_before = settled_fds(node)
    # Garbage (an HTTP request): its first 4 bytes read as a huge size.
    bad_case(node, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "exceeds socket.request.max.bytes")
    bad_case(node, b"\xde\xad\xbe\xef" * 8, "invalid request size")
    bad_case(node, size_prefix(0) + b"\x00" * 8, "invalid request size 0")
    bad_case(node, size_prefix(-1) + b"\x00" * 8, "invalid request size -1")
    bad_case(node, size_prefix(1 << 31), "invalid request size -2147483648")
    bad_case(node, size_prefix((1 << 31) - 1), "exceeds socket.request.max.bytes")
    # Header cut in the middle: 6 bytes (no full correlation id) ...
    bad_case(node, size_prefix(6) + struct.pack(">hh", 18, 0) + b"\x00\x01",
             "shorter than a request header")
    # ... and a client id that claims 10 bytes but has 3.
    bad_case(node, size_prefix(13) + struct.pack(">hhih", 18, 0, 7, 10) + b"abc",
             "malformed request header")
    # Trailing bytes after a valid ApiVersions v0 body.
    frame = h.request_frame(18, 0, 9)
    body = frame[4:] + b"JUNK"
    bad_case(node, size_prefix(len(body)) + body, "4 unexpected bytes")
    # Unknown API key, and an unsupported version of a known API other than ApiVersions.
    bad_case(node, h.request_frame(999, 0, 10), "unknown API key 999")
    bad_case(node, h.request_frame(3, 13, 11, b"\x00\x00\x00\x00"), "unsupported version 13")

    # ApiVersions v5: KIP-511 reply (v0 body, header v0, error 35, only key 18); the
    # connection stays usable for a retry at a lower version.
    with h.connect(port) as s:
        s.sendall(h.request_frame(18, 5, 77, h.api_versions_v3_body()))
        corr, err, keys = h.parse_api_versions_v0(h.read_frame(s))
        h.check(corr == 77, "KIP-511 correlation id %d" % corr)
        h.check(err == 35, "KIP-511 error %d" % err)
        h.check(keys == {18: (0, 4)}, "KIP-511 api keys %r" % keys)
        s.sendall(h.request_frame(18, 0, 78))
        corr, err, keys = h.parse_api_versions_v0(h.read_frame(s))
        h.check(corr == 78 and err == 0 and 3 in keys, "retry after KIP-511 failed")

    # ApiVersions v3 with an illegal client software name: INVALID_REQUEST (42).
    with h.connect(port) as s:
        s.sendall(h.request_frame(18, 3, 79, h.api_versions_v3_body("-bad name", "1.0")))
        frame = h.read_frame(s)
        corr, err = struct.unpack(">ih", frame[:6])
        h.check(corr == 79 and err == 42, "v3 validation: corr %d error %d" % (corr, err))

    answered_then_closed(node)
    pipelined(port)
    h.check(node.alive(), "server died after pipelining")
    stalled(node)
    # Every close path gave its descriptors back (sockets, pipes).
    h.wait_for(lambda: open_fds(node) == fds_before,
               "open descriptors back to %d (now %d)" % (fds_before, open_fds(node)))


def pipelined(port, count=10000):
    """count tiny ApiVersions requests in one write; answers must come back in order."""
    got = []
    errors = []
    with h.connect(port, timeout=30) as s:
        def reader():
            try:
                for _ in range(count):
                    frame = h.read_frame(s)
                    if frame is None:
                        errors.append("connection closed after %d answers" % len(got))
                        return
                    corr, err = struct.unpack(">ih", frame[:6])
                    got.append((corr, err))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
        t = threading.Thread(target=reader)
        t.start()
        s.sendall(b"".join(h.request_frame(18, 0, i, client_id="p") for i in range(count)))
        t.join(60)
        h.check(not t.is_alive(), "pipelined answers did not arrive")
    h.check(not errors, "pipelining: %s" % errors)
    h.check(len(got) == count, "got %d answers" % len(got))
    for i, (corr, err) in enumerate(got):
        h.check(corr == i, "answer %d has correlation id %d" % (i, corr))
        h.check(err == 0, "answer %d has error %d" % (i, err))


def stalled(node):
    """Half a frame, then silence: closed by connections.max.idle.ms, others unaffected."""
    mark = len(node.log_lines())
    with h.connect(node.port) as s:
        s.sendall(size_prefix(100) + b"\x00\x12\x00\x00")
        t0 = time.monotonic()
        h.assert_api_versions_ok(node.port)  # served while the stalled one waits
        h.assert_closed(s, timeout=IDLE_MS / 1000.0 * 4 + 5)
        waited = time.monotonic() - t0
        h.check(waited >= IDLE_MS / 1000.0 * 0.8, "closed too early (%.2fs)" % waited)
    expect_one_close_line(node, mark, "connections.max.idle.ms")
    h.assert_api_versions_ok(node.port)
    h.check(node.alive(), "server died")


def make_test(backend):
    def test():
        node = h.Node(name="bad-" + backend)
        try:
            node.format()
            # The broker's own heartbeat connection to its controller listener must not
            # sit idle long enough to be closed too: heartbeat well inside IDLE_MS.
            node.start(overrides=["connections.max.idle.ms=%d" % IDLE_MS,
                                  "broker.heartbeat.interval.ms=%d" % (IDLE_MS // 3)],
                       backend=backend)
            node.wait_log("io.backend=" + backend)
            cases(node)
            rc = node.stop(signal.SIGTERM)
            h.check(rc == 0, "exit code %r after SIGTERM" % rc)
        except Exception:
            sys.stdout.write("---- sluice log ----\n%s\n" % node.logs()[-6000:])
            raise
        finally:
            node.cleanup()
    return test


if __name__ == "__main__":
    h.run([("bad_input[%s]" % b, make_test(b)) for b in h.BACKENDS])
