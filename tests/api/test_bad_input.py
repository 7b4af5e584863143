"""Bad input over HTTP: each refusal has its status and problem type (the columns),
comes as application/problem+json, and leaves nothing behind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import (
    MAX_REQUEST_BYTES,
    QUOTA_BYTES,
    QUOTA_WS,
    World,
    sha,
    tar_of,
)
from tests.api.problems import JSON, RAW, TAR, ZEROS, A, assert_problem, fresh, missing

pytestmark = pytest.mark.api


@pytest.fixture(scope="module")
def intake(world: World) -> Iterator[dict[str, Any]]:
    """A dataset in ws-a and one uploaded blob to stage under bad names."""
    alice = world.alice
    alice.ok("POST", A + "/datasets", 201, json={"name": "intake"})
    data = b"a perfectly good image" * 40
    alice.ok("PUT", f"{A}/blobs/{sha(data)}", data=data, headers=RAW)
    yield {"sha256": sha(data), "size": len(data)}


# -- malformed requests ---------------------------------------------------------------


def row(name: str, status: int, code: str, method: str, path: str, **request: Any) -> Any:
    return pytest.param(method, path, request, status, code, id=name)


BAD, MEDIA, TEXT = "invalid-input", "unsupported-media-type", {"Content-Type": "text/plain"}
DATASETS = A + "/datasets"

# fmt: off
BODY_CASES = [
    #   id                        status  problem  request
    row("malformed-json",            400, BAD,     "POST", DATASETS, data=b'{"name": ',
        headers=JSON),
    row("json-not-an-object",        400, BAD,     "POST", DATASETS, json=["name"]),
    row("unknown-field",             400, BAD,     "POST", DATASETS, json={"name": "u", "x": 1}),
    row("wrong-type",                400, BAD,     "POST", DATASETS, json={"name": 5}),
    row("missing-field",             400, BAD,     "POST", DATASETS, json={"description": "?"}),
    row("empty-name",                400, BAD,     "POST", DATASETS, json={"name": ""}),
    row("text-plain-to-json",        415, MEDIA,   "POST", DATASETS, data=b'{"name": "t"}',
        headers=TEXT),
    row("no-content-type-to-json",   415, MEDIA,   "POST", A + "/blobs/missing",
        data=b'{"sha256": []}'),
    row("form-to-json",              415, MEDIA,   "POST", A + "/gc", data={"dry_run": "true"}),
    row("json-to-tar",               415, MEDIA,   "POST", A + "/blobs", json={"sha256": []}),
    row("text-to-raw-blob",          415, MEDIA,   "PUT", f"{A}/blobs/{ZEROS}", data=b"abc",
        headers=TEXT),
    row("not-a-tar",                 422, BAD,     "POST", A + "/blobs", data=b"x" * 2048,
        headers=TAR),
    row("tar-member-not-a-sha",      422, BAD,     "POST", A + "/blobs",
        data=tar_of({"cat.jpg": b"meow"}), headers=TAR),
    row("blob-name-not-a-sha",       422, BAD,     "PUT", A + "/blobs/cat.jpg", data=b"meow",
        headers=RAW),
    row("digest-not-a-sha",          400, BAD,     "POST", A + "/blobs/missing",
        json={"sha256": ["ABC"]}),
    row("limit-zero",                400, BAD,     "GET", DATASETS + "?limit=0"),
    row("limit-too-big",             400, BAD,     "GET", A + "/jobs?limit=100000"),
    row("limit-not-a-number",        400, BAD,     "GET", DATASETS + "?limit=many"),
    row("cursor-garbage",            422, BAD,     "GET", DATASETS + "?cursor=%%%%"),
    row("unknown-role",              422, BAD,     "PUT", A + "/members/vic",
        json={"role": "king"}),
    row("unknown-user",              404, "not-found", "PUT", A + "/members/nobody",
        json={"role": "viewer"}),
    row("unknown-dataset",           404, "not-found", "GET", DATASETS + "/nope"),
    row("webhook-not-http",          400, BAD,     "POST", A + "/webhooks",
        json={"url": "ftp://x.example/h"}),
    row("token-forever",             400, BAD,     "POST", "/v1/tokens",
        json={"name": "t", "expires_in_days": 99999}),
    row("method-not-allowed",        405, "method-not-allowed", "PATCH", DATASETS, json={}),
]
# fmt: on


@pytest.mark.parametrize(("method", "path", "request_kwargs", "status", "code"), BODY_CASES)
def test_malformed_requests_are_refused(
    world: World, method: str, path: str, request_kwargs: dict[str, Any], status: int, code: str
):
    body = assert_problem(world.alice.call(method, path, **request_kwargs), status, code)
    if status in (405, 415, 422) or (status == 400 and "errors" not in body):
        assert body.get("hint"), body


def test_validation_errors_name_only_what_is_wrong(world: World):
    r = world.alice.post(A + "/datasets", json={"name": "v1", "colour": "red"})
    body = assert_problem(r, 400, "invalid-input")
    assert body["errors"] == [
        {"message": "Object contains unknown field `colour`", "key": "data", "source": "body"}
    ]


def test_an_idempotency_key_reused_for_another_body_is_refused(world: World):
    headers = {"Idempotency-Key": f"key-{time.time()}"}
    first = world.alice.post(A + "/datasets", json={"name": "idem-1"}, headers=headers)
    assert first.status_code == 201
    again = world.alice.post(A + "/datasets", json={"name": "idem-1"}, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotency-Replayed"] == "true"
    other = world.alice.post(A + "/datasets", json={"name": "idem-2"}, headers=headers)
    assert assert_problem(other, 422, "invalid-input")["hint"]


# -- sizes and quota ------------------------------------------------------------------


def test_a_declared_length_over_the_limit_is_refused_before_reading(world: World):
    data = fresh(MAX_REQUEST_BYTES + 1)
    r = world.alice.put(f"{A}/blobs/{sha(data)}", data=data, headers=RAW)
    body = assert_problem(r, 413, "payload-too-large")
    assert body["hint"]
    assert missing(world.alice, "ws-a", [sha(data)]) == [sha(data)]


def test_a_streamed_upload_over_the_limit_is_cut_off(world: World):
    """No Content-Length (chunked): the limit is counted on the wire."""
    data = fresh(MAX_REQUEST_BYTES + 100_000)
    tar = tar_of({sha(data): data})
    chunks = (tar[i : i + 1 << 16] for i in range(0, len(tar), 1 << 16))
    r = world.alice.post(A + "/blobs", data=chunks, headers=TAR)
    assert_problem(r, 413, "payload-too-large")
    assert missing(world.alice, "ws-a", [sha(data)]) == [sha(data)]


def test_a_json_body_over_the_limit_is_refused(world: World):
    digests = [ZEROS] * (MAX_REQUEST_BYTES // 60)
    r = world.alice.post(A + "/blobs/missing", json={"sha256": digests})
    assert_problem(r, 413, "payload-too-large")


@pytest.mark.parametrize("how", ["tar", "one"])
def test_over_quota_is_refused_with_what_remains(world: World, how: str):
    data = fresh(QUOTA_BYTES + 1)
    base = f"/v1/workspaces/{QUOTA_WS}/blobs"
    if how == "tar":
        r = world.alice.post(base, data=tar_of({sha(data): data}), headers=TAR)
    else:
        r = world.alice.put(f"{base}/{sha(data)}", data=data, headers=RAW)
    body = assert_problem(r, 413, "quota-exceeded")
    used = world.alice.ok("GET", f"/v1/workspaces/{QUOTA_WS}")["used_bytes"]
    assert body["remaining"] == QUOTA_BYTES - used
    assert body["needed"] > body["remaining"]
    assert "nothing was stored" in body["hint"]
    assert missing(world.alice, QUOTA_WS, [sha(data)]) == [sha(data)]


def test_uploads_never_staged_still_count_against_the_quota(world: World):
    """Otherwise a client could store without limit by never staging what it sends."""
    ws = "ws-q-unstaged"
    world.admin.ok("POST", "/v1/workspaces", 201, json={"id": ws})
    world.admin.ok("PUT", f"/v1/workspaces/{ws}/quota", json={"quota_bytes": 6000})
    first, second = fresh(4000), fresh(4000)
    base = f"/v1/workspaces/{ws}/blobs"
    world.admin.ok("POST", base, data=tar_of({sha(first): first}), headers=TAR)
    r = world.admin.post(base, data=tar_of({sha(second): second}), headers=TAR)
    body = assert_problem(r, 413, "quota-exceeded")
    assert body["remaining"] == 2000
    assert missing(world.admin, ws, [sha(second)]) == [sha(second)]


# -- hashes ---------------------------------------------------------------------------


def test_a_tar_batch_with_one_wrong_hash_stores_nothing(world: World):
    good, bad, after = fresh(), fresh(), fresh()
    members = {sha(good): good, sha(bad): b"not what was announced", sha(after): after}
    r = world.alice.post(A + "/blobs", data=tar_of(members), headers=TAR)
    body = assert_problem(r, 422, "hash-mismatch")
    assert sha(bad) in body["detail"] and "nothing was stored" in body["hint"]
    # The good member before the bad one was taken back too.
    assert missing(world.alice, "ws-a", list(members)) == sorted(members)


def test_a_single_blob_with_the_wrong_hash_is_not_stored(world: World):
    announced = sha(fresh())
    r = world.alice.put(f"{A}/blobs/{announced}", data=fresh(), headers=RAW)
    assert_problem(r, 422, "hash-mismatch")
    assert missing(world.alice, "ws-a", [announced]) == [announced]


# -- names ----------------------------------------------------------------------------

BAD_NAMES = ["../x", "/etc/passwd", "a\\b", "a/../../b", "./a", "a//b", "", "con/"]


@pytest.mark.parametrize("name", [n for n in BAD_NAMES if n], ids=lambda n: repr(n))
def test_a_bad_name_is_refused_with_its_problem(world: World, intake: dict[str, Any], name: str):
    files = [{"name": name, **intake}]
    r = world.alice.post(A + "/datasets/intake/working/files", json={"files": files})
    body = assert_problem(r, 422, "import-rejected")
    assert [p["path"] for p in body["problems"]] == [name]
    assert body["problems"][0]["problem"]


def test_every_bad_name_is_listed_and_none_is_staged(world: World, intake: dict[str, Any]):
    names = ["ok/fine.jpg", "../x", "/etc/passwd", "a\\b", "a/../../b"]
    files = [{"name": n, **intake} for n in names]
    r = world.alice.post(A + "/datasets/intake/working/files", json={"files": files})
    body = assert_problem(r, 422, "import-rejected")
    assert [p["path"] for p in body["problems"]] == names[1:]
    staged = world.alice.ok("GET", A + "/datasets/intake/working/files")["items"]
    assert staged == []


def test_an_empty_name_is_refused_by_the_schema(world: World, intake: dict[str, Any]):
    r = world.alice.post(
        A + "/datasets/intake/working/files", json={"files": [{"name": "", **intake}]}
    )
    assert_problem(r, 400, "invalid-input")


# -- regressions the fuzzer found -------------------------------------------------------

BIG = 2**63
FUZZED_REFS = ["²", "v²", "٣", "9" * 40, "v" + "9" * 19]


@pytest.fixture(scope="module")
def numbered(world: World) -> str:
    """A dataset in ws-a with one (empty) version."""
    world.alice.ok("POST", A + "/datasets", 201, json={"name": "numbered"})
    world.alice.ok("POST", A + "/datasets/numbered/versions", 201, json={"allow_empty": True})
    return A + "/datasets/numbered"


@pytest.mark.parametrize("ref", FUZZED_REFS)
def test_a_ref_that_only_looks_like_a_number_is_404(world: World, numbered: str, ref: str):
    """``'²'.isdigit()`` is true but ``int('²')`` fails, and a number past 64 bits
    cannot be bound: both were 500s."""
    ds = numbered
    for path, params in [
        (f"{ds}/versions/{ref}", None),
        (f"{ds}/versions/{ref}/manifest", None),
        (f"{ds}/log", {"ref": ref}),
        (f"{ds}/diff", {"from": ref}),
    ]:
        assert_problem(world.alice.get(path, params=params), 404, "not-found")


def test_a_number_past_64_bits_is_refused_not_a_500(world: World, intake: dict[str, Any]):
    r = world.admin.put(A + "/quota", json={"quota_bytes": BIG})
    assert_problem(r, 400, "invalid-input")
    files = [{"name": "huge.jpg", "sha256": intake["sha256"], "size": BIG}]
    r = world.alice.post(A + "/datasets/intake/working/files", json={"files": files})
    assert_problem(r, 400, "invalid-input")
    r = world.alice.post(A + "/gc", json={"grace_seconds": BIG, "dry_run": True})
    assert_problem(r, 400, "invalid-input")


@pytest.mark.parametrize("cursor", [str(BIG), "-1", "true", '"x"'])
def test_an_audit_cursor_that_is_no_entry_id_is_422(world: World, cursor: str):
    import json

    from appliance.web.pagination import encode_cursor

    token = encode_cursor(json.loads(cursor))
    r = world.alice.get(A + "/audit", params={"cursor": token})
    assert_problem(r, 422, "invalid-input")


@pytest.mark.parametrize("url", ["http://[nope", "http://host:port/x"])
def test_a_webhook_url_that_does_not_parse_is_invalid_input(world: World, url: str):
    r = world.alice.post(A + "/webhooks", json={"url": url, "events": ["*"]})
    assert_problem(r, 422, "invalid-input")


def test_hanging_up_on_an_event_stream_leaves_the_appliance_well(world: World):
    """A client that hung up mid-request used to leave a catalog connection inside a
    transaction; every later request that drew it was a 500."""
    job = world.alice.ok("POST", A + "/verify", 202, json={})
    for _ in range(12):
        world.alice.get(f"{A}/jobs/{job['id']}/events", stream=True).close()
    answers = {world.alice.get("/v1/me").status_code for _ in range(24)}
    assert answers == {200}
