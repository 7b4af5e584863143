"""One webhook delivery: check where the url leads, then POST to exactly there.

The host is resolved once per attempt and every address it resolves to must
pass the address policy (``appliance.domain.webhook_targets``); the connection
then goes to those checked addresses and nowhere else, so a name that answers a
LAN address to the check and 127.0.0.1 to a second lookup (DNS rebinding) gets
no second lookup. The Host header, TLS SNI and the certificate's name check still
use the registered host name. Redirects are not followed, and proxy variables
and .netrc are ignored.

What an attempt leaves in the delivery log is its outcome class and the HTTP
status, never an exception text: those name internal hosts and ports, and the
log is read by the workspace's admins, which would make it a port scanner.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection

from appliance.domain import webhook_targets as targets
from appliance.domain.webhooks import Outcome
from appliance.errors import InvalidInput, WebhookHostUnresolvable, WebhookTargetRefused

log = logging.getLogger("ahoy.webhooks")

#: ``(host, port) -> addresses`` as strings; socket.getaddrinfo unless a test injects one.
Resolver = Callable[[str, int], Sequence[str]]

USER_AGENT = "ahoy-webhooks/1"


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives ``host`` (hosts file, DNS, ...)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def allow_list(text: str) -> targets.AllowList:
    """The parsed ``webhook_allow_private`` setting (``Settings.validate`` checked it)."""
    return targets.parse_allow_list(text)


def check_url(url: str) -> tuple[str, int]:
    """``(host, port)`` of an http(s) url, or InvalidInput saying what is wrong."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        parts, host, port = None, None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise InvalidInput(
            f"webhook url {url!r} is not an http(s) address",
            hint="e.g. https://ci.example.lan/hooks/ahoy",
        )
    if targets.ip_literal(host) is None and not targets.is_host_name(host):
        raise InvalidInput(
            f"webhook host {host!r} is neither an address nor a host name",
            hint="use letters, digits, '-' and '.' (an international name in its xn-- form)",
        )
    return host, port or (443 if parts.scheme == "https" else 80)


def check_target(
    url: str, allow: targets.AllowList, resolve: Resolver = system_resolve
) -> tuple[str, ...]:
    """The addresses ``url`` may be delivered to: every one its host resolves to,
    each passing the policy. Raises WebhookTargetRefused (naming the setting that
    admits LAN receivers) or WebhookHostUnresolvable."""
    host, port = check_url(url)
    literal = targets.ip_literal(host)
    if literal is not None:
        # Connect to what the string means, the way the C resolver reads it.
        addresses = [literal]
    else:
        try:
            addresses = targets.addresses_of(resolve(host, port))
        except (OSError, UnicodeError, ValueError):
            addresses = []
        if not addresses:
            raise WebhookHostUnresolvable(host)
    refusal = targets.judge(host, addresses, allow)
    if refusal is not None:
        raise WebhookTargetRefused(
            host, refusal.verdict.label, refusal.message(), hint=refusal.hint()
        )
    return tuple(str(a) for a in addresses)


# -- a connection that goes only to the checked addresses ---------------------------


class _Pinned:
    """Mixed into urllib3's connections: dial the checked addresses, in order,
    instead of resolving ``self.host`` again. Everything else (Host header, SNI,
    certificate name check) still uses ``self.host``."""

    addresses: tuple[str, ...] = ()
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        conn = cast(HTTPConnection, self)
        error: Exception = NewConnectionError(conn, "no checked address to connect to")
        for address in self.addresses:
            try:
                return connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError:
                error = ConnectTimeoutError(conn, f"connection to {self.host} timed out")
            except OSError:
                error = NewConnectionError(conn, f"could not connect to {self.host}")
        raise error


class PinnedAdapter(HTTPAdapter):
    """A requests transport adapter whose connections go only to ``addresses``."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self.addresses = tuple(addresses)
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        pinned = {"addresses": self.addresses}
        http = type("PinnedHTTPConnection", (_Pinned, HTTPConnection), pinned)
        https = type("PinnedHTTPSConnection", (_Pinned, HTTPSConnection), pinned)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("PinnedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }


# -- one attempt ----------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    status_code: int | None
    duration_ms: float


def post(
    url: str,
    addresses: Sequence[str],
    headers: dict[str, str],
    body: bytes,
    timeout: float,
) -> tuple[Outcome, int | None]:
    """POST ``body`` to ``url`` through the checked ``addresses`` only (blocking)."""
    try:
        with requests.Session() as session:
            session.trust_env = False  # no proxy variables, no .netrc
            adapter = PinnedAdapter(addresses)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            answer = session.post(
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
            answer.close()
    except requests.Timeout as exc:
        log.warning("webhook POST timed out (%s)", type(exc).__name__)
        return Outcome.TIMED_OUT, None
    except requests.RequestException as exc:
        log.warning("webhook POST failed (%s)", type(exc).__name__)
        return Outcome.CONNECTION_FAILED, None
    status = answer.status_code
    return (Outcome.DELIVERED if 200 <= status < 300 else Outcome.HTTP_STATUS), status


def attempt(
    url: str,
    allow: targets.AllowList,
    headers: dict[str, str],
    body: bytes,
    timeout: float,
    resolve: Resolver = system_resolve,
) -> Attempt:
    """Check the target, then POST to it: one delivery attempt (blocking)."""
    started = time.monotonic()
    status: int | None = None
    try:
        addresses = check_target(url, allow, resolve)
    except WebhookTargetRefused as refused:
        log.warning("webhook to %r refused: %s", refused.host, refused.verdict)
        outcome = Outcome.REFUSED
    except InvalidInput:  # the name does not resolve (now)
        outcome = Outcome.CONNECTION_FAILED
    else:
        outcome, status = post(url, addresses, {"User-Agent": USER_AGENT, **headers}, body, timeout)
    return Attempt(outcome, status, round((time.monotonic() - started) * 1000, 1))
