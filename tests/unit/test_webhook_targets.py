"""The webhook address policy, pure: which host strings mean which addresses, and
which addresses a webhook may reach."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from appliance.domain.webhook_targets import (
    AllowList,
    Verdict,
    classify,
    ip_literal,
    judge,
    parse_allow_list,
)
from appliance.domain.webhooks import Outcome, outcome_error
from appliance.errors import ConfigError
from appliance.settings import Settings

pytestmark = pytest.mark.unit

V = Verdict

# fmt: off
#: (host as written in a url, the address it means, verdict without an allow-list)
HOSTS = [
    ("127.0.0.1",                 "127.0.0.1",       V.LOOPBACK),
    ("127.8.9.10",                "127.8.9.10",      V.LOOPBACK),
    ("::1",                       "::1",             V.LOOPBACK),
    ("[::1]",                     "::1",             V.LOOPBACK),
    ("::ffff:127.0.0.1",          "::ffff:7f00:1",   V.LOOPBACK),   # IPv4-mapped
    ("[::ffff:127.0.0.1]",        "::ffff:7f00:1",   V.LOOPBACK),
    ("::ffff:0:127.0.0.1",        "::ffff:0:7f00:1", V.LOOPBACK),   # IPv4-translated
    ("::127.0.0.1",               "::7f00:1",        V.LOOPBACK),   # IPv4-compatible
    ("64:ff9b::127.0.0.1",        "64:ff9b::7f00:1", V.LOOPBACK),   # NAT64
    ("2002:7f00:1::1",            "2002:7f00:1::1",  V.LOOPBACK),   # 6to4
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:0:4136:e378:8000:63bf:80ff:fffe",
                                                     V.LOOPBACK),   # Teredo client 127.0.0.1
    ("2130706433",                "127.0.0.1",       V.LOOPBACK),   # one decimal number
    ("0x7f000001",                "127.0.0.1",       V.LOOPBACK),   # one hex number
    ("0X7F000001",                "127.0.0.1",       V.LOOPBACK),
    ("127.1",                     "127.0.0.1",       V.LOOPBACK),   # a.b: b fills 24 bits
    ("127.0.1",                   "127.0.0.1",       V.LOOPBACK),   # a.b.c: c fills 16 bits
    ("0177.0.0.1",                "127.0.0.1",       V.LOOPBACK),   # octal
    ("0x7f.0.0.1",                "127.0.0.1",       V.LOOPBACK),
    ("017700000001",              "127.0.0.1",       V.LOOPBACK),
    ("0.0.0.0",                   "0.0.0.0",         V.UNSPECIFIED),
    ("0",                         "0.0.0.0",         V.UNSPECIFIED),
    ("0.1.2.3",                   "0.1.2.3",         V.UNSPECIFIED),
    ("::",                        "::",              V.UNSPECIFIED),
    ("[::]",                      "::",              V.UNSPECIFIED),
    ("::ffff:0.0.0.0",            "::ffff:0:0",      V.UNSPECIFIED),
    ("169.254.169.254",           "169.254.169.254", V.LINK_LOCAL),  # cloud metadata
    ("0xa9fea9fe",                "169.254.169.254", V.LINK_LOCAL),
    ("::ffff:169.254.169.254",    "::ffff:a9fe:a9fe", V.LINK_LOCAL),
    ("fe80::1",                   "fe80::1",         V.LINK_LOCAL),
    ("fe80::1%eth0",              "fe80::1",         V.LINK_LOCAL),
    ("[fe80::1%25eth0]",          "fe80::1",         V.LINK_LOCAL),
    ("febf::1",                   "febf::1",         V.LINK_LOCAL),
    ("224.0.0.1",                 "224.0.0.1",       V.MULTICAST),
    ("239.255.255.250",           "239.255.255.250", V.MULTICAST),
    ("ff02::1",                   "ff02::1",         V.MULTICAST),
    ("::ffff:224.0.0.1",          "::ffff:e000:1",   V.MULTICAST),
    ("240.0.0.1",                 "240.0.0.1",       V.RESERVED),
    ("255.255.255.255",           "255.255.255.255", V.RESERVED),
    ("fec0::1",                   "fec0::1",         V.RESERVED),   # deprecated site-local
    ("100::1",                    "100::1",          V.RESERVED),   # discard-only
    ("::8.8.8.8",                 "::808:808",       V.RESERVED),   # compatible, not routed
    ("10.0.0.1",                  "10.0.0.1",        V.PRIVATE),
    ("10.77.0.2",                 "10.77.0.2",       V.PRIVATE),
    ("012.0.0.1",                 "10.0.0.1",        V.PRIVATE),    # octal 012 is 10
    ("172.16.5.4",                "172.16.5.4",      V.PRIVATE),
    ("172.31.255.255",            "172.31.255.255",  V.PRIVATE),
    ("192.168.1.10",              "192.168.1.10",    V.PRIVATE),
    ("100.64.0.1",                "100.64.0.1",      V.PRIVATE),    # CGNAT
    ("100.127.255.254",           "100.127.255.254", V.PRIVATE),
    ("192.0.2.10",                "192.0.2.10",      V.PRIVATE),    # documentation
    ("198.18.0.1",                "198.18.0.1",      V.PRIVATE),    # benchmarking
    ("fd00::1",                   "fd00::1",         V.PRIVATE),    # unique local
    ("fc00::1",                   "fc00::1",         V.PRIVATE),
    ("::ffff:10.0.0.1",           "::ffff:a00:1",    V.PRIVATE),
    ("2001:db8::1",               "2001:db8::1",     V.PRIVATE),
    ("8.8.8.8",                   "8.8.8.8",         V.PUBLIC),
    ("134744072",                 "8.8.8.8",         V.PUBLIC),
    ("172.32.0.1",                "172.32.0.1",      V.PUBLIC),
    ("100.128.0.1",               "100.128.0.1",     V.PUBLIC),
    ("::ffff:8.8.8.8",            "::ffff:808:808",  V.PUBLIC),
    ("64:ff9b::8.8.8.8",          "64:ff9b::808:808", V.PUBLIC),
    ("2606:4700:4700::1111",      "2606:4700:4700::1111", V.PUBLIC),
]
# fmt: on


@pytest.mark.parametrize(("host", "address", "verdict"), HOSTS)
def test_every_spelling_of_an_address_gets_its_verdict(host, address, verdict):
    ip = ip_literal(host)
    assert ip == ipaddress.ip_address(address)
    assert classify(ip) is verdict
    refusal = judge(host, [ip], AllowList())
    assert (refusal is None) == (verdict is V.PUBLIC)
    if refusal is not None:
        assert refusal.verdict is verdict
        assert "AHOY_WEBHOOK_ALLOW_PRIVATE" in refusal.hint()


@pytest.mark.parametrize(
    "host",
    [h for h, _, _ in HOSTS if ":" not in h]
    + ["1.2.3.4.5", "08.1", "256.1.1.1", "1.16777216", "0x", "0x.1", "00"],
)
def test_numbers_are_read_as_the_c_library_reads_them(host):
    """inet_aton is what getaddrinfo uses for a numeric host: the same address, or
    both say it is no number."""
    try:
        expected = ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        expected = None
    assert ip_literal(host) == expected


@pytest.mark.parametrize(
    "host", ["ci.lan", "localhost", "example.com", "127.0.0.1.nip.io", "1.2.3.4.5", "0x", "08.1"]
)
def test_names_are_not_addresses(host):
    """These are resolved (the resolver's answers are judged), not read as numbers."""
    assert ip_literal(host) is None


ALLOW = parse_allow_list("10.77.0.0/16, ci.lan, fd12::/16")


# fmt: off
#: (host, what it resolved to, the verdict that refuses it or None) against ALLOW
JUDGED = [
    ("10.77.1.2",   ["10.77.1.2"],            None),
    ("10.78.1.2",   ["10.78.1.2"],            V.PRIVATE),      # outside the listed network
    ("::ffff:10.77.1.2", ["::ffff:10.77.1.2"], None),          # the same host, mapped
    ("ci.lan",      ["192.168.3.4"],          None),           # listed by name
    ("CI.LAN.",     ["192.168.3.4"],          None),
    ("other.lan",   ["192.168.3.4"],          V.PRIVATE),
    ("fd12::5",     ["fd12::5"],              None),
    ("ci.lan",      ["127.0.0.1"],            V.LOOPBACK),     # a listed name never opens these
    ("ci.lan",      ["169.254.169.254"],      V.LINK_LOCAL),
    ("mixed.test",  ["8.8.8.8", "127.0.0.1"], V.LOOPBACK),     # every answer must pass
    ("mixed.test",  ["8.8.8.8", "10.9.9.9"],  V.PRIVATE),
    ("mixed.test",  ["8.8.8.8", "10.77.9.9"], None),
    ("public.test", ["8.8.8.8", "2606:4700::1"], None),
]
# fmt: on


@pytest.mark.parametrize(("host", "addresses", "refused"), JUDGED)
def test_judge_with_an_allow_list(host, addresses, refused):
    refusal = judge(host, [ipaddress.ip_address(a) for a in addresses], ALLOW)
    assert (refusal.verdict if refusal else None) is refused


def test_nothing_the_allow_list_says_opens_loopback_or_link_local():
    everything = parse_allow_list("0.0.0.0/0, ::/0")
    for host, address, verdict in HOSTS:
        refusal = judge(host, [ipaddress.ip_address(address)], everything)
        assert (refusal is None) == (not verdict.never), host


@pytest.mark.parametrize(
    ("host", "addresses", "message", "hint"),
    [
        ("127.1", ["127.0.0.1"], "webhook host '127.1' is a loopback address", "never allowed"),
        ("ci.lan", ["10.1.2.3"], "'ci.lan' resolves to a private (LAN) address", "may allow"),
    ],
)
def test_refusals_say_what_and_name_the_setting(host, addresses, message, hint):
    refusal = judge(host, [ipaddress.ip_address(a) for a in addresses], AllowList())
    assert refusal is not None
    assert message in refusal.message()
    assert hint in refusal.hint() and "AHOY_WEBHOOK_ALLOW_PRIVATE" in refusal.hint()


# fmt: off
#: (AHOY_WEBHOOK_ALLOW_PRIVATE, what the error says or None)
ENTRIES = [
    ("",                           None),
    ("10.0.5.0/24, ci.lan",        None),
    ("192.168.1.7,,fd00::/8",      None),
    ("0.0.0.0/0",                  None),                 # broad: never-verdicts still win
    ("127.0.0.1",                  "only loopback"),
    ("127.0.0.0/8",                "only loopback"),
    ("::1",                        "only loopback"),
    ("[::ffff:127.0.0.1]",         "only loopback"),
    ("169.254.169.254",            "only link-local"),
    ("fe80::/64",                  "only link-local"),
    ("0.0.0.0",                    "only unspecified"),
    ("224.0.0.0/4",                "only multicast"),
    ("localhost",                  "the appliance itself"),
    ("LOCALHOST.",                 "the appliance itself"),
    ("not a host",                 "neither a network"),
    ("10.0.0.0/33",                "neither a network"),
]
# fmt: on


@pytest.mark.parametrize(("text", "error"), ENTRIES)
def test_allow_list_entries(text, error):
    if error is None:
        parse_allow_list(text)
        Settings(webhook_allow_private=text).validate()
        return
    with pytest.raises(ValueError, match=error):
        parse_allow_list(text)
    with pytest.raises(ConfigError, match="AHOY_WEBHOOK_ALLOW_PRIVATE"):
        Settings(webhook_allow_private=text).validate()


@pytest.mark.parametrize(
    ("outcome", "status", "error", "retried"),
    [
        (Outcome.DELIVERED, 204, None, False),
        (Outcome.REFUSED, None, "the webhook address policy refused the receiver's address", False),
        (Outcome.CONNECTION_FAILED, None, "could not connect to the receiver", True),
        (Outcome.TIMED_OUT, None, "the receiver did not answer in time", True),
        (Outcome.HTTP_STATUS, 503, "the receiver answered HTTP 503", True),
    ],
)
def test_outcomes_have_fixed_wording(outcome, status, error, retried):
    assert outcome_error(outcome, status) == error
    assert outcome_error(str(outcome), status) == error
    assert outcome.retried is retried
