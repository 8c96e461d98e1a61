"""test_server_start.py: `sluice server start` and `sluice dev` start-up and shut-down.

Refusals (unformatted dir, mismatched node id, bad config value) exit 1 with one line;
SIGTERM and SIGINT stop a running node with exit 0 on both io backends; a controller-only
node answers ApiVersions on its controller listener; `sluice dev` formats its dir, serves
ApiVersions on the chosen port and its controller listener on port+1000.
"""

import os
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


# A controller listener serves ApiVersions and the Raft RPCs: Fetch (of __cluster_metadata),
# Vote, BeginQuorumEpoch, EndQuorumEpoch, DescribeQuorum, FetchSnapshot.
CONTROLLER_KEYS = {1, 18, 52, 53, 54, 55, 58, 59, 62, 63, 64, 70}

def refused(node, overrides=()):
    """Starts node expecting a start-up failure; returns stderr+stdout text."""
    cmd = [h.SLUICE_BIN, "server", "start", "-c", node.config]
    for o in overrides:
        cmd += ["--override", o]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    h.check(p.returncode == 1, "exit code %d, expected 1: %s%s" % (p.returncode, p.stdout,
                                                                   p.stderr))
    return p.stderr


def test_unformatted():
    node = h.Node(name="unformatted")
    try:
        err = refused(node)
        h.check("No `meta.properties` found in %s" % node.logs_dir in err, "message: " + err)
        h.check("sluice storage format" in err, "message lacks the hint: " + err)
        h.check(len(err.strip().splitlines()) == 1, "expected one line: " + err)
    finally:
        node.cleanup()


def test_mismatched_node_id():
    node = h.Node(name="mismatch", node_id=1)
    try:
        node.format()
        node.node_id = 2
        node.write_config({})
        err = refused(node)
        h.check("node id" in err.lower() and "1" in err and "2" in err, "message: " + err)
    finally:
        node.cleanup()


def test_bad_config_value():
    node = h.Node(name="badconf")
    try:
        node.format()
        err = refused(node, ["socket.request.max.bytes=lots"])
        h.check("socket.request.max.bytes" in err, "message does not name the key: " + err)
        h.check(len(err.strip().splitlines()) == 1, "expected one line: " + err)
    finally:
        node.cleanup()


def make_signal_test(sig, backend):
    def test():
        node = h.Node(name="sig")
        try:
            node.format()
            node.start(backend=backend)
            line = node.wait_log("started:")
            h.check("io.backend=" + backend in line, "start-up line: " + line)
            h.check("PLAINTEXT://" in line and "CONTROLLER://" in line, "listeners: " + line)
            h.assert_api_versions_ok(node.port)
            # An open idle connection must not hold up the shutdown.
            idle = h.connect(node.port)
            rc = node.stop(sig)
            idle.close()
            h.check(rc == 0, "exit code %r after signal %d" % (rc, sig))
            name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
            h.check("received " + name in node.logs(), "no shutdown log line")
            h.check("stopped" in node.log_lines()[-1], "last line: " + node.log_lines()[-1])
        except Exception:
            sys.stdout.write("---- sluice log ----\n%s\n" % node.logs()[-4000:])
            raise
        finally:
            node.cleanup()
    return test


def test_controller_only():
    node = h.Node(name="ctl", roles="controller")
    try:
        node.format()
        node.start()
        with h.connect(node.controller_port) as s:
            s.sendall(h.request_frame(18, 0, 5))
            corr, err, keys = h.parse_api_versions_v0(h.read_frame(s))
            h.check(corr == 5 and err == 0, "controller ApiVersions %d %d" % (corr, err))
            h.check(set(keys) == CONTROLLER_KEYS, "controller listener advertises %r" % keys)
        h.check(node.stop() == 0, "controller-only exit code")
    except Exception:
        sys.stdout.write("---- sluice log ----\n%s\n" % node.logs()[-4000:])
        raise
    finally:
        node.cleanup()


