"""Where webhooks may go, against the real resolver, a real LAN host and real
receivers: names that lead to loopback, DNS rebinding, allow-listed LAN hosts,
redirects, and the name a pinned TLS connection still checks.

A receiver on 127.0.0.1 here is a victim: whatever reaches it is the bug.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from appliance.bootstrap import open_services
from appliance.errors import WebhookTargetRefused
from appliance.services import datasets, webhooks
from appliance.services.context import ServiceContext
from appliance.services.webhook_delivery import PinnedAdapter
from appliance.services.webhooks import WebhookDispatcher
from appliance.settings import Settings
from tests.integration.lan import Lan
from tests.integration.webhook_receiver import receiver

pytestmark = pytest.mark.integration

WS = "default"
ACTOR = "user:ann"


def always(*addresses: str) -> Callable[[str, int], list[str]]:
    return lambda host, port: list(addresses)


class Rebinding:
    """A resolver that answers ``first`` once, then ``then`` to every later lookup."""

    def __init__(self, first: str, then: str) -> None:
        self.answers = [first]
        self.then = then
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return [self.answers.pop(0) if self.answers else self.then]


def run(settings: Settings, scenario: Callable[[ServiceContext], Any]) -> Any:
    async def main() -> Any:
        async with open_services(settings) as ctx:
            return await scenario(ctx)

    return asyncio.run(main())


def dispatcher(ctx: ServiceContext, resolve: Callable[[str, int], Sequence[str]]) -> Any:
    return WebhookDispatcher(ctx, interval=0.05, backoff=lambda a: 0.01, resolve=resolve)


# -- the system resolver ----------------------------------------------------------

HOSTS_FILE = """\
127.0.0.1 loop.test
::1 loop6.test
93.184.215.14 mixed.test
127.0.0.1 mixed.test
169.254.169.254 metadata.test
10.77.5.6 lan.test
93.184.215.14 public.test
"""

CHECK = """
import json, sys
from appliance.errors import ApplianceError
from appliance.services.webhook_delivery import allow_list, check_target
out = {}
for url in sys.argv[1:]:
    try:
        out[url] = ["ok", list(check_target(url, allow_list("10.77.0.0/16")))]
    except ApplianceError as e:
        out[url] = [type(e).__name__, e.message]
