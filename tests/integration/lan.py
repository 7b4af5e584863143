"""A LAN host for tests: a network namespace joined to this one by a veth pair.

Webhooks may not reach loopback, so a test receiver listens on the far end of
a veth pair (an address in ``POOL``, 10.77.128.0/17) inside its own network
namespace: the appliance reaches it over a real interface, the way it reaches a
receiver on the LAN. Making one needs root (``ip netns``, ``ip link``); where
that is not allowed the test is skipped with the reason.

A socket is opened inside the namespace from a thread that joined it (setns
moves only the calling thread), so the receiver runs in this process and the
test reads what it got directly.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import random
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest

#: Where test LANs are numbered; an appliance under test allow-lists this.
POOL = "10.77.128.0/17"
CLONE_NEWNET = 0x40000000
PREFIX = "ahoy-lan-"
T = TypeVar("T")


@dataclass(frozen=True)
class Lan:
    netns: str
    link: str  # this side of the veth pair
    near: str  # this side's address
    address: str  # the far side's address, inside ``netns``

    def inside(self, make: Callable[[], T]) -> T:
        """``make()`` run on a thread inside the namespace (its sockets stay there)."""
        result: list[T] = []
        failure: list[BaseException] = []

        def run() -> None:
            libc = ctypes.CDLL(None, use_errno=True)
            try:
                with open(f"/run/netns/{self.netns}") as ns:
                    if libc.setns(ns.fileno(), CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns failed")
                result.append(make())
            except BaseException as exc:  # handed to the caller
                failure.append(exc)

        thread = threading.Thread(target=run)  # ends inside the namespace: no other work
        thread.start()
        thread.join()
        if failure:
            raise failure[0]
        return result[0]


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


def _sweep_stale() -> None:
    """Namespaces and links left by test processes that died before cleaning up."""
    for name in _ip("netns", "list").stdout.split():
        m = re.fullmatch(rf"{PREFIX}(\d+)-\d+", name)
        if m and not os.path.exists(f"/proc/{m[1]}"):
            _ip("netns", "del", name)
    for line in _ip("-o", "link").stdout.splitlines():
        m = re.match(r"\d+: (al(\d+)n\d+)[@:]", line)
        if m and not os.path.exists(f"/proc/{m[2]}"):
            _ip("link", "del", m[1])


def _free_subnet() -> ipaddress.IPv4Network:
    used = _ip("-o", "-4", "addr").stdout
    subnets = list(ipaddress.ip_network(POOL).subnets(new_prefix=30))
    for subnet in random.sample(subnets, 50):
        if not any(f" {h}/" in used for h in subnet):
            return subnet
    raise RuntimeError(f"no free /30 in {POOL}")


_count = 0
_lock = threading.Lock()


@contextlib.contextmanager
def lan_host() -> Iterator[Lan]:
    """A fresh namespace and veth pair; both are gone afterwards."""
    global _count
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("a LAN host for webhook tests needs root and iproute2 (ip netns)")
    with _lock:
        _count += 1
        n = _count
    pid = os.getpid()
    netns, link, far = f"{PREFIX}{pid}-{n}", f"al{pid}n{n}", f"al{pid}f{n}"
    _sweep_stale()
    subnet = _free_subnet()
    near, address = (str(h) for h in subnet.hosts())
    steps = [
        ("netns", "add", netns),
        ("link", "add", link, "type", "veth", "peer", "name", far),
        ("link", "set", far, "netns", netns),
        ("addr", "add", f"{near}/30", "dev", link),
        ("link", "set", link, "up"),
        ("-n", netns, "addr", "add", f"{address}/30", "dev", far),
        ("-n", netns, "link", "set", far, "up"),
        ("-n", netns, "link", "set", "lo", "up"),
    ]
    try:
        for step in steps:
            done = _ip(*step)
            if done.returncode != 0:
                pytest.skip(f"cannot make a LAN host (ip {' '.join(step)}): {done.stderr.strip()}")
        yield Lan(netns, link, near, address)
    finally:
        _ip("link", "del", link)  # takes its peer along; not always the namespace's doing
        _ip("netns", "del", netns)
