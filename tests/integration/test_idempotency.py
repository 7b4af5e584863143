"""An idempotency claim is answered in the transaction that makes the thing: the
answer is committed with it, and a duplicate that got past the web layer's read
check (a race) rolls back whole and hands back the first answer."""

from __future__ import annotations

import json
import sqlite3

import pytest

from appliance.errors import Conflict, InvalidInput
from appliance.services import datasets, erasure, versions
from appliance.services.idempotency import AnsweredBefore, Once
from tests.conftest import make_tree, read_tree, stage_files

pytestmark = pytest.mark.integration


def _rows(engine, sql: str) -> list[tuple]:
    db = sqlite3.connect(engine.settings.catalog_path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _answer(engine, key: str) -> tuple[int, object]:
    ((status, body),) = _rows(
        engine, f"SELECT status, body FROM idempotency_keys WHERE key = '{key}'"
    )
    return status, json.loads(body)


def test_a_commit_keeps_its_answer_and_a_duplicate_rolls_back_whole(engine, tmp_path):
    engine.seed(tmp_path / "src", 5)
    make_tree(tmp_path / "src", 1, seed=1, start=5)
    engine(stage_files, "ds", read_tree(tmp_path / "src"), "me")
    once = Once("me", "k-commit", "fp", 201)
    audited = len(_rows(engine, "SELECT id FROM audit_log"))

    first = engine(versions.commit, "ds", "v2", "me", once=once)
    assert _answer(engine, "k-commit") == (201, json.loads(json.dumps(first.as_dict())))
    with pytest.raises(AnsweredBefore) as raced:
        engine(versions.commit, "ds", "v2", "me", once=once)  # not NothingToCommit

    assert raced.value.answer.status == 201
    assert raced.value.answer.value()["number"] == first.number == 2
    assert [v.number for v in engine(versions.list_all, "ds")] == [2, 1]
    assert len(_rows(engine, "SELECT id FROM audit_log")) == audited + 1


def test_a_dataset_keeps_its_answer_as_listed(engine):
    once = Once("me", "k-ds", "fp", 201)
    made = engine(datasets.create, "cats", "me", "felines", once=once)
    assert _answer(engine, "k-ds") == (201, engine(datasets.show, "cats").as_dict())
    with pytest.raises(AnsweredBefore) as raced:
        engine(datasets.create, "cats", "me", "felines", once=once)
    assert raced.value.answer.value() == made.as_dict()


def test_an_erasure_keeps_its_report_and_a_duplicate_erases_nothing_more(engine, tmp_path):
    digests = engine.seed(tmp_path / "src", 3)
    target = sorted(digests.values())[0]
    once = Once("me", "k-erase", "fp", 201)
    report = engine(erasure.erase, "me", "GDPR #1", sha256=target, once=once)
    with pytest.raises(AnsweredBefore) as raced:
        engine(erasure.erase, "me", "GDPR #1", sha256=target, once=once)
    assert raced.value.answer.value() == report.as_dict()
    assert len(_rows(engine, "SELECT id FROM audit_log WHERE action = 'erase'")) == 1


def test_a_key_used_for_another_request_is_refused_and_makes_nothing(engine):
    engine(datasets.create, "cats", "me", once=Once("me", "k", "fp-1", 201))
    with pytest.raises(InvalidInput, match="different request"):
        engine(datasets.create, "dogs", "me", once=Once("me", "k", "fp-2", 201))
    assert [s.dataset.slug for s in engine(datasets.list_all)] == ["cats"]


def test_a_failed_call_keeps_no_answer(engine):
    once = Once("me", "k-bad", "fp", 201)
    with pytest.raises(InvalidInput):
        engine(datasets.create, "Not A Slug", "me", once=once)
    engine(datasets.create, "cats", "me", once=Once("me", "k-dup", "fp", 201))
    with pytest.raises(Conflict):
        engine(datasets.create, "cats", "me", once=once)
    assert _rows(engine, "SELECT key FROM idempotency_keys ORDER BY key") == [("k-dup",)]
