"""The kind registry the composition root builds, and the storage kinds' parameters."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.domain.governor import GIB, HostReading
from appliance.errors import InvalidInput
from appliance.jobs import gc, verify
from appliance.jobs.kinds import JobKinds, registry

pytestmark = pytest.mark.unit

BOX = HostReading(cores=2, ram_total=8 * GIB, ram_available=6 * GIB, disk_free=50 * GIB)


def test_the_registry_holds_every_shipped_kind_by_name() -> None:
    kinds = registry()
    assert set(kinds) == {
        "augment",
        "box-benchmark",
        "evaluate",
        "export",
        "gc",
        "train",
        "train-script",
        "verify",
    }
    assert kinds.get("gc") is gc.KIND and "verify" in kinds and len(kinds) == 8


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="job kind 'nope' is not known") as err:
        JobKinds([gc.KIND, verify.KIND]).get("nope")
    assert err.value.hint == "use one of: gc, verify"
    with pytest.raises(InvalidInput) as none:
        JobKinds().get("gc")
    assert "none is registered" in none.value.hint


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, {"grace_seconds": None, "dry_run": False}),
        ({"grace_seconds": 0, "dry_run": True}, {"grace_seconds": 0, "dry_run": True}),
        ({"grace_seconds": None, "dry_run": False}, {"grace_seconds": None, "dry_run": False}),
    ],
)
def test_gc_params_are_normalised(params: dict[str, Any], expected: dict[str, Any]) -> None:
    assert gc.validate(params) == expected


@pytest.mark.parametrize(
    "params, error",
    [
        ({"grace_seconds": -1}, "grace_seconds must be a whole number of seconds, 0 or more"),
        ({"grace_seconds": 1.5}, "grace_seconds must be a whole number"),
        ({"grace_seconds": True}, "grace_seconds must be a whole number"),
        ({"grace_seconds": 2**63}, "grace_seconds must be a whole number"),
        ({"dry_run": "yes"}, "dry_run must be true or false"),
        ({"deep": True}, "unknown parameter 'deep'"),
    ],
)
def test_gc_refuses_bad_params(params: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidInput, match=error):
        gc.validate(params)


@pytest.mark.parametrize(
    "params, error",
    [({"deep": 1}, "deep must be true or false"), ({"dry_run": True}, "unknown parameter")],
)
def test_verify_refuses_bad_params(params: dict[str, Any], error: str) -> None:
    with pytest.raises(InvalidInput, match=error):
        verify.validate(params)
    assert verify.validate({}) == {"deep": False}


@pytest.mark.parametrize("kind", [gc.KIND, verify.KIND])
def test_storage_kinds_ask_for_one_core_and_no_gpu(kind: Any) -> None:
    request = kind.request(kind.validate({}), BOX)
    assert request.cpu_cores == 1 and request.gpus == 0 and request.ram_bytes < GIB
