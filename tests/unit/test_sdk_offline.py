"""The SDK's pure parts: profiles, problem parsing, SSE, tar streams, member checks."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from appliance.errors import ImportRejected
from appliance.sdk import ApiError, ApiUnavailable, Client
from appliance.sdk.errors import TransferError
from appliance.sdk.profile import DEFAULT_URL, Profile, ProfileStore, resolve
from appliance.sdk.sse import ServerEvent, iter_events, iter_lines
from appliance.sdk.tarstream import (
    BLOCK,
    BlobSource,
    SizedStream,
    blob_tar,
    check_member,
    member_header,
    tar_length,
)
from appliance.sdk.upload import _lost_blobs, tar_batches

pytestmark = pytest.mark.unit

SHA_A = "a" * 64


# --- profiles ------------------------------------------------------------------


def test_profile_file_is_written_0600_and_never_holds_more_than_asked(tmp_path):
    store = ProfileStore(tmp_path / "cfg")
    store.save(Profile("work", "http://box:8470", "ahoy_pat_1.secret", "1", "ann", "ws1"))
    mode = stat.S_IMODE(os.stat(store.path).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(store.directory).st_mode) & 0o077 == 0
    got = store.get("work")
    assert got is not None and got.token == "ahoy_pat_1.secret" and got.workspace == "ws1"
    assert store.current_name() == "work"
    assert "secret" not in str(got.public())


def test_rewriting_a_profile_file_with_loose_bits_makes_it_0600(tmp_path):
    store = ProfileStore(tmp_path)
    store.path.write_text('{"current": null, "profiles": {}}')
    os.chmod(store.path, 0o644)
    store.save(Profile("p", token="t"))
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert store.delete("p") and store.get("p") is None
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


@pytest.mark.parametrize(
    ("explicit", "env", "expected_url", "expected_token", "expected_ws"),
    [
        ({}, {}, "http://profile:1", "ptok", "pws"),
        ({}, {"AHOY_URL": "http://env:2/", "AHOY_TOKEN": "etok"}, "http://env:2", "etok", "pws"),
        ({}, {"AHOY_WORKSPACE": "ews"}, "http://profile:1", "ptok", "ews"),
        ({"url": "http://arg:3", "token": "atok", "workspace": "aws"},
         {"AHOY_URL": "http://env:2", "AHOY_TOKEN": "etok", "AHOY_WORKSPACE": "ews"},
         "http://arg:3", "atok", "aws"),
    ],
)  # fmt: skip
def test_arguments_beat_environment_beat_profile(
    tmp_path, explicit, env, expected_url, expected_token, expected_ws
):
    store = ProfileStore(tmp_path)
    store.save(Profile("default", "http://profile:1", "ptok", None, "u", "pws"))
    r = resolve(None, environ=env, store=store, **explicit)
    assert (r.url, r.token, r.workspace) == (expected_url, expected_token, expected_ws)


def test_without_any_profile_the_defaults_apply(tmp_path):
    r = resolve(None, environ={"AHOY_CONFIG_DIR": str(tmp_path)})
    assert (r.url, r.token, r.workspace) == (DEFAULT_URL, None, "default")


def test_a_named_profile_and_AHOY_PROFILE_pick_it(tmp_path):
    store = ProfileStore(tmp_path)
    store.save(Profile("a", "http://a:1", "ta"))
    store.save(Profile("b", "http://b:1", "tb"))  # now the current one
    assert resolve(None, environ={}, store=store).url == "http://b:1"
    assert resolve("a", environ={}, store=store).url == "http://a:1"
    assert resolve(None, environ={"AHOY_PROFILE": "a"}, store=store).token == "ta"


def test_from_profile_reads_AHOY_CONFIG_DIR_and_the_repr_hides_the_token(tmp_path, monkeypatch):
    for var in ("AHOY_URL", "AHOY_TOKEN", "AHOY_WORKSPACE", "AHOY_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AHOY_CONFIG_DIR", str(tmp_path))
    ProfileStore(tmp_path).save(Profile("default", "http://x:9/", "sekrit", "7", "u", "w"))
    c = Client.from_profile()
    assert (c.base_url, c.token, c.workspace) == ("http://x:9", "sekrit", "w")
    assert "sekrit" not in repr(c)


# --- problems --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "exit_code"),
    [(400, 2), (401, 7), (403, 7), (404, 4), (409, 5), (413, 8), (422, 2), (500, 1), (503, 1)],
)
def test_status_maps_to_exit_code(status, exit_code):
    assert ApiError.from_problem(status, b"").exit_code == exit_code


def test_a_problem_body_is_parsed_and_kept_whole():
    body = (
        b'{"type": "urn:ahoy:problem:version-held", "title": "VersionHeld", "status": 409,'
        b' "detail": "version 1 is held", "hint": "release it", "holders": ["model:m1"]}'
    )
    exc = ApiError.from_problem(409, body, "Conflict")
    assert (exc.status, exc.code, exc.detail, exc.hint) == (
        409, "version-held", "version 1 is held", "release it"
    )  # fmt: skip
    assert exc.problem["holders"] == ["model:m1"]
    assert exc.message == exc.detail and exc.exit_code == 5


@pytest.mark.parametrize(
    ("status", "body", "code", "detail_has"),
    [
        (404, b"", "not-found", "Not Found"),
        (502, b"<html>bad gateway</html>", "server-error", "bad gateway"),
        (400, b'{"status_code": 400, "detail": "Validation failed"}', "invalid-input",
         "Validation failed"),
        (401, b'{"type": "about:blank", "status": 401}', "unauthenticated", "Unauthorized"),
    ],
)  # fmt: skip
def test_bodies_that_are_not_ahoy_problems_still_read_well(status, body, code, detail_has):
    reason = {404: "Not Found", 502: "Bad Gateway", 400: "Bad Request", 401: "Unauthorized"}
    exc = ApiError.from_problem(status, body, reason[status])
    assert exc.code == code and detail_has in exc.detail


def test_nothing_listening_is_unavailable_with_a_hint():
    with Client("http://127.0.0.1:1") as c, pytest.raises(ApiUnavailable) as info:
        c.me()
    assert info.value.exit_code == 3 and "ahoy serve" in info.value.hint


def test_staging_refused_for_lost_blobs_is_recognised():
    lost = ApiError(422, "blobs-not-uploaded", "x", problem={"missing": ["ab" * 32]})
    bad_name = ApiError(422, "import-rejected", "x", problem={"problems": [{"problem": "bad"}]})
    assert _lost_blobs(lost) and not _lost_blobs(bad_name)
    assert _lost_blobs(ApiError(409, "blob-missing", "x"))


# --- server-sent events ------------------------------------------------------------


def test_sse_events_multi_line_data_comments_and_crlf_across_chunks():
    stream = [
        b": keep-alive\r",
        b'\nevent: progress\r\ndata: {"done": 1,\r\n',
        b'data:  "total": 2}\r\n\r',
        b'\nevent: state\nid: 7\ndata: {"state": "succeeded"}\n\n',
        b"data: unterminated",
    ]
    events = list(iter_events(stream))
    assert events == [
        ServerEvent("progress", '{"done": 1,\n "total": 2}'),
        ServerEvent("state", '{"state": "succeeded"}', "7"),
    ]


def test_sse_lines_split_on_every_line_ending():
    assert list(iter_lines([b"a\rb\nc\r\n", b"\rd"])) == ["a", "b", "c", "", "d"]


def test_an_event_without_data_is_not_dispatched():
    assert list(iter_events([b"event: ping\n\n", b"data: x\n\n"])) == [ServerEvent("message", "x")]


# --- tar upload -------------------------------------------------------------------


def _blob(tmp_path: Path, name: str, data: bytes) -> BlobSource:
    p = tmp_path / name
    p.write_bytes(data)
    return BlobSource(hashlib.sha256(data).hexdigest(), len(data), str(p), name)


def test_blob_tar_names_members_by_digest_and_has_the_announced_length(tmp_path):
    blobs = [_blob(tmp_path, f"f{i}", os.urandom(n)) for i, n in enumerate((0, 1, 512, 70_000))]
    seen: list[int] = []
    data = b"".join(blob_tar(blobs, seen.append))
    assert len(data) == tar_length(blobs) and sum(seen) == sum(b.size for b in blobs)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|") as tar:
        for member, blob in zip(tar, blobs, strict=True):
            assert member.isreg() and member.name == blob.sha256 and member.size == blob.size
            got = tar.extractfile(member)
            assert got is not None
            assert hashlib.sha256(got.read()).hexdigest() == blob.sha256


def test_member_header_is_one_block():
    header = member_header(SHA_A, 10)
    assert len(header) == BLOCK and header.startswith(SHA_A.encode())


def test_a_file_changed_since_hashing_is_refused_not_sent(tmp_path):
    blob = _blob(tmp_path, "x.jpg", b"before")
    Path(blob.path).write_bytes(b"after!")  # same size, other bytes
    stream = SizedStream(blob_tar([blob], lambda n: None), tar_length([blob]))
    with pytest.raises(ImportRejected, match="changed while"):
        b"".join(stream)
    assert isinstance(stream.error, ImportRejected)


def test_tar_batches_cap_content_but_always_take_one():
    blobs = [BlobSource(str(i) * 64, size, "p", "n") for i, size in enumerate((60, 50, 200, 10))]
    assert [[b.size for b in batch] for batch in tar_batches(blobs, cap=100)] == [
        [60], [50], [200], [10]
    ]  # fmt: skip
    assert [len(b) for b in tar_batches(blobs, cap=120)] == [2, 1, 1]


# --- archive members ------------------------------------------------------------------


def _member(name: str, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    return info


@pytest.mark.parametrize(
    ("member", "error"),
    [
        (_member("/etc/passwd"), "absolute"),
        (_member("../escape.jpg"), "'..'"),
        (_member("a/../../b.jpg"), "'..'"),
        (_member("a\\b.jpg"), "backslash"),
        (_member("link.jpg", tarfile.SYMTYPE), "a link"),
        (_member("hard.jpg", tarfile.LNKTYPE), "a link"),
        (_member("dev", tarfile.CHRTYPE), "not a regular file"),
        (_member("other.jpg"), "not in the version's manifest"),
    ],
)
def test_unsafe_or_unexpected_archive_members_are_refused(member, error):
    expected = {"/etc/passwd", "../escape.jpg", "a/../../b.jpg", "a\\b.jpg", "link.jpg", "a.jpg"}
    with pytest.raises(TransferError, match=error):
        check_member(member, expected)


def test_a_listed_regular_member_is_accepted():
    assert check_member(_member("d1/sub/img.jpg"), {"d1/sub/img.jpg"}) == "d1/sub/img.jpg"
