"""The upload tar reader: what it accepts, and each way a body can be wrong."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from appliance.errors import HashMismatch, InvalidInput, PayloadTooLarge, QuotaExceeded
from appliance.services.uploads import Budget, _TarIntake

pytestmark = pytest.mark.unit


def _tar(members: list[tuple[str, bytes]], *, kind: bytes = tarfile.REGTYPE, fmt=None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt or tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.type = len(data), kind
            if kind == tarfile.SYMTYPE:
                info.size, info.linkname = 0, "/etc/passwd"
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return buf.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(body: bytes, remaining: int | None = None) -> list[str]:
    intake = _TarIntake(io.BytesIO(body), Budget("ws", 1 << 30, remaining))
    return [b.sha256 for b in intake.blobs()]


def test_members_come_out_in_order_with_their_digests():
    blobs = [b"a" * 700, b"", b"c" * 512]
    assert _read(_tar([(_sha(b), b) for b in blobs])) == [_sha(b) for b in blobs]


def test_a_pax_format_stream_with_plain_members_reads_too():
    blob = b"pax" * 100
    assert _read(_tar([(_sha(blob), blob)], fmt=tarfile.PAX_FORMAT)) == [_sha(blob)]


@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        (lambda: _tar([(_sha(b"x"), b"y")]), HashMismatch, "hash to"),
        (lambda: _tar([("not-a-digest", b"y")]), InvalidInput, "named by its sha256"),
        (lambda: _tar([(_sha(b""), b"")], kind=tarfile.SYMTYPE), InvalidInput, "regular file"),
        (
            lambda: _tar([(_sha(b"z" * 900), b"z" * 900)])[:1000],
            InvalidInput,
            "ended in the middle",
        ),
        (lambda: b"\x01" * 512, InvalidInput, "not a readable tar"),
        (lambda: b"", InvalidInput, "ended in the middle"),
    ],
)
def test_bad_bodies_are_refused_with_the_reason(body, error, words):
    with pytest.raises(error) as info:
        _read(body())
    assert words in str(info.value)


def test_the_quota_is_counted_on_content_as_it_arrives():
    blobs = [b"q" * 600, b"r" * 600]
    body = _tar([(_sha(b), b) for b in blobs])
    assert len(_read(body, remaining=1200)) == 2
    with pytest.raises(QuotaExceeded) as info:
        _read(body, remaining=1000)
    assert info.value.remaining == 1000


def test_the_request_limit_counts_bytes_on_the_wire():
    budget = Budget("ws", 100, None)
    budget.on_wire(100)
    with pytest.raises(PayloadTooLarge):
        budget.on_wire(1)
