"""harness.py: shared helpers for Sluice's integration tests.

Each test file starts build/sluice on free ports in a temp dir: write a server.properties,
`sluice storage format`, start `sluice server start`, wait for the port, talk to it, stop it
with SIGTERM and collect its log. Conditions are polled with deadlines, never slept on.

Environment: SLUICE_BIN (the binary; default <source>/build/sluice), SLUICE_SOURCE_DIR,
SLUICE_KEEP_TMP=1 keeps the temp dirs for inspection.
"""

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

SOURCE_DIR = os.environ.get(
    "SLUICE_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
SLUICE_BIN = os.environ.get("SLUICE_BIN", os.path.join(SOURCE_DIR, "build", "sluice"))
BACKENDS = ["uring", "sync"]
DEADLINE_S = 15.0


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_for(cond, what, timeout=DEADLINE_S, interval=0.02):
    """Polls cond() until it returns a truthy value; raises naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TestFailure("timed out waiting for " + what)
        time.sleep(interval)


def free_port(also_free_offset=None):
    """A TCP port free on all interfaces now (and port+offset too, when asked)."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", 0))
        port = s.getsockname()[1]
        s.close()
        if also_free_offset is None:
            return port
        other = port + also_free_offset
        if other > 65535:
            continue
        try:
            t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            t.bind(("::", other))
            t.close()
            return port
        except OSError:
            continue
    raise TestFailure("no free port pair found")


def run_cli(args, timeout=30):
    """Runs `sluice ARGS...`; returns (exit code, stdout, stderr)."""
    p = subprocess.run([SLUICE_BIN] + list(args), capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def random_uuid():
    rc, out, err = run_cli(["storage", "random-uuid"])
    check(rc == 0, "storage random-uuid failed: " + err)
    return out.strip()


class Node:
    """One sluice node in its own temp dir: config, format, start, stop, logs."""

    def __init__(self, name="node", node_id=1, roles="broker,controller", port=None,
                 extra=None):
        self.tmp = tempfile.mkdtemp(prefix="sluice-it-%s-" % name)
        self.node_id = node_id
        self.roles = roles
        self.port = port or free_port(also_free_offset=1)
        self.controller_port = self.port + 1
        self.logs_dir = os.path.join(self.tmp, "logs")
        self.config = os.path.join(self.tmp, "server.properties")
        self.log_path = os.path.join(self.tmp, "sluice.log")
        self.proc = None
        self.log_file = None
        self.write_config(extra or {})

    def write_config(self, extra):
        props = {
            "process.roles": self.roles,
            "node.id": str(self.node_id),
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.quorum.voters": "%d@localhost:%d" % (self.node_id, self.controller_port),
            "log.dirs": self.logs_dir,
        }
        if "broker" in self.roles:
            props["listeners"] = "PLAINTEXT://:%d,CONTROLLER://:%d" % (
                self.port, self.controller_port)
            props["advertised.listeners"] = "PLAINTEXT://localhost:%d" % self.port
        else:
            props["listeners"] = "CONTROLLER://:%d" % self.controller_port
        if self.roles == "broker":
            props["listeners"] = "PLAINTEXT://:%d" % self.port
            props["controller.quorum.voters"] = "%d@localhost:%d" % (
                self.node_id + 1000, self.controller_port)
        props.update(extra)
        with open(self.config, "w") as f:
            for k, v in props.items():
                f.write("%s=%s\n" % (k, v))

    def format(self, cluster_id=None):
        rc, out, err = run_cli(["storage", "format", "-t", cluster_id or random_uuid(),
                                "-c", self.config])
        check(rc == 0, "storage format failed (%d): %s%s" % (rc, out, err))

    def start(self, overrides=(), backend=None, wait=True, args=None):
        cmd = [SLUICE_BIN] + (args or ["server", "start", "-c", self.config])
        if backend:
            overrides = list(overrides) + ["sluice.io.backend=" + backend]
        for o in overrides:
            cmd += ["--override", o]
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT)
        if wait:
            self.wait_listening()
        return self

    def wait_listening(self, port=None):
        port = port or (self.port if "broker" in self.roles else self.controller_port)

        def ready():
            if self.proc.poll() is not None:
                raise TestFailure("sluice exited with %d before listening:\n%s" %
                                  (self.proc.returncode, self.logs()))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return True
            except OSError:
                return False
        wait_for(ready, "port %d to listen" % port)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=DEADLINE_S):
        """Sends sig and waits; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("sluice did not exit within %.0fs of signal %d" % (timeout, sig))
        finally:
            if self.log_file:
                self.log_file.close()
                self.log_file = None
        return rc

    def logs(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_lines(self):
        return self.logs().splitlines()

    def wait_log(self, text, after=0, what=None):
        """Waits for a log line containing text among lines[after:]; returns that line."""
        def find():
            for line in self.log_lines()[after:]:
                if text in line:
                    return line
            return None
        return wait_for(find, what or ("log line containing %r" % text))

    def cleanup(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        if self.log_file:
            self.log_file.close()
        if os.environ.get("SLUICE_KEEP_TMP") != "1":
            shutil.rmtree(self.tmp, ignore_errors=True)


# ---- raw Kafka protocol ------------------------------------------------------------------------

def request_frame(api_key, version, correlation_id, body=b"", client_id="it-raw",
                  header_version=None):
    """A size-prefixed request. header_version None: 2 for flexible ApiVersions (v3+), else 1."""
    if header_version is None:
        header_version = 2 if (api_key == 18 and version >= 3) else 1
    h = struct.pack(">hhi", api_key, version, correlation_id)
    if header_version >= 1:
        cid = client_id.encode()
        h += struct.pack(">h", len(cid)) + cid
    if header_version >= 2:
        h += b"\x00"  # no tagged fields
    payload = h + body
    return struct.pack(">i", len(payload)) + payload


def api_versions_v3_body(name="sluice-it", version="1.0"):
    def cstr(s):
        b = s.encode()
        return bytes([len(b) + 1]) + b  # compact string, length < 127
    return cstr(name) + cstr(version) + b"\x00"


def connect(port, timeout=10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(sock, n):
    """Reads n bytes; returns fewer only if the peer closed."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def read_frame(sock):
    """One response frame body, or None if the connection closed first."""
    hdr = recv_exact(sock, 4)
    if len(hdr) < 4:
        return None
    (n,) = struct.unpack(">i", hdr)
    body = recv_exact(sock, n)
    return body if len(body) == n else None


