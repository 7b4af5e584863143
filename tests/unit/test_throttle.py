"""Token buckets and refusal summaries: pure, with the clock passed in."""

from __future__ import annotations

import json

import pytest

from appliance.domain.refusals import KEEP_CHARS, OTHERS, RefusalTally, clip
from appliance.domain.throttle import TokenBuckets, retry_after

pytestmark = pytest.mark.unit


def test_a_burst_then_one_try_per_refill():
    b = TokenBuckets(capacity=3, refill=10)
    assert [b.take("k", 0) for _ in range(4)] == [True, True, True, False]
    assert b.wait("k", 0) == 10
    assert b.wait("k", 4) == pytest.approx(6)
    assert not b.take("k", 9.9)
    assert b.take("k", 10) and not b.take("k", 10)
    assert b.wait("other", 10) == 0  # keys are apart


def test_it_slows_but_never_locks_for_good():
    b = TokenBuckets(capacity=2, refill=5)
    t = 0.0
    for _ in range(100):  # a guesser hammering every second
        b.take("acct", t)
        t += 1
    assert b.wait("acct", t) <= 5  # still one try per refill, whatever came before
    assert b.take("acct", t + 5)


def test_giving_back_restores_a_try_and_forgets_full_buckets():
    b = TokenBuckets(capacity=2, refill=60)
    assert b.take("k", 0) and b.take("k", 0) and not b.take("k", 0)
    b.give_back("k", 0)
    assert b.take("k", 0)
    b.give_back("k", 0)
    b.give_back("k", 0)
    assert len(b) == 0  # full again: nothing to remember


def test_the_table_is_bounded():
    b = TokenBuckets(capacity=1, refill=60, max_keys=100)
    for i in range(1000):
        b.take(f"name-{i}", 0)
    assert len(b) <= 100


@pytest.mark.parametrize(("wait", "header"), [(0.01, 1), (1.0, 1), (1.2, 2), (29.5, 30)])
def test_retry_after_is_whole_seconds_never_zero(wait: float, header: int):
    assert retry_after(wait) == header


def test_refusals_are_summed_per_source_and_window():
    t = RefusalTally(window=60)
    for i in range(300):
        t.record("10.0.0.9", 120 + i / 10, "no token was sent", f"GET /v1/{i}/" + "x" * 60_000)
    t.record("10.0.0.8", 130, "wrong user name or password", account="alice")
    assert t.due(179) == []  # the window 120..180 is still open
    closed = t.due(180)
    assert [(s.source, s.count, s.window_start) for s in closed] == [
        ("10.0.0.8", 1, 120),
        ("10.0.0.9", 300, 120),
    ]
    flood = closed[1]
    assert flood.reasons == {"no token was sent": 300}
    assert len(flood.samples) == 5 and all(len(s) < KEEP_CHARS + 30 for s in flood.samples)
    assert len(json.dumps(flood.detail())) < 2000
    assert closed[0].accounts == {"alice": 1}
    assert len(t) == 0


def test_a_summary_stays_small_whatever_arrives():
    t = RefusalTally(window=60, max_sources=10)
    for i in range(1000):
        t.record(f"10.1.{i // 256}.{i % 256}", 0, f"reason {i}", f"GET /{i}", account=f"user{i}")
    summaries = t.drain()
    assert len(summaries) == 11  # ten sources, the rest together
    (others,) = [s for s in summaries if s.source == OTHERS]
    assert others.count == 990
    assert len(others.reasons) <= 11 and len(others.accounts) <= 21
    assert len(json.dumps(others.detail())) < 3000


def test_clip_says_what_it_left_out():
    assert clip("short") == "short"
    assert clip("a" * 250) == "a" * KEEP_CHARS + "...(+50 chars)"
