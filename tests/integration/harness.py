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
                 extra=None, host=None, prefix=None):
        """host: listen on (and advertise, and probe) this address instead of every address /
        localhost; prefix: argv put before the sluice command on start (e.g. `ip netns exec
        NS`, see netns.py)."""
        self.tmp = tempfile.mkdtemp(prefix="sluice-it-%s-" % name)
        self.node_id = node_id
        self.roles = roles
        self.host = host
        self.prefix = list(prefix or [])
        self.port = port or free_port(also_free_offset=1)
        self.controller_port = self.port + 1
        self.logs_dir = os.path.join(self.tmp, "logs")
        self.config = os.path.join(self.tmp, "server.properties")
        self.log_path = os.path.join(self.tmp, "sluice.log")
        self.proc = None
        self.log_file = None
        self.write_config(extra or {})

    def write_config(self, extra):
        bind = self.host or ""
        adv = self.host or "localhost"
        props = {
            "process.roles": self.roles,
            "node.id": str(self.node_id),
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.quorum.voters": "%d@%s:%d" % (self.node_id, adv, self.controller_port),
            "log.dirs": self.logs_dir,
        }
        if "broker" in self.roles:
            props["listeners"] = "PLAINTEXT://%s:%d,CONTROLLER://%s:%d" % (
                bind, self.port, bind, self.controller_port)
            props["advertised.listeners"] = "PLAINTEXT://%s:%d" % (adv, self.port)
        else:
            props["listeners"] = "CONTROLLER://%s:%d" % (bind, self.controller_port)
        if self.roles == "broker":
            props["listeners"] = "PLAINTEXT://%s:%d" % (bind, self.port)
            props["controller.quorum.voters"] = "%d@%s:%d" % (
                self.node_id + 1000, adv, self.controller_port)
        props.update(extra)
        with open(self.config, "w") as f:
            for k, v in props.items():
                f.write("%s=%s\n" % (k, v))

    def format(self, cluster_id=None):
        rc, out, err = run_cli(["storage", "format", "-t", cluster_id or random_uuid(),
                                "-c", self.config])
        check(rc == 0, "storage format failed (%d): %s%s" % (rc, out, err))

    def start(self, overrides=(), backend=None, wait=True, args=None):
        cmd = self.prefix + [SLUICE_BIN] + (args or ["server", "start", "-c", self.config])
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
                socket.create_connection((self.host or "127.0.0.1", port), timeout=0.5).close()
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



# ---- single-node helpers and a small raw-protocol toolkit (issue 4) ---------------------------

def start_single(name, extra=None, overrides=(), cluster_id=None):
    """A formatted, started broker+controller node; the caller must cleanup() it."""
    node = Node(name=name, extra=extra)
    try:
        node.format(cluster_id)
        node.start(overrides=overrides)
    except Exception:
        node.cleanup()
        raise
    return node


def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def compact_str(s):
    """COMPACT_NULLABLE_STRING: None is length 0."""
    if s is None:
        return b"\x00"
    b = s.encode() if isinstance(s, str) else s
    return uvarint(len(b) + 1) + b


def compact_array(items):
    """COMPACT_ARRAY of already-encoded items (a list of bytes); None is null."""
    if items is None:
        return b"\x00"
    return uvarint(len(items) + 1) + b"".join(items)


def kstr(s):
    """Classic STRING / NULLABLE_STRING (int16 length)."""
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


class Reader:
    """Bounds-checked reader of Kafka's primitive types; raises TestFailure on a short frame."""

    def __init__(self, data, off=0):
        self.data = data
        self.off = off

    def _take(self, n):
        check(n >= 0 and self.off + n <= len(self.data),
              "response truncated: need %d bytes at %d of %d" % (n, self.off, len(self.data)))
        b = self.data[self.off:self.off + n]
        self.off += n
        return b

    def i8(self):
        return struct.unpack(">b", self._take(1))[0]

    def i16(self):
        return struct.unpack(">h", self._take(2))[0]

    def i32(self):
        return struct.unpack(">i", self._take(4))[0]

    def i64(self):
        return struct.unpack(">q", self._take(8))[0]

    def uuid(self):
        return self._take(16)

    def boolean(self):
        return self._take(1) != b"\x00"

    def uvarint(self):
        shift = n = 0
        while True:
            b = self._take(1)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7
            check(shift < 35, "uvarint too long")

    def string(self):
        n = self.i16()
        return None if n < 0 else self._take(n).decode()

    def compact_string(self):
        n = self.uvarint()
        return None if n == 0 else self._take(n - 1).decode()

    def compact_bytes(self):
        n = self.uvarint()
        return None if n == 0 else self._take(n - 1)

    def compact_len(self):
        """Element count of a COMPACT_ARRAY (-1 for null)."""
        return self.uvarint() - 1

    def tagged(self):
        """Skips a tagged-fields section."""
        for _ in range(self.uvarint()):
            self.uvarint()
            self._take(self.uvarint())

    def rest(self):
        return len(self.data) - self.off


