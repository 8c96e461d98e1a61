"""test_restart_bind.py: a node restarted at once after kill -9 binds its old ports.

On the io_uring backend the kernel releases a killed process's ring (and the listening sockets
it holds) asynchronously, so the port can stay bound for tens of ms after the process is gone.
Start-up retries a listener whose address is in use every 50 ms for up to 2 s (node.c).

Per io backend (uring, sync):
- restart_after_kill9: start a node, keep a client connected (ApiVersions answered), kill -9,
  start again on the same dir and ports without waiting: it must come up (still running, log
  line "started", kcat -L lists the broker), and exit 0 on SIGTERM.
- port_held_fails: while another socket really listens on the client port, start-up retries for
  about 2 s, logs the retry once, then exits non-zero with the usual "cannot listen on port N:
  Address already in use".
"""

import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

NODES = []
RETRY_LINE = "in use; retrying every 50 ms for up to 2000 ms"


def kcat_list(port):
    r = subprocess.run(["kcat", "-b", "localhost:%d" % port, "-L", "-m", "10"],
                       capture_output=True, text=True, timeout=30)
    h.check(r.returncode == 0, "kcat -L failed (%d): %s" % (r.returncode, r.stderr))
    h.check("1 brokers:" in r.stdout and "broker 1 at localhost:%d" % port in r.stdout,
            "kcat -L output:\n%s" % r.stdout)


def started_line(node, after):
    """The "started:" log line after line `after`, True if the process exited, else None."""
    for ln in node.log_lines()[after:]:
        if "started:" in ln:
            return ln
    return True if not node.alive() else None


def new_node(name, backend):
    node = h.Node(name="%s-%s" % (name, backend), extra={"sluice.io.backend": backend})
    NODES.append(node)
    node.format()
    return node


def test_restart_after_kill9(backend):
    node = new_node("rebind", backend)
    node.start()
    node.wait_log("io.backend=" + backend)
    kcat_list(node.port)
    for attempt in range(3):
        client = h.connect(node.port)
        try:
            h.assert_api_versions_ok(node.port)
            client.sendall(h.request_frame(18, 0, 7))
            h.check(h.read_frame(client) is not None, "no ApiVersions answer")
            rc = node.stop(sig=signal.SIGKILL)
            h.check(rc == -signal.SIGKILL, "exit status %r after kill -9" % rc)
        finally:
            client.close()
        lines_before = len(node.log_lines())
        node.start(wait=False)  # at once, no wait for the port to be released
        line = h.wait_for(lambda: started_line(node, lines_before),
                          "restart %d to start or exit" % attempt)
        h.check(node.alive() and line is not True,
                "restarted node exited with %r:\n%s" % (node.proc.returncode,
                                                        node.logs()[-2000:]))
        h.check("io.backend=" + backend in line, "started line: %s" % line)
        node.wait_listening()
        kcat_list(node.port)
        retried = any(RETRY_LINE in ln for ln in node.log_lines()[lines_before:])
        print("  restart %d on %s: bind retried=%s" % (attempt, backend, retried), flush=True)
    rc = node.stop()
    h.check(rc == 0, "exit code %r after SIGTERM" % rc)


def test_port_held_fails(backend):
    node = new_node("held", backend)
    holder = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        holder.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("::", node.port))
        holder.listen(1)
        t0 = time.monotonic()
        node.start(wait=False)
        try:
            rc = node.proc.wait(timeout=h.DEADLINE_S)
        except subprocess.TimeoutExpired:
            raise h.TestFailure("node did not give up on a held port:\n%s" % node.logs())
        took = time.monotonic() - t0
        logs = node.logs()
        h.check(rc != 0, "exit code %r with the port held" % rc)
        h.check("cannot listen on port %d: Address already in use" % node.port in logs,
                "missing bind error:\n%s" % logs[-2000:])
        h.check(logs.count(RETRY_LINE) == 1, "retry line count %d:\n%s" %
                (logs.count(RETRY_LINE), logs[-2000:]))
        h.check(1.9 <= took < 10, "gave up after %.2fs, expected about 2s" % took)
    finally:
        holder.close()
        node.stop()


def main():
    h.watchdog(170, NODES)
    tests = []
    for b in h.BACKENDS:
        tests.append(("restart_after_kill9[%s]" % b, lambda b=b: test_restart_after_kill9(b)))
        tests.append(("port_held_fails[%s]" % b, lambda b=b: test_port_held_fails(b)))
    try:
        h.run(tests)
    finally:
        for n in NODES:
            n.cleanup()


if __name__ == "__main__":
    main()