print(json.dumps(out))
"""


def test_names_are_judged_by_every_address_the_system_resolver_gives(tmp_path: Path):
    """The check runs in a mount namespace whose /etc/hosts says where these names
    lead: getaddrinfo, hosts file and all, is the resolver under test."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux)")
    hosts, conf = tmp_path / "hosts", tmp_path / "host.conf"
    hosts.write_text(HOSTS_FILE)
    conf.write_text("multi on\n")  # every line of a name, not only the first
    names = ["loop.test", "loop6.test", "mixed.test", "metadata.test", "lan.test", "public.test"]
    script = (
        'mount --bind "$0" /etc/hosts && { [ ! -e /etc/host.conf ] '
        '|| mount --bind "$1" /etc/host.conf; } && shift && exec "$@"'
    )
    command = ["unshare", "--mount", "sh", "-c", script, str(hosts), str(conf)]
    command += [sys.executable, "-c", CHECK, *(f"http://{n}:8888/h" for n in names)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2]
    )
    if done.returncode != 0 and "unshare" in done.stderr:
        pytest.skip(f"cannot make a mount namespace: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    got = {urlsplit(url).hostname: v for url, v in json.loads(done.stdout).items()}
    refused = "WebhookTargetRefused"
    assert got == {
        "loop.test": [refused, "webhook host 'loop.test' resolves to a loopback address"],
        "loop6.test": [refused, "webhook host 'loop6.test' resolves to a loopback address"],
        "mixed.test": [refused, "webhook host 'mixed.test' resolves to a loopback address"],
        "metadata.test": [refused, "webhook host 'metadata.test' resolves to a link-local address"],
        "lan.test": ["ok", ["10.77.5.6"]],
        "public.test": ["ok", ["93.184.215.14"]],
    }


# -- rebinding: the connection goes where the check looked --------------------------


@pytest.fixture
def system_says_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any lookup of ``*.test`` that is not the dispatcher's own check answers
    127.0.0.1 (what a rebinding name says the second time). Numbers pass through."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".test"):
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_rebinding_name_gets_no_second_lookup(
    local_settings: Settings, lan: Lan, system_says_loopback: None
):
    """The name answers the LAN host to the first check and loopback afterwards:
    the first delivery goes to the LAN host (not to a second lookup's loopback), the
    second attempt's check sees loopback and refuses. The victim hears nothing."""
    settings = local_settings.with_(webhook_allow_private=lan.address)
    with receiver() as victim:
        port = int(victim.url.rsplit(":", 1)[1])
        with receiver(lan, port=port) as rx:
            url = f"http://rebind.test:{port}/hook"

            async def scenario(ctx: ServiceContext) -> list[dict[str, Any]]:
                hook = await webhooks.create(
                    ctx, WS, ACTOR, url, ["dataset.created"], resolve=always(lan.address)
                )
                resolve = Rebinding(lan.address, "127.0.0.1")
                await datasets.create(ctx, WS, "one", ACTOR)
                await dispatcher(ctx, resolve).deliver_pending()
                await datasets.create(ctx, WS, "two", ACTOR)
                await dispatcher(ctx, resolve).deliver_pending()
                assert resolve.calls == ["rebind.test", "rebind.test"]  # one per attempt
                return await webhooks.deliveries(ctx, WS, hook["id"])

            log = run(settings, scenario)
        assert victim.requests == []
        assert [json.loads(r.body)["data"]["target"] for r in rx.requests] == ["one"]
        assert rx.requests[0].headers["Host"] == f"rebind.test:{port}"
    assert [(d["outcome"], d["attempt"]) for d in reversed(log)] == [
        ("delivered", 1),
        ("refused", 1),  # a policy refusal is not tried again
    ]


def test_a_hook_whose_name_now_leads_to_loopback_is_refused_at_delivery(
    local_settings: Settings, lan: Lan, system_says_loopback: None
):
    settings = local_settings.with_(webhook_allow_private=lan.address)
    with receiver() as victim:
        port = int(victim.url.rsplit(":", 1)[1])

        async def scenario(ctx: ServiceContext) -> list[dict[str, Any]]:
            hook = await webhooks.create(
                ctx, WS, ACTOR, f"http://moved.test:{port}/", ["*"], resolve=always(lan.address)
            )
            await datasets.create(ctx, WS, "one", ACTOR)
            await dispatcher(ctx, always(lan.address, "127.0.0.1")).deliver_pending()
            return await webhooks.deliveries(ctx, WS, hook["id"])

        log = run(settings, scenario)
        assert victim.requests == []
    assert [(d["outcome"], d["status_code"]) for d in log] == [("refused", None)]


# -- allow-listed LAN hosts --------------------------------------------------------


def test_a_lan_host_is_refused_until_an_admin_allow_lists_it_by_name(
    local_settings: Settings, lan: Lan
):
    with receiver(lan) as rx:
        port = int(rx.url.rsplit(":", 1)[1])
        url = f"http://ci.lan:{port}/hook"

        async def refused(ctx: ServiceContext) -> None:
            with pytest.raises(WebhookTargetRefused) as caught:
                await webhooks.create(ctx, WS, ACTOR, url, ["*"], resolve=always(lan.address))
            assert "private (LAN)" in caught.value.message
            assert "AHOY_WEBHOOK_ALLOW_PRIVATE" in caught.value.hint

        run(local_settings, refused)

        async def allowed(ctx: ServiceContext) -> list[dict[str, Any]]:
            hook = await webhooks.create(ctx, WS, ACTOR, url, ["*"], resolve=always(lan.address))
            await datasets.create(ctx, WS, "cats", ACTOR)
            await dispatcher(ctx, always(lan.address)).deliver_pending()
            return await webhooks.deliveries(ctx, WS, hook["id"])

        log = run(local_settings.with_(webhook_allow_private="ci.lan"), allowed)
    assert [d["outcome"] for d in log] == ["delivered"]
    [sent] = rx.requests
    assert sent.headers["Host"] == f"ci.lan:{port}"
    assert json.loads(sent.body)["data"]["target"] == "cats"


def test_a_redirect_is_not_followed(local_settings: Settings, lan: Lan):
    settings = local_settings.with_(webhook_allow_private=lan.address, webhook_max_attempts=2)
    with receiver() as victim, receiver(lan) as rx:
        rx.redirect["/hook"] = victim.url + "/stolen"
        rx.redirect["/hop"] = rx.url + "/landing"

        async def scenario(ctx: ServiceContext) -> list[dict[str, Any]]:
            hook = await webhooks.create(ctx, WS, ACTOR, rx.url + "/hook", ["*"])
            await webhooks.create(ctx, WS, ACTOR, rx.url + "/hop", ["*"])
            await datasets.create(ctx, WS, "cats", ACTOR)
            await dispatcher(ctx, always()).deliver_pending()
            return await webhooks.deliveries(ctx, WS, hook["id"])

        log = run(settings, scenario)
        assert victim.requests == []
        assert rx.on("/landing") == []
        assert len(rx.on("/hook")) == len(rx.on("/hop")) == 2
    assert [(d["outcome"], d["status_code"]) for d in log] == [("http_status", 302)] * 2


# -- TLS through a pinned address ----------------------------------------------------


def _certificates(tmp_path: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for ``name`` it signed: (ca, cert, key) PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)

    def cert(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - day)
            .not_valid_after(now + day)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    files = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    pem = serialization.Encoding.PEM
    files[0].write_bytes(cert("test ca", ca_key, "test ca", ca_key, True).public_bytes(pem))
    files[1].write_bytes(cert(name, key, "test ca", ca_key, False).public_bytes(pem))
    files[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


def test_a_pinned_https_connection_still_checks_the_registered_name(tmp_path: Path, lan: Lan):
    """Connecting to the checked address must not cost the TLS name check: SNI and
    the certificate are matched against the url's host, not the address."""
    ca, cert, key = _certificates(tmp_path, "ci.lan")
    seen: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen.append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = lan.inside(lambda: HTTPServer((lan.address, 0), Handler))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        with requests.Session() as session:
            session.trust_env = False
            session.mount("https://", PinnedAdapter([lan.address]))
            r = session.post(f"https://ci.lan:{port}/h", data=b"{}", verify=str(ca), timeout=5)
            assert r.status_code == 204
            assert seen == ["ci.lan"]
            with pytest.raises(requests.exceptions.SSLError, match=r"ci\.lan|match"):
                session.post(f"https://other.lan:{port}/h", data=b"{}", verify=str(ca), timeout=5)
    finally:
        server.shutdown()
        server.server_close()
