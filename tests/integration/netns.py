"""netns.py: Sluice nodes in Linux network namespaces, one IP address each, links cut with nftables.

Topology (all of it outside the root namespace, whose interfaces and routes are never touched):

    namespace sl<pid>-br   bridge "br0" with one veth end per member ("v<i>")
    namespace sl<pid>-<i>  member i: "eth0" = 10.<A>.<B>.<i>/24 (the other end of v<i>), "lo"
    namespace sl<pid>-c    a client member (index CLIENT_INDEX) for CLIs and client libraries

(A second Net alive at the same time in one process uses the prefix sl<pid>.<k>.)

<A>.<B> come from the pid (10.200.0.0 - 10.231.255.0), so parallel runs do not share a subnet
(they could not collide anyway: each run has its own bridge namespace).

Faults: every member namespace has an nftables table "inet sluice" with a set "blocked" of peer
addresses and two base chains (input/output, policy accept) that drop every packet from/to an
address in the set. There is no conntrack "established" accept rule, so an open TCP connection
stops as well; healing resumes it (retransmissions) unless an endpoint gave up meanwhile.
cut(a, b) adds b to a's set and a to b's; heal(a, b) removes them; isolate(a) cuts a from every
other member (client included); heal_all() empties every set.

Requirements: root, `ip` (iproute2) and `nft` (nftables). require() raises TestFailure with a
clear message when one is missing (a test must fail, never skip). Cleanup (Net.cleanup, also
registered with atexit) kills any process left in the namespaces and deletes them; it is safe to
call more than once and after a partial setup. Nodes started through NsNode die with the test
process (setpriv --pdeathsig), and a new Net deletes namespaces left by dead runs (sweep_stale).
"""

import atexit
import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import harness as h

CLIENT_INDEX = 250
# util-linux (essential): the node gets SIGKILL when the test process dies, even by SIGKILL, so
# a killed test leaves no node running in a namespace nobody deletes (pdeathsig survives the
# execs of `ip netns exec` and sluice).
PDEATHSIG = ["setpriv", "--pdeathsig", "KILL"]
CLONE_NEWNET = 0x40000000
NFT_TABLE = """
table inet sluice {
  set blocked { type ipv4_addr; }
  chain input { type filter hook input priority -10; policy accept; ip saddr @blocked drop; }
  chain output { type filter hook output priority -10; policy accept; ip daddr @blocked drop; }
}
"""


def require():
    """Raises TestFailure unless this process is root and has `ip` and `nft`."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (network namespaces need CAP_SYS_ADMIN/CAP_NET_ADMIN)")
    for tool, pkg in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            missing.append("`%s` (apt package %s; scripts/deps.sh installs it)" % (tool, pkg))
    h.check(not missing, "network-namespace tests need " + ", ".join(missing))


def _tool(name):
    return shutil.which(name) or "/usr/sbin/" + name


def _sh(argv, check=True, input=None):
    p = subprocess.run(argv, capture_output=True, text=True, input=input, timeout=30)
    if check and p.returncode != 0:
        raise h.TestFailure("%s failed (%d): %s%s" % (" ".join(argv), p.returncode, p.stdout,
                                                        p.stderr))
    return p


_libc = None


def sweep_stale():
    """Deletes namespaces of earlier runs (sl<pid>-*) whose test process is gone and that hold
    no process. Never touches a live run's namespaces."""
    p = _sh([_tool("ip"), "netns", "list"], check=False)
    for line in p.stdout.splitlines():
        m = re.match(r"(sl(\d+)(\.\d+)?-\S+)", line.strip())
        if not m or os.path.exists("/proc/%s" % m.group(2)):
            continue
        if _sh([_tool("ip"), "netns", "pids", m.group(1)], check=False).stdout.strip():
            continue
        _sh([_tool("ip"), "netns", "del", m.group(1)], check=False)


def _setns(fd):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