def kafka_call(sock, api_key, version, body, correlation_id=1, flexible=False):
    """Sends one request on sock and returns a Reader positioned after the response header.

    flexible: request header v2 / response header v1 (tagged fields)."""
    sock.sendall(request_frame(api_key, version, correlation_id, body,
                               header_version=2 if flexible else 1))
    frame = read_frame(sock)
    check(frame is not None, "connection closed instead of a response to api %d v%d" %
          (api_key, version))
    r = Reader(frame)
    corr = r.i32()
    check(corr == correlation_id, "correlation id %d, sent %d" % (corr, correlation_id))
    if flexible:
        r.tagged()
    return r


def metadata_v10_topic_ids(port, topics=None):
    """Metadata v10 (flexible): {topic name: (error code, topic id bytes, partition count)}."""
    body = compact_array(None if topics is None else
                         [b"\x00" * 16 + compact_str(t) + b"\x00" for t in topics])
    body += b"\x00"  # allow_auto_topic_creation false
    body += b"\x00\x00"  # include cluster / topic authorized operations
    body += b"\x00"  # tagged fields
    with connect(port) as s:
        r = kafka_call(s, 3, 10, body, flexible=True)
    r.i32()  # throttle
    for _ in range(r.compact_len()):  # brokers
        r.i32()
        r.compact_string()
        r.i32()
        r.compact_string()
        r.tagged()
    r.compact_string()  # cluster id
    r.i32()  # controller
    out = {}
    for _ in range(r.compact_len()):
        err = r.i16()
        name = r.compact_string()
        tid = r.uuid()
        r.boolean()
        nparts = r.compact_len()
        for _ in range(nparts):
            r.i16()
            r.i32()
            r.i32()
            r.i32()
            for _ in range(3):  # replicas, isr, offline
                for _ in range(max(r.compact_len(), 0)):
                    r.i32()
            r.tagged()
        r.i32()  # topic authorized operations
        r.tagged()
        out[name] = (err, tid, nparts)
    return out


# ---- confluent-kafka helpers (import confluent_kafka lazily: only /usr/bin/python3 has it) ----

def ck_admin(node):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": "localhost:%d" % node.port})


def ck_create_topic(node, name, partitions=1, config=None, timeout=20):
    """Creates a topic through confluent-kafka's AdminClient and waits until it is in Metadata."""
    from confluent_kafka.admin import NewTopic
    from confluent_kafka import KafkaException
    admin = ck_admin(node)
    deadline = time.monotonic() + timeout
    while True:
        fs = admin.create_topics([NewTopic(name, partitions, 1, config=config or {})],
                                 operation_timeout=timeout, request_timeout=timeout)
        try:
            fs[name].result(timeout=timeout)
            break
        except KafkaException as e:
            # NOT_CONTROLLER (41) right after start: the metadata quorum is still electing.
            if e.args[0].code() != 41 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)

    def visible():
        md = admin.list_topics(topic=name, timeout=5)
        t = md.topics.get(name)
        return t is not None and t.error is None and len(t.partitions) == partitions
    wait_for(visible, "topic %s with %d partitions in metadata" % (name, partitions))


def ck_consumer(node, extra=None):
    from confluent_kafka import Consumer
    conf = {"bootstrap.servers": "localhost:%d" % node.port, "group.id": "sluice-it",
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "enable.partition.eof": False, "fetch.wait.max.ms": 100,
            "socket.timeout.ms": 10000, "session.timeout.ms": 10000}
    conf.update(extra or {})
    return Consumer(conf)


def ck_consume(node, topic, partitions, count, timeout=60, offset=None, extra=None):
    """Consumes count records from the given partitions (from the beginning, or offset) with
    assign() (no group protocol); returns the confluent Message objects in arrival order."""
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition
    c = ck_consumer(node, extra)
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING if offset is None else offset)
                  for p in partitions])
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            check(time.monotonic() < deadline, "consumed %d of %d records from %s in %.0fs" %
                  (len(out), count, topic, timeout))
            msgs = c.consume(num_messages=min(1000, count - len(out)), timeout=0.5)
            for m in msgs:
                check(m.error() is None, "consumer error: %s" % m.error())
                out.append(m)
        return out
    finally:
        c.close()


def ck_produce(node, topic, records, extra=None, timeout=60):
    """Produces records (dicts of produce() kwargs) and waits for every delivery report;
    returns [(partition, offset)] in order, raising on any delivery error."""
    from confluent_kafka import Producer
    conf = {"bootstrap.servers": "localhost:%d" % node.port, "linger.ms": 5,
            "message.timeout.ms": int(timeout * 1000)}
    conf.update(extra or {})
    p = Producer(conf)
    results = [None] * len(records)
    errors = []

    def cb_for(i):
        def cb(err, msg):
            if err is not None:
                errors.append((i, err))
            else:
                results[i] = (msg.partition(), msg.offset())
        return cb
    for i, r in enumerate(records):
        while True:
            try:
                p.produce(topic, on_delivery=cb_for(i), **r)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(timeout)
    check(left == 0, "%d records not delivered within %.0fs" % (left, timeout))
    check(not errors, "delivery errors: %s" % errors[:5])
    return results


