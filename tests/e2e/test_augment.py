"""Augmentation end to end (CLI, SDK, API): the train split grows N×, val and test
are carried over untouched, the lineage names the source and the recipe, and the
same recipe makes the same version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from appliance.sdk import ApiError
from tests.e2e.conftest import Appliance, commit_shapes

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shapes(appliance: Appliance, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("shapes")
    return commit_shapes(appliance, root, train=12, val=6)


def rows_of(appliance: Appliance, dataset: str, ref: str) -> dict[str, dict[str, str]]:
    c = appliance.client
    assert c is not None
    return {r["filename"]: r for r in c.manifest(None, dataset, ref)}


def test_augment_grows_train_only_and_records_its_source(appliance: Appliance, shapes: str) -> None:
    r = appliance.ahoy_json("dataset", "augment", shapes, "--copies", "2", "--seed", "1")
    assert r["dataset"] == "shapes-aug" and r["version"] == 1 and r["new_version"]
    source, derived = rows_of(appliance, shapes, "1"), rows_of(appliance, "shapes-aug", "1")
    train = [n for n, row in source.items() if row["split"] == "train" and row["label_sha256"]]
    assert train and r["copies"] == 2 * len(train)
    assert len(derived) == len(source) + 2 * len(train)
    # every source file is there, in its split, with its bytes and labels
    for name, row in source.items():
        assert derived[name] == row
    copies = {n: row for n, row in derived.items() if n not in source}
    assert all(row["split"] == "train" for row in copies.values()), "copies train only"
    # leakage guard: no copy of a val or test image exists anywhere
    made_from = {n.replace(".aug1.", ".").replace(".aug2.", ".") for n in copies}
    assert made_from == set(train)
    assert {source[n]["split"] for n in made_from} == {"train"}
    originals = {s["sha256"] for s in source.values()}
    assert all(row["sha256"] not in originals for row in copies.values())
    c = appliance.client
    assert c is not None
    shown = c.get_version(None, "shapes-aug", "1")
    lineage = shown["derived_from"]
    assert lineage["dataset"] == shapes and lineage["version"] == 1
    assert lineage["manifest_hash"] == c.get_version(None, shapes, "1")["manifest_hash"]
    assert lineage["kind"] == "augment" and lineage["recipe_sha256"] == r["recipe_sha256"]
    assert lineage["recipe"]["copies"] == 2 and lineage["recipe"]["seed"] == 1
    # the label schema (class names) came along, so the copies export and train
    schema, source_schema = c.get_schema(None, "shapes-aug"), c.get_schema(None, shapes)
    assert schema["classes"] == source_schema["classes"] and len(schema["classes"]) == 2


def test_the_same_recipe_makes_the_same_version(appliance: Appliance, shapes: str) -> None:
    c = appliance.client
    assert c is not None
    first = c.get_version(None, "shapes-aug", "1")
    again_job = c.augment(shapes, into="shapes-again", copies=2, seed=1)
    job = c.wait_job(None, again_job["id"], timeout=300)
    assert job["state"] == "succeeded", job
    again = c.get_version(None, "shapes-again", "1")
    assert again["manifest_hash"] == first["manifest_hash"]
    # into the same target again: nothing new to commit, and it says so
    job = c.wait_job(None, c.augment(shapes, copies=2, seed=1)["id"], timeout=300)
    assert job["result"]["new_version"] is False and job["result"]["version"] == 1
    # a different seed is a different version of the target, with the first as parent
    job = c.wait_job(None, c.augment(shapes, copies=2, seed=2)["id"], timeout=300)
    assert job["result"]["version"] == 2
    assert c.get_version(None, "shapes-aug", "2")["parent"] == 1


def test_a_target_that_would_lose_work_is_refused_at_submission(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    c = appliance.client
    assert c is not None
    with pytest.raises(ApiError) as same:
        c.augment(shapes, into=shapes)
    assert same.value.status == 422 and "of its own" in str(same.value.problem)
    (tmp_path / "extra.txt").write_text("uncommitted")
    appliance.ahoy("dataset", "import", str(tmp_path), "-d", "shapes-aug")
    with pytest.raises(ApiError) as busy:
        c.augment(shapes, copies=1)
    assert busy.value.status == 409 and "uncommitted" in str(busy.value.problem)
    with pytest.raises(ApiError) as bad:
        c.augment(shapes, into="other", rotate=500, warp=1)
    problem = json.dumps(bad.value.problem)
    assert bad.value.status == 422 and "rotate" in problem and "warp" in problem
