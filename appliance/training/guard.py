"""A tripwire against network use inside a training worker.

:func:`install` adds a ``sys.addaudithook`` hook that refuses every socket
connect, send or name lookup whose destination is not loopback (or a local
socket), raising :class:`NetworkBlocked` before the system call is made, and
reports each attempt through a callback (the worker turns it into a ``log``
event). Audit hooks cannot be removed, and forked children (data loader
workers) inherit them.

It is a tripwire, not a sandbox: code that opens sockets from C without going
through Python's ``socket`` module is not seen. Real isolation is a network
namespace; this guard proves that the Python stack (ultralytics, torch, requests)
made no attempt, and stops one before any packet leaves.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import sys
from collections.abc import Callable
from typing import Any

_HOST_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
#: audit event → index of the destination address (or host) in its arguments
_WATCHED = {
    "socket.connect": 1,  # (socket, address)
    "socket.sendto": 1,  # (socket, address)
    "socket.sendmsg": 1,  # (socket, address)
    "socket.getaddrinfo": 0,  # (host, port, family, type, protocol)
    "socket.gethostbyname": 0,  # (hostname,)
    "socket.gethostbyname_ex": 0,  # not audited by CPython 3.11, kept for later ones
    "socket.gethostbyaddr": 0,  # (ip_address,)
}

_installed = False


class NetworkBlocked(PermissionError):
    """A non-loopback network operation refused by the guard (an OSError, so that
    libraries treat it like any unreachable network)."""

    def __init__(self, destination: str) -> None:
        super().__init__(errno.EPERM, f"network access to {destination} is blocked during training")
        self.destination = destination


def is_local(host: Any) -> bool:
    """True for destinations that never leave the box: loopback addresses and names,
    no host at all (binding), local (AF_UNIX) paths and non-IP families."""
    if host is None or host in ("", b""):
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return True  # AF_NETLINK and friends carry integers, not hosts
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in _HOST_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # any other name would need a lookup


def destination(event: str, args: tuple[Any, ...]) -> tuple[Any, str]:
    """(host, printable destination) of a watched audit event's arguments."""
    index = _WATCHED[event]
    target = args[index] if len(args) > index else None
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        if isinstance(target, tuple) and target:
            port = f":{target[1]}" if len(target) > 1 else ""
            return target[0], f"{target[0]}{port}"
        return None, repr(target)  # an AF_UNIX path, or none (an already connected socket)
    if event == "socket.getaddrinfo" and len(args) > 1 and args[1]:
        return target, f"{target}:{args[1]}"
    return target, str(target)


def install(report: Callable[[str], None]) -> None:
    """Refuse non-loopback network use from now on in this process (and its forks);
    call ``report(message)`` for each attempt, before raising :class:`NetworkBlocked`."""
    global _installed
    if _installed:
        return
    _installed = True

    watched = frozenset(_WATCHED)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        # Called for every audited operation (torch calls id() ~60,000 times an
        # epoch): one set lookup, measured ~150 ns a call, before anything else.
        if event not in watched:
            return
        host, shown = destination(event, args)
        if is_local(host):
            return
        with contextlib.suppress(Exception):  # a failing report must not let it through
            report(f"attempted connection to {shown} ({event}) refused by the network guard")
        raise NetworkBlocked(shown)

    sys.addaudithook(hook)
