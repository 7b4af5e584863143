"""The kind registry the composition root builds."""

from __future__ import annotations

import pytest

from appliance.errors import InvalidInput
from appliance.jobs.kinds import JobKinds, registry

pytestmark = pytest.mark.unit


def test_the_registry_holds_every_shipped_kind_by_name() -> None:
    kinds = registry()
    assert set(kinds) == {"augment", "box-benchmark", "evaluate", "export", "train", "train-script"}
    assert kinds.get("train").name == "train" and "export" in kinds and len(kinds) == 6


def test_an_unknown_kind_names_the_known_ones() -> None:
    kinds = registry()
    with pytest.raises(InvalidInput, match="job kind 'nope' is not known") as err:
        JobKinds([kinds.get("train"), kinds.get("export")]).get("nope")
    assert err.value.hint == "use one of: export, train"
    with pytest.raises(InvalidInput) as none:
        JobKinds().get("train")
    assert "none is registered" in none.value.hint