def parse_api_versions_v0(frame):
    """(correlation id, error code, {key: (min, max)}) of an ApiVersions v0 response."""
    corr, err, count = struct.unpack(">ihi", frame[:10])
    keys = {}
    off = 10
    for _ in range(count):
        k, lo, hi = struct.unpack(">hhh", frame[off:off + 6])
        keys[k] = (lo, hi)
        off += 6
    check(off == len(frame), "ApiVersions v0 response has %d trailing bytes" % (len(frame) - off))
    return corr, err, keys


def assert_closed(sock, timeout=10.0):
    """The server closes the connection (EOF or reset) without sending anything more."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(65536)
    except ConnectionResetError:
        return
    except socket.timeout:
        raise TestFailure("server did not close the connection")
    check(data == b"", "expected a close, got %d bytes" % len(data))


def assert_api_versions_ok(port, version=0):
    """A well-behaved client gets a correct ApiVersions answer on a new connection."""
    with connect(port) as s:
        body = api_versions_v3_body() if version >= 3 else b""
        s.sendall(request_frame(18, version, 4242, body))
        frame = read_frame(s)
        check(frame is not None, "no ApiVersions answer")
        if version == 0:
            corr, err, keys = parse_api_versions_v0(frame)
            check(corr == 4242, "correlation id %d" % corr)
            check(err == 0, "error code %d" % err)
            check(keys.get(18) == (0, 4), "ApiVersions range %r" % (keys.get(18),))
            check(keys.get(3) == (0, 12), "Metadata range %r" % (keys.get(3),))
        return frame


# ---- runner ------------------------------------------------------------------------------------

def run(tests):
    """Runs (name, fn) pairs; prints one line per test and "N passed, M failed"; exits."""
    passed = failed = 0
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            fn()
            passed += 1
            print("PASS %s (%.1fs)" % (name, time.monotonic() - t0), flush=True)
        except Exception:  # noqa: BLE001 - report every failure and keep going
            failed += 1
            print("FAIL %s (%.1fs)" % (name, time.monotonic() - t0), flush=True)
            traceback.print_exc()
            sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed or not passed else 0)