def test_dev():
    node = h.Node(name="dev")  # used only for its temp dir, port and process handling
    try:
        data = os.path.join(node.tmp, "data")
        port = h.free_port(also_free_offset=1000)
        for run in range(2):  # the second run finds the dir formatted already
            node.port = port
            node.start(args=["dev", "--dir", data, "--port", str(port)])
            h.check(os.path.exists(os.path.join(data, "server.properties")), "no config")
            h.check(os.path.exists(os.path.join(data, "logs", "meta.properties")), "no format")
            h.assert_api_versions_ok(port)
            with h.connect(port + 1000) as s:
                s.sendall(h.request_frame(18, 0, 6))
                corr, err, keys = h.parse_api_versions_v0(h.read_frame(s))
                h.check(set(keys) == CONTROLLER_KEYS, "dev controller listener %r" % keys)
            rc = node.stop(signal.SIGINT if run else signal.SIGTERM)
            h.check(rc == 0, "dev exit code %r" % rc)
    except Exception:
        sys.stdout.write("---- sluice log ----\n%s\n" % node.logs()[-4000:])
        raise
    finally:
        node.cleanup()


def test_zero_copy_key():
    """sluice.net.zero.copy reaches the network server (named in the start-up line); a bad
    value is refused with a line naming the key. io_uring has no sendfile opcode, so there
    `sendfile` runs as `splice` (docs/configuration.md)."""
    cases = [("copy", "uring", "copy"), ("splice", "uring", "splice"),
             ("sendfile", "uring", "splice"), ("sendfile", "sync", "sendfile"),
             ("copy", "sync", "copy")]
    for mode, backend, expect in cases:
        node = h.Node(name="zc")
        try:
            node.format()
            node.start(overrides=["sluice.net.zero.copy=" + mode], backend=backend)
            line = node.wait_log("started:")
            h.check("zero.copy=%s" % expect in line and "io.backend=" + backend in line,
                    "%s on %s: start-up line: %s" % (mode, backend, line))
            h.assert_api_versions_ok(node.port)
            h.check(node.stop() == 0, "exit code")
        except Exception:
            sys.stdout.write("---- sluice log ----\n%s\n" % node.logs()[-4000:])
            raise
        finally:
            node.cleanup()
    node = h.Node(name="zcbad")
    try:
        node.format()
        err = refused(node, ["sluice.net.zero.copy=mmap"])
        h.check("sluice.net.zero.copy" in err and "mmap" in err, "bad value message: " + err)
    finally:
        node.cleanup()


def test_max_connections_zero():
    """max.connections=0 is valid in Kafka (no client connections): the node starts and closes
    every connection at once, with a log line."""
    node = h.Node(name="mc0")
    try:
        node.format()
        node.start(overrides=["max.connections=0"], wait=False)
        node.wait_log("started:")
        s = h.connect(node.port)
        try:
            s.sendall(h.request_frame(18, 0, 1))
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed before the request went out: also a refusal
        h.assert_closed(s)
        node.wait_log("max.connections")
        h.check(node.alive(), "server died")
        h.check(node.stop() == 0, "exit code")
    except Exception:
        sys.stdout.write("---- sluice log ----\n%s\n" % node.logs()[-4000:])
        raise
    finally:
        node.cleanup()


def test_dev_dir_refused():
    """A --dir that would inject lines into the generated server.properties is refused."""
    for bad in ("/tmp/x\nnode.id=7", "/tmp/a\\b"):
        rc, _, err = h.run_cli(["dev", "--dir", bad, "--port", "19999"])
        h.check(rc == 2 and "--dir must not contain" in err, "rc %d: %s" % (rc, err))
    args = ["dev"]
    for i in range(129):
        args += ["--override", "k%d=v" % i]
    rc, _, err = h.run_cli(args)
    h.check(rc == 2 and "too many --override" in err, "rc %d: %s" % (rc, err))


def test_help():
    rc, out, _ = h.run_cli(["server", "start", "--help"])
    h.check(rc == 0 and "--override" in out, "server start --help")
    rc, out, _ = h.run_cli(["dev", "--help"])
    h.check(rc == 0 and "--port" in out, "dev --help")
    rc, _, err = h.run_cli(["server", "start"])
    h.check(rc == 2 and "-c FILE" in err, "server start without -c")


if __name__ == "__main__":
    tests = [
        ("unformatted_refused", test_unformatted),
        ("mismatched_node_id_refused", test_mismatched_node_id),
        ("bad_config_value", test_bad_config_value),
        ("controller_only", test_controller_only),
        ("dev", test_dev),
        ("help", test_help),
        ("zero_copy_key", test_zero_copy_key),
        ("max_connections_zero", test_max_connections_zero),
        ("dev_dir_refused", test_dev_dir_refused),
    ]
    for b in h.BACKENDS:
        tests.append(("sigterm[%s]" % b, make_signal_test(signal.SIGTERM, b)))
        tests.append(("sigint[%s]" % b, make_signal_test(signal.SIGINT, b)))
    h.run(tests)
