"""Where a webhook may be delivered: the address policy, without any I/O.

A webhook is a request the appliance makes on a workspace admin's behalf, so its
target must not be the appliance itself (loopback: the embedded weed filer, the
API), the host's link (link-local, e.g. a cloud metadata service at
169.254.169.254), or anything that is not one host (unspecified, multicast,
reserved). Those are refused always. Private addresses (RFC 1918, CGNAT
100.64/10, IPv6 ULA fc00::/7, documentation and benchmarking ranges) are
refused unless a box admin allow-lists them (``AHOY_WEBHOOK_ALLOW_PRIVATE``):
LAN receivers are the common on-prem case, other tenants' LAN services are not.

An IPv6 address that carries an IPv4 one (mapped ``::ffff:a.b.c.d``, translated,
NAT64, 6to4, compatible, Teredo) is judged by the IPv4 address it carries, so
``[::ffff:127.0.0.1]`` is loopback. Host strings are read the way the C
resolver reads them: ``2130706433``, ``0x7f000001``, ``127.1`` and
``0177.0.0.1`` are all 127.0.0.1.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The setting (as an environment variable) that admits private receivers.
ALLOW_SETTING = "AHOY_WEBHOOK_ALLOW_PRIVATE"


class Verdict(enum.Enum):
    """What kind of address a webhook would reach. ``label`` is for messages."""

    PUBLIC = "public"
    PRIVATE = "private (LAN)"
    LOOPBACK = "loopback"
    LINK_LOCAL = "link-local"
    UNSPECIFIED = "unspecified"
    MULTICAST = "multicast"
    RESERVED = "reserved"

    @property
    def label(self) -> str:
        return self.value

    @property
    def never(self) -> bool:
        """Refused even when an admin allow-lists it."""
        return self not in (Verdict.PUBLIC, Verdict.PRIVATE)


def _nets(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Explicit tables rather than ipaddress's is_private/is_global, whose ranges
# changed between Python releases: the verdicts must not.
_V4: tuple[tuple[Verdict, tuple[IPNetwork, ...]], ...] = (
    (Verdict.UNSPECIFIED, _nets("0.0.0.0/8")),  # "this host": 0.0.0.0 reaches the box
    (Verdict.LOOPBACK, _nets("127.0.0.0/8")),
    (Verdict.LINK_LOCAL, _nets("169.254.0.0/16")),
    (Verdict.MULTICAST, _nets("224.0.0.0/4")),
    (Verdict.RESERVED, _nets("240.0.0.0/4")),  # class E and the broadcast address
    (
        Verdict.PRIVATE,
        _nets(
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",  # carrier-grade NAT
            "192.0.0.0/24",  # IETF protocol assignments
            "192.0.2.0/24",  # documentation (TEST-NET-1..3)
            "198.51.100.0/24",
            "203.0.113.0/24",
            "198.18.0.0/15",  # benchmarking
        ),
    ),
)
_V6: tuple[tuple[Verdict, tuple[IPNetwork, ...]], ...] = (
    (Verdict.LINK_LOCAL, _nets("fe80::/10")),
    (Verdict.MULTICAST, _nets("ff00::/8")),
    (
        Verdict.PRIVATE,
        _nets(
            "fc00::/7",  # unique local
            "2001::/23",  # IETF protocol assignments (Teredo's client is checked first)
            "2001:db8::/32",  # documentation
            "3fff::/20",
            "64:ff9b:1::/48",  # local-use NAT64
        ),
    ),
    (Verdict.PUBLIC, _nets("2000::/3")),  # global unicast; everything else is reserved
)
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, translated, NAT64,
    compatible, 6to4, Teredo client), or None."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _MAPPED or ip in _TRANSLATED or ip in _NAT64:
        return low32
    if ip in _COMPATIBLE and int(ip) > 1:  # not :: or ::1
        return low32
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _classify_v4(ip: ipaddress.IPv4Address) -> Verdict:
    for verdict, networks in _V4:
        if any(ip in n for n in networks):
            return verdict
    return Verdict.PUBLIC


def classify(ip: IPAddress) -> Verdict:
    """The verdict on one address (an IPv6 one carrying IPv4 is judged by that)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _classify_v4(ip)
    ip = ipaddress.IPv6Address(int(ip))  # without a %zone
    if int(ip) == 0:
        return Verdict.UNSPECIFIED
    if int(ip) == 1:
        return Verdict.LOOPBACK
    inner = embedded_ipv4(ip)
    if inner is not None:
        verdict = _classify_v4(inner)
        if verdict is not Verdict.PUBLIC or ip in _MAPPED or ip in _TRANSLATED or ip in _NAT64:
            return verdict
        if ip in _COMPATIBLE:  # deprecated form: not routed as the IPv4 address
            return Verdict.RESERVED
    for verdict, networks in _V6:
        if any(ip in n for n in networks):
            return verdict
    return Verdict.RESERVED


# -- host strings ----------------------------------------------------------------

