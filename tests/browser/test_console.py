"""The web console in a real browser against a real appliance: log in, walk from a
workspace to a dataset's versions, diff a relabel with its overlays, read the
stats, follow a job live; nothing leaves 127.0.0.1 and the CSP holds throughout."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.browser.conftest import log_in, shot
from tests.browser.seed import SPLIT

pytestmark = pytest.mark.browser

CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

#: Whether the overlay canvas in ``selector`` has drawn ``n`` objects, with pixels to show.
DRAWN = """([selector, n]) => {
  const c = document.querySelector(selector);
  if (!c || c.dataset.objects !== String(n) || !c.width) return false;
  const alpha = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  return alpha.filter((v, i) => i % 4 === 3 && v > 0).length > 100;
}"""


def test_the_console_is_served_under_a_strict_csp(page, appliance):
    answer = page.goto(f"{appliance.url}/")
    assert answer is not None and answer.url == f"{appliance.url}/console/"
    for response in (answer, page.request.get(f"{appliance.url}/console/static/js/app.js")):
        assert response.status == 200
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert (
        "javascript"
        in page.request.get(f"{appliance.url}/console/static/js/api.js").headers["content-type"]
    )
    with urllib.request.urlopen(f"{appliance.url}/v1/openapi.json") as r:
        paths = json.loads(r.read())["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/console")]
    page.get_by_test_id("login-form").wait_for()


def test_log_in_refused_then_accepted_then_out(page, appliance):
    page.goto(f"{appliance.url}/console/")
    page.get_by_test_id("login-form").wait_for()
    shot(page, "login")
    page.get_by_test_id("username").fill("admin")
    page.get_by_test_id("password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    banner = page.get_by_test_id("problem")
    banner.wait_for()
    assert page.get_by_test_id("problem-title").inner_text() == "Unauthenticated"
    assert "wrong user name or password" in page.get_by_test_id("problem-detail").inner_text()
    assert page.get_by_test_id("problem-hint").inner_text() == "check both and try again"
    shot(page, "login-refused")

    log_in(page, appliance)
    assert page.url.endswith("#/ws")
    assert not banner.is_visible()
    assert page.get_by_test_id("current-user").inner_text().startswith("admin")
    assert page.get_by_test_id("workspace-link").all_inner_texts() == ["default"]
    shot(page, "workspaces")

    token = page.evaluate("sessionStorage.getItem('ahoy.token')")
    page.get_by_test_id("logout").click()
    page.get_by_test_id("login-form").wait_for()
    assert page.evaluate("sessionStorage.getItem('ahoy.token')") is None
    revoked = page.request.get(
        f"{appliance.url}/v1/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert revoked.status == 401


def test_workspace_dataset_and_version_log(page, appliance, seeded):
    log_in(page, appliance)
    page.get_by_test_id("workspace-link").first.click()
    page.get_by_test_id("datasets").wait_for()
    assert page.get_by_test_id("dataset-count").inner_text() == "1"
    assert "v2" in page.get_by_test_id("datasets").inner_text()
    shot(page, "workspace")

    page.get_by_test_id("dataset-link").first.click()
    rows = page.get_by_test_id("version-row")
    rows.first.wait_for()
    assert [r.get_attribute("data-number") for r in rows.all()] == ["2", "1"]
    log = appliance.client.log(seeded.ws, seeded.dataset)
    for row, version in zip(rows.all(), log, strict=True):
        text = row.inner_text()
        assert version["message"] in text and version["manifest_hash"][:12] in text
        assert str(version["file_count"]) in text
    assert rows.first.get_by_test_id("diff-link").get_attribute("href").endswith("diff?a=1&b=2")
    assert page.get_by_test_id("studio-link").get_attribute("href").endswith("/pets/studio")
    assert page.get_by_test_id("review-link").get_attribute("href").endswith("/pets/review")
    assert "Nothing to commit" in page.get_by_test_id("working").inner_text()
    shown = page.get_by_test_id("split").inner_text()
    assert shown == f"Split train 50%, val 25%, test 25% (seed {SPLIT.seed})."
    crumbs = page.get_by_test_id("breadcrumb").inner_text()
    assert re.search(r"Workspaces\W+default\W+pets", crumbs)
    shot(page, "dataset")

    rows.first.get_by_role("link", name="v2").click()
    page.get_by_test_id("file-row").first.wait_for()
    assert page.get_by_test_id("file-row").count() == 5
    page.get_by_role("button", name=seeded.relabelled).click()
    page.wait_for_function(DRAWN, arg=["[data-testid=file-preview] canvas", 2])
    shot(page, "version")

    # A workspace that is not ours: the API's problem, shown as it came.
    page.goto(f"{appliance.url}/console/#/ws/elsewhere")
    page.get_by_test_id("problem").wait_for()
    token = page.evaluate("sessionStorage.getItem('ahoy.token')")
    problem = page.request.get(
        f"{appliance.url}/v1/workspaces/elsewhere", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert page.get_by_test_id("problem-title").inner_text() == problem["title"]
    assert page.get_by_test_id("problem-detail").inner_text() == problem["detail"]


def test_diff_shows_the_relabel_with_overlays(page, appliance, seeded):
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{seeded.ws}/datasets/{seeded.dataset}")
    page.get_by_test_id("diff-link").first.click()
    changes = page.get_by_test_id("change")
    changes.first.wait_for()
    assert [(c.get_attribute("data-kind"), c.inner_text()) for c in changes.all()] == [
        ("modified", seeded.relabelled)
    ]
    assert "2 reclassed" in page.locator(".label-summary").inner_text()
    assert page.get_by_test_id("diff-summary").inner_text().startswith("0 added, 0 removed, 1 mod")
    changes.first.click()
    for side in ("side-old", "side-new"):
        page.wait_for_function(DRAWN, arg=[f"[data-testid={side}] canvas", 2])
    kinds = page.get_by_test_id("object-changes").locator(".kind").all_inner_texts()
    assert kinds == ["reclassed", "reclassed"]
    assert "dog → cat" in page.get_by_test_id("object-changes").inner_text()
    shot(page, "diff")

    # the pickers: comparing a version with itself shows no change
    page.get_by_test_id("ref-b").select_option("1")
    page.get_by_test_id("compare").click()
    page.get_by_text("No differences.").wait_for()


def test_stats_match_the_api(page, appliance, seeded):
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{seeded.ws}/datasets/{seeded.dataset}")
    page.get_by_test_id("stats-link").first.click()
    page.get_by_test_id("per-class-chart").wait_for()
    stats = appliance.client.label_stats(seeded.ws, seeded.dataset, 2)
    assert page.get_by_test_id("objects").inner_text() == str(stats["objects"])
    assert page.get_by_test_id("unlabelled").inner_text() == str(stats["unlabelled_images"]) == "1"
    drawn = {
        (b.get_attribute("data-group"), b.get_attribute("data-series")): int(
            b.get_attribute("data-value")
        )
        for b in page.get_by_test_id("per-class-chart").get_by_test_id("bar").all()
    }
    expected = {
        (c["name"], split): n for c in stats["per_class"] for split, n in c["per_split"].items()
    }
    assert {k: v for k, v in drawn.items() if v} == expected
    for c in stats["per_class"]:
        row = page.locator(f"[data-testid=class-row][data-class={c['name']}]")
        assert row.locator("[data-split=total]").inner_text() == str(c["objects"])
    for testid, key in (
        ("size-histogram", "box_size_histogram"),
        ("aspect-histogram", "aspect_histogram"),
    ):
        bars = page.get_by_test_id(testid).get_by_test_id("bar").all()
        assert [int(b.get_attribute("data-value")) for b in bars] == stats[key]["counts"]
    warnings = page.get_by_test_id("warning")
    assert warnings.count() == len(stats["warnings"]) >= 1
    assert warnings.first.get_attribute("data-kind") == "duplicate"
    shot(page, "stats")


def test_jobs_follow_a_gc_job_to_the_end(page, appliance, seeded):
    log_in(page, appliance)
    page.goto(f"{appliance.url}/console/#/ws/{seeded.ws}/jobs")
    page.get_by_test_id("jobs").wait_for()
    # one started through the API, which the page finds on its own
    job = appliance.client.gc(seeded.ws, dry_run=True)
    row = page.locator(f"[data-testid=job-row][data-id='{job['id']}']")
    row.wait_for()
    page.wait_for_function(
        "id => document.querySelector(`[data-id='${id}']`)?.dataset.state === 'succeeded'",
        arg=job["id"],
    )
    assert row.get_by_test_id("state").inner_text() == "succeeded"
    # one started from the page, followed over its event stream until it ends
    page.get_by_test_id("start-gc").click()
    live = page.locator("[data-testid=job-row][data-source=sse][data-state=succeeded]")
    live.first.wait_for()
    assert live.first.get_by_test_id("progress").get_attribute("value") == "1"
    assert "dry_run true" in live.first.inner_text()
    shot(page, "jobs")