class Net:
    """One run's bridge, member namespaces and faults. Members are small integers 1..249 (node
    i gets 10.A.B.i); the client member is CLIENT_INDEX."""

    _count = 0

    def __init__(self):
        require()
        pid = os.getpid()
        sweep_stale()
        # A second Net alive in the same process gets "sl<pid>.<k>".
        self.prefix = "sl%d" % pid if Net._count == 0 else "sl%d.%d" % (pid, Net._count)
        Net._count += 1
        self.subnet = "10.%d.%d" % (200 + (pid >> 8) % 32, pid & 0xFF)
        self.bridge_ns = self.prefix + "-br"
        self.members = []  # indexes with a namespace, in creation order
        self.created = []  # namespace names created (deleted on cleanup)
        self.blocked = {}  # index -> set of blocked peer indexes
        self._closed = False
        atexit.register(self.cleanup)
        try:
            self._add_ns(self.bridge_ns)
            self._ip(self.bridge_ns, "link", "add", "br0", "type", "bridge")
            self._ip(self.bridge_ns, "link", "set", "br0", "up")
            self._ip(self.bridge_ns, "link", "set", "lo", "up")
        except Exception:
            self.cleanup()
            raise

    # ---- setup ---------------------------------------------------------------------------

    def ns(self, i):
        """The namespace name of member i."""
        return "%s-%s" % (self.prefix, "c" if i == CLIENT_INDEX else str(i))

    def addr(self, i):
        """The IPv4 address of member i."""
        return "%s.%d" % (self.subnet, i)

    def _add_ns(self, name):
        _sh([_tool("ip"), "netns", "add", name])
        self.created.append(name)

    def _ip(self, ns, *args):
        return _sh([_tool("ip"), "-n", ns] + list(args))

    def add(self, i):
        """Creates member i's namespace, its veth onto the bridge, its address and its nftables
        table; returns the namespace name."""
        h.check(1 <= i <= 254 and i not in self.members, "bad or duplicate member %r" % i)
        name = self.ns(i)
        self._add_ns(name)
        # Both veth ends are created directly inside their namespaces (no name in the root one).
        _sh([_tool("ip"), "link", "add", "v%d" % i, "netns", self.bridge_ns, "type", "veth",
             "peer", "name", "eth0", "netns", name])
        self._ip(self.bridge_ns, "link", "set", "v%d" % i, "master", "br0")
        self._ip(self.bridge_ns, "link", "set", "v%d" % i, "up")
        self._ip(name, "addr", "add", self.addr(i) + "/24", "dev", "eth0")
        self._ip(name, "link", "set", "eth0", "up")
        self._ip(name, "link", "set", "lo", "up")
        _sh([_tool("ip"), "netns", "exec", name, _tool("nft"), "-f", "-"], input=NFT_TABLE)
        self.members.append(i)
        self.blocked[i] = set()
        return name

    def add_client(self):
        return self.add(CLIENT_INDEX)

    # ---- running things inside -------------------------------------------------------------

    def prefix_argv(self, i):
        """The command prefix that runs a program inside member i's namespace."""
        return [_tool("ip"), "netns", "exec", self.ns(i)]

    def run_in(self, i, argv, timeout=30):
        """Runs argv inside member i's namespace; returns (exit code, stdout, stderr)."""
        p = subprocess.run(self.prefix_argv(i) + list(argv), capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    @contextlib.contextmanager
    def entered(self, i):
        """Moves the calling thread into member i's network namespace for the with-block.
        Sockets made inside stay in that namespace afterwards; so do threads started inside
        (librdkafka's, e.g. a confluent_kafka client constructed in the block)."""
        with open("/proc/thread-self/ns/net") as home, open("/run/netns/" + self.ns(i)) as there:
            _setns(there.fileno())
            try:
                yield
            finally:
                _setns(home.fileno())

    def can_connect(self, src, dst, port, timeout=0.5):
        """True if a TCP connection from member src to member dst:port succeeds now."""
        with self.entered(src):
            try:
                socket.create_connection((self.addr(dst), port), timeout=timeout).close()
                return True
            except OSError:
                return False

    # ---- faults ---------------------------------------------------------------------------

    def _nft_set(self, i, op, peers):
        if not peers:
            return
        elems = ", ".join(self.addr(p) for p in sorted(peers))
        _sh(self.prefix_argv(i) + [_tool("nft"), op, "element", "inet", "sluice", "blocked",
                                   "{ %s }" % elems])

    def cut(self, a, b):
        """Drops every packet between members a and b, both directions, open connections too."""
        for x, y in ((a, b), (b, a)):
            if y not in self.blocked[x]:
                self._nft_set(x, "add", [y])
                self.blocked[x].add(y)

    def heal(self, a, b):
        for x, y in ((a, b), (b, a)):
            if y in self.blocked[x]:
                self._nft_set(x, "delete", [y])
                self.blocked[x].discard(y)

    def isolate(self, a):
        """Cuts a from every other member (the client included)."""
        for b in self.members:
            if b != a:
                self.cut(a, b)

    def heal_all(self):
        for i in self.members:
            if self.blocked[i]:
                _sh(self.prefix_argv(i) + [_tool("nft"), "flush", "set", "inet", "sluice",
                                           "blocked"])
                self.blocked[i].clear()

    def blocked_in_kernel(self, i):
        """The addresses in member i's nftables set, as the kernel has them."""
        p = _sh(self.prefix_argv(i) + [_tool("nft"), "list", "set", "inet", "sluice", "blocked"])
        return sorted(w.strip(",{}") for w in p.stdout.split()
                      if w.strip(",{}").startswith(self.subnet + "."))

    # ---- cleanup --------------------------------------------------------------------------

    def cleanup(self):
        """Kills processes still inside our namespaces (by pid, from `ip netns pids`) and deletes
        every namespace this run created. Idempotent; never raises."""
        if self._closed:
            return
        self._closed = True
        for name in reversed(self.created):
            try:
                p = _sh([_tool("ip"), "netns", "pids", name], check=False)
                for tok in p.stdout.split():
                    if tok.isdigit() and int(tok) != os.getpid():
                        try:
                            os.kill(int(tok), signal.SIGKILL)
                        except OSError:
                            pass
            except Exception:  # noqa: BLE001 - cleanup must go on
                pass
        time.sleep(0.05)
        for name in reversed(self.created):
            try:
                _sh([_tool("ip"), "netns", "del", name], check=False)
            except Exception:  # noqa: BLE001
                pass
        self.created = []


class NsNode(h.Node):
    """A harness.Node whose process runs in member `index` of net, listening on its address."""

    def __init__(self, net, index, name, roles="broker,controller", extra=None):
        self.net = net
        self.index = index
        super().__init__(name=name, node_id=index, roles=roles, port=9092, extra=extra,
                         host=net.addr(index), prefix=PDEATHSIG + net.prefix_argv(index))

    def wait_listening(self, port=None):
        with self.net.entered(self.index):
            super().wait_listening(port)

    def bootstrap(self):
        return "%s:%d" % (self.host, self.port)
