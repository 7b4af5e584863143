"""Schemathesis against the live document: generated requests, valid and not, to every
operation, as the owner of a workspace. No answer may be a 5xx, every answer must be
one the document declares, in the shape it declares, and a request the document
calls valid is never refused as malformed (400 ``invalid-input`` or 415): the
document promises no more than the server accepts.

The document only exists once the session's `ahoy serve` runs, so the operations
are walked here with schemathesis' strategies and Hypothesis, not with
``schemathesis.pytest.from_fixture``: that loader reads ``Item._nodeid``, which
pytest 9 no longer has. The budget is small per operation so the tier stays fast;
raise ``API_FUZZ_EXAMPLES`` for a longer hunt, set ``API_FUZZ_RANDOM=1`` to explore
beyond the fixed seed.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import World

pytestmark = pytest.mark.api

# The tar upload's body is bytes like any other (mostly not a tar: 422 is its answer).
schemathesis.serializer.alias(["application/x-tar", "application/tar"], "application/octet-stream")

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
RANDOM = os.environ.get("API_FUZZ_RANDOM") == "1"
WS, DS = "ws-fuzz", "fuzzed"
#: Problem types that say "the request itself is malformed" (litestar's own
#: validation, bad JSON, a wrong content type), as opposed to refusals of what a
#: well-formed request asks (422, 409, 404, or a 400 such as ``invalid-labels``).
MALFORMED = {"urn:ahoy:problem:invalid-input", "urn:ahoy:problem:unsupported-media-type"}


def valid_requests_are_not_refused_as_malformed(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """The request-acceptance check, narrowed to schema reasons: a request generated
    as valid (positive mode) must not come back 400/415 as malformed."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code not in (400, 415):
        return
    try:
        problem = response.json()
    except ValueError:
        return  # not a problem document at all: status_code_conformance speaks to that
    if isinstance(problem, dict) and problem.get("type") in MALFORMED:
        raise AssertionError(
            f"a request valid by the document was refused as malformed "
            f"({response.status_code}): {problem.get('detail')} {problem.get('errors', '')}"
        )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    valid_requests_are_not_refused_as_malformed,
]
#: Logging out revokes the token every later call is made with. Nothing else is
#: left out: what the fuzzer deletes, ``_ground`` puts back before the next operation.
SKIP = {("DELETE", "/v1/sessions/current")}
#: Box-admin operations: the fuzzer only ever gets 403 there, so they are fuzzed a
#: second time with the admin's token.
ADMIN_OPS = {
    ("GET", "/v1/users"),
    ("POST", "/v1/users"),
    ("POST", "/v1/workspaces"),
    ("PUT", "/v1/workspaces/{ws}/quota"),
    ("GET", "/v1/audit/verify"),
}


def _ground(world: World) -> None:
    """The fuzzer's dataset exists and has a committed version."""
    fuzzer, base = world.fuzzer, f"/v1/workspaces/{WS}/datasets"
    if fuzzer.get(f"{base}/{DS}").status_code == 404:
        fuzzer.ok("POST", base, 201, json={"name": DS})
    if not fuzzer.ok("GET", f"{base}/{DS}/versions")["items"]:
        fuzzer.ok("POST", f"{base}/{DS}/versions", 201, json={"allow_empty": True})


def _fuzz(operation: Any, auth: dict[str, str]) -> None:
    # Aim at the fuzzer's own workspace and dataset, so generated calls get past
    # the 404 of tenancy and into the handlers.
    fixed = {k: v for k, v in {"ws": WS, "ds": DS}.items() if f"{{{k}}}" in operation.path}
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=cases)
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=auth, checks=CHECKS, timeout=30)

    run()


def test_the_api_answers_as_documented(world: World):
    schema = schemathesis.openapi.from_url(world.server.url + "/v1/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    keys = {(op.method.upper(), op.path) for op in operations}
    assert keys >= ADMIN_OPS | SKIP, "the document lost operations this file names"
    runs = [(op, world.fuzzer) for op in operations if (op.method.upper(), op.path) not in SKIP]
    runs += [(op, world.admin) for op in operations if (op.method.upper(), op.path) in ADMIN_OPS]
    failures = []
    for operation, who in runs:
        _ground(world)
        try:
            _fuzz(operation, {"Authorization": f"Bearer {who.token}"})
        except (Exception, FailureGroup) as exc:  # a FailureGroup is a BaseExceptionGroup
            trace = "".join(traceback.format_exception(exc))
            failures.append(f"{operation.label} as {who.name}:\n{trace}")
    assert len(runs) >= 55
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)