_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")
_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``inet_aton``'s reading: 1-4 parts, each decimal, octal (0...) or hex (0x...);
    the last part fills the bytes left (so ``127.1`` is 127.0.0.1)."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.fullmatch(p) for p in parts):
        return None
    values = []
    for p in parts:
        if p[:2] in ("0x", "0X"):
            values.append(int(p[2:], 16))
        elif p.startswith("0"):
            values.append(int(p, 8))
        else:
            values.append(int(p))
    *head, last = values
    if any(v > 255 for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    number = last
    for i, v in enumerate(head):
        number |= v << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` spells, in any form the resolver accepts, or None
    when it is a name. ``[...]`` and an IPv6 ``%zone`` are allowed."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.partition("%")[0])
        except ValueError:
            return None
    return _legacy_ipv4(host)


def is_host_name(host: str) -> bool:
    """Whether ``host`` is a plain DNS name (ASCII labels; an IDN in its xn-- form)."""
    name = host[:-1] if host.endswith(".") else host
    return 0 < len(name) <= 253 and all(_NAME.fullmatch(label) for label in name.split("."))


def _host_key(host: str) -> str:
    return host.strip().rstrip(".").lower()


# -- the allow-list --------------------------------------------------------------


@dataclass(frozen=True)
class AllowList:
    """Private networks and host names an admin lets webhooks reach."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    def admits(self, host: str, ip: IPAddress) -> bool:
        if _host_key(host) in self.hosts:
            return True
        candidates = [ip]
        inner = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
        if inner is not None:
            candidates.append(inner)
        return any(c.version == n.version and c in n for c in candidates for n in self.networks)


_NEVER_NETWORKS = [
    (verdict, network)
    for verdict, networks in (*_V4, *_V6)
    if verdict.never
    for network in networks
]


def _never_within(network: IPNetwork) -> Verdict | None:
    """The never-allowed verdict of every address in ``network``, if it holds no other."""
    if network.num_addresses == 1:
        verdict = classify(network[0])
        return verdict if verdict.never else None
    for verdict, never in _NEVER_NETWORKS:
        if network.version == never.version and network.subnet_of(never):  # type: ignore[arg-type]
            return verdict
    return None


def parse_allow_list(text: str) -> AllowList:
    """``10.0.5.0/24, 192.168.1.7, ci.lan`` → an AllowList. Raises ValueError naming
    the entry that is neither a network nor a host name, or that names only
    addresses no allow-list may open (loopback, link-local, ...)."""
    networks: list[IPNetwork] = []
    hosts: set[str] = set()
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry.strip("[]"), strict=False)
        except ValueError:
            network = None
        if network is not None:
            never = _never_within(network)
            if never is not None:
                raise ValueError(
                    f"{entry!r} holds only {never.label} addresses, which webhooks may never reach"
                )
            networks.append(network)
        elif is_host_name(entry) and ip_literal(entry) is None:
            if _host_key(entry) == "localhost" or _host_key(entry).endswith(".localhost"):
                raise ValueError(
                    f"{entry!r} is the appliance itself, which webhooks may never reach"
                )
            hosts.add(_host_key(entry))
        else:
            raise ValueError(f"{entry!r} is neither a network (10.0.5.0/24) nor a host name")
    return AllowList(tuple(networks), frozenset(hosts))


# -- the decision ------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why a target is refused: the first address that failed and its verdict."""

    host: str
    address: IPAddress
    verdict: Verdict

    @property
    def allowable(self) -> bool:
        """An admin could admit it through the allow-list (a private address)."""
        return not self.verdict.never

    def message(self) -> str:
        label = self.verdict.label
        what = f"{'an' if label[0] in 'aeiou' else 'a'} {label} address"
        if ip_literal(self.host) is not None:
            return f"webhook host {self.host!r} is {what}"
        return f"webhook host {self.host!r} resolves to {what}"

    def hint(self) -> str:
        if self.allowable:
            return (
                f"a box admin may allow LAN receivers with {ALLOW_SETTING} "
                "(webhook_allow_private), e.g. 10.0.5.0/24 or ci.lan"
            )
        return (
            f"{self.verdict.label} addresses are never allowed, not even through "
            f"{ALLOW_SETTING} (which admits LAN receivers); "
            "use the receiver's LAN or public address"
        )


def judge(host: str, addresses: Sequence[IPAddress], allow: AllowList) -> Refusal | None:
    """None when every address ``host`` resolved to may be reached; else the first
    refusal. Every address must pass: a name answering one public and one
    loopback address is refused (the connection could go to either)."""
    for ip in addresses:
        verdict = classify(ip)
        if verdict is Verdict.PUBLIC:
            continue
        if verdict is Verdict.PRIVATE and allow.admits(host, ip):
            continue
        return Refusal(host, ip, verdict)
    return None


def addresses_of(texts: Iterable[str]) -> list[IPAddress]:
    """Resolver answers (strings, maybe with an IPv6 %zone) as addresses, in order, once each."""
    seen: dict[IPAddress, None] = {}
    for text in texts:
        seen.setdefault(ipaddress.ip_address(text.partition("%")[0]))
    return list(seen)