def watchdog(seconds, nodes):
    """Kills the given nodes and exits with status 1 if the test file is still running after
    `seconds` (a last line of defence against a hang; every wait has its own deadline)."""
    import threading

    def fire():
        print("WATCHDOG: test file exceeded %ds; killing sluice and failing" % seconds,
              flush=True)
        for n in nodes:
            try:
                if n.alive():
                    n.proc.kill()
                sys.stdout.write("---- sluice log (tail) ----\n%s\n" % n.logs()[-4000:])
                n.cleanup()
            except Exception:  # noqa: BLE001
                pass
        sys.stdout.flush()
        os._exit(1)
    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()
    return t


def stored_codecs(port, topic, partition):
    """The compression codec (attributes & 7) of every record batch stored in a partition,
    read with a raw Fetch v4 from offset 0 (the broker keeps the producer's codec)."""
    body = struct.pack(">iiiib", -1, 100, 1, 16 << 20, 0)
    body += struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1)
    body += struct.pack(">iqi", partition, 0, 16 << 20)
    with connect(port) as s:
        r = kafka_call(s, 1, 4, body)
    r.i32()
    check(r.i32() == 1, "fetch: one topic expected")
    r.string()
    check(r.i32() == 1, "fetch: one partition expected")
    r.i32()
    err = r.i16()
    check(err == 0, "raw fetch error %d" % err)
    r.i64()
    r.i64()
    for _ in range(max(r.i32(), 0)):
        r.i64()
        r.i64()
    size = r.i32()
    data = r._take(max(size, 0))
    codecs, off = [], 0
    while off + 61 <= len(data):
        (blen,) = struct.unpack(">i", data[off + 8:off + 12])
        if off + 12 + blen > len(data):
            break
        (attrs,) = struct.unpack(">h", data[off + 21:off + 23])
        codecs.append(attrs & 7)
        off += 12 + blen
    return codecs


def wait_port_free(port, timeout=DEADLINE_S):
    """Waits until nothing accepts connections on port. After kill -9 of an io_uring node the
    kernel tears the ring down asynchronously and its listening socket lingers for a moment
    (tens of ms); a restart inside that window fails to bind."""
    def refused():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return False
        except OSError:
            return True
    wait_for(refused, "port %d to be released" % port, timeout=timeout, interval=0.01)


def run_on_single_nodes(name, tests, set_node, backends=None, watchdog_s=175):
    """Runs tests ((name, fn) pairs) against a fresh single node per io backend and exits like
    run(): for each backend a "start[b]" step formats and starts a node (set_node(node) makes
    it current), every test runs as "name[b]" and must leave the node alive, and "stop[b]"
    expects exit code 0 on SIGTERM. Env: SLUICE_IT_ONLY=a,b runs only the named tests;
    SLUICE_IT_BACKENDS=uring,sync picks backends (default: all of BACKENDS)."""
    env_backends = os.environ.get("SLUICE_IT_BACKENDS")
    backends = env_backends.split(",") if env_backends else (backends or BACKENDS)
    only = os.environ.get("SLUICE_IT_ONLY")
    nodes = []
    watchdog(watchdog_s, nodes)
    plan = []

    def log_tail(node):
        sys.stdout.write("---- sluice log (tail) ----\n%s\n" % node.logs()[-3000:])

    for b in backends:
        state = {}

        def start(b=b, state=state):
            node = Node(name="%s-%s" % (name, b))
            nodes.append(node)
            node.format()
            node.start(backend=b)
            node.wait_log("io.backend=" + b)
            state["node"] = node
            set_node(node)
        plan.append(("start[%s]" % b, start))
        for tname, fn in tests:
            if only and tname not in only.split(","):
                continue

            def step(fn=fn, tname=tname, state=state):
                node = state.get("node")
                check(node is not None and node.alive(), "no running node for %s" % tname)
                try:
                    fn()
                    check(node.alive(), "sluice died during %s" % tname)
                except Exception:
                    log_tail(node)
                    raise
            plan.append(("%s[%s]" % (tname, b), step))

        def stop(state=state):
            node = state.get("node")
            check(node is not None, "node never started")
            try:
                rc = node.stop()
                check(rc == 0, "exit code %r after SIGTERM" % rc)
            except Exception:
                log_tail(node)
                raise
            finally:
                node.cleanup()
        plan.append(("stop[%s]" % b, stop))
    try:
        run(plan)
    finally:
        for n in nodes:
            n.cleanup()


CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def check_stored_codec(port, topic, partition, codec, what):
    """The partition holds batches in `codec` and maybe uncompressed ones, nothing else.
    (librdkafka sends a batch uncompressed when compressing does not make it smaller.)"""
    codecs = stored_codecs(port, topic, partition)
    want = CODEC_IDS[codec]
    check(want in codecs and set(codecs) <= {0, want},
          "%s: stored batch codecs %r, expected %s (%d)" % (what, codecs, codec, want))
