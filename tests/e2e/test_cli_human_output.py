"""What people read from the CLI, against a real `ahoy serve`: tables with
headers, local times, yes/no and "-" instead of Python's True/None, no dict
reprs, counts with the right singular or plural, sizes in human units; and
`--json` for scripts still the raw values."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, Appliance

pytestmark = pytest.mark.e2e

#: A Unix time as Python prints it (seconds since 1970: 2020 … 2033).
EPOCH = re.compile(r"\b1[6-9]\d{8}(\.\d+)?\b")
PYTHON = re.compile(r"\b(True|False|None)\b")
#: A count of one with the word in the plural.
ONE_MANY = re.compile(
    r"\b1 (new |orphaned )?(files|blobs|bytes|entries|events|images|versions|"
    r"working areas|proposals|frames|duplicates|checkpoints)\b"
)
LOCAL_TIME = re.compile(r"\b20\d\d-\d\d-\d\d \d\d:\d\d:\d\d\b")


def human(appliance: Appliance, *args: str, stdin: str | None = None) -> str:
    """The command's output for people, checked for what must never show."""
    text = appliance.ahoy(*args, stdin=stdin).stdout
    where = f"`ahoy {' '.join(args)}` printed:\n{text}"
    assert not PYTHON.search(text), where
    assert "{'" not in text and "['" not in text, where
    assert not EPOCH.search(text), where
    assert not ONE_MANY.search(text), where
    return text


def header(text: str) -> list[str]:
    return text.splitlines()[0].split()


def test_tokens_users_and_audit_are_tables_with_local_times(
    appliance: Appliance,
) -> None:
    created = human(appliance, "token", "create", "human-ci", "--days", "30")
    assert LOCAL_TIME.search(created.splitlines()[0]), created
    listed = human(appliance, "token", "list")
    assert header(listed)[:3] == ["ID", "NAME", "KIND"], listed
    assert "EXPIRES" in listed.splitlines()[0] and LOCAL_TIME.search(listed)
    assert any("human-ci" in line for line in listed.splitlines()[1:])

    appliance.ahoy("user", "create", "hugo", "--password-stdin", stdin="hugo-password-1\n")
    users = human(appliance, "user", "list")
    assert header(users)[:1] == ["USER"], users
    rows = {line.split()[0]: line.split()[1] for line in users.splitlines()[1:]}
    assert rows["admin"] == "yes" and rows["hugo"] == "no", users

    appliance.ahoy("dataset", "create", "audited")
    audit = human(appliance, "audit", "log", "--limit", "5")
    assert header(audit)[:3] == ["ID", "WHEN", "ACTOR"], audit
    assert "dataset.create" in audit and LOCAL_TIME.search(audit)

    # scripts still get the raw values
    raw = appliance.ahoy_json("token", "list")
    assert all(isinstance(t["expires_at"], float) for t in raw)
    assert any(t["revoked_at"] is None for t in raw)
    assert {u["username"]: u["is_admin"] for u in appliance.ahoy_json("user", "list")} == {
        "admin": True,
        "hugo": False,
    }


def test_counts_say_one_file_and_two_files(appliance: Appliance, tmp_path: Path) -> None:
    src = tmp_path / "counted"
    src.mkdir()
    (src / "a.jpg").write_bytes(b"a" * 3000)
    appliance.ahoy("dataset", "create", "counted")
    status = human(appliance, "dataset", "status", "counted")
    assert "no versions yet" in status and "latest no versions" not in status
    assert "0 files" in status

    one = human(appliance, "dataset", "import", str(src), "-d", "counted")
    assert "imported 1 file (2.9 KiB)" in one and "1 new blob uploaded" in one, one
    (src / "b.jpg").write_bytes(b"b" * 10)
    (src / "c.jpg").write_bytes(b"c" * 20)
    two = human(appliance, "dataset", "import", str(src), "-d", "counted")
    assert "imported 3 files" in two and "2 new blobs uploaded (30 bytes)" in two, two

    committed = human(appliance, "dataset", "commit", "counted", "-m", "three")
    assert "3 files, 3.0 KiB" in committed, committed
    listed = human(appliance, "dataset", "list")
    assert header(listed) == ["DATASET", "LATEST", "WORKING", "AREA"], listed

    assert "removed 1 file from" in human(appliance, "dataset", "rm", "counted", "a.jpg")
    removed = human(appliance, "dataset", "rm", "counted", "b.jpg", "c.jpg")
    assert "removed 2 files from" in removed, removed

    from tests.integration.yolo_dataset import make_detect_dataset

    make_detect_dataset(tmp_path / "yolo1", train=1, val=0)
    appliance.ahoy("dataset", "create", "one-image")
    yolo = human(appliance, "dataset", "import-yolo", str(tmp_path / "yolo1"), "-d", "one-image")
    assert "imported 1 image (1 labelled)" in yolo and "now 2 classes" in yolo, yolo

    ws = human(appliance, "workspace", "show")
    assert "of no quota" not in ws and "no quota set" in ws, ws
    assert re.search(r"uses \d+(\.\d)? (KiB|bytes)", ws), ws
    assert header(human(appliance, "workspace", "list"))[:1] == ["WORKSPACE"]
    assert header(human(appliance, "member", "list")) == ["MEMBER", "ROLE"]


def test_job_results_read_as_lines_not_dicts(appliance: Appliance) -> None:
    gc = human(appliance, "gc", "--grace", "0")
    assert gc.startswith("reclaimed "), gc
    verified = human(appliance, "verify")
    assert re.match(r"checked \d+ blobs?: 0 missing, 0 corrupt", verified), verified

    jobs = human(appliance, "job", "list")
    assert header(jobs)[:3] == ["ID", "KIND", "STATE"], jobs
    job_id = appliance.ahoy_json("job", "list")[0]["id"]
    shown = human(appliance, "job", "show", job_id)
    assert shown.startswith(f"job {job_id} (verify): succeeded"), shown
    assert "result:" in shown and re.search(r"^  checked +\d+$", shown, re.M), shown
    waited = human(appliance, "job", "wait", job_id)
    assert waited.startswith(f"job {job_id} (verify) succeeded:"), waited
    assert re.search(r"^  ok +yes$", waited, re.M), waited

    bench = human(
        appliance, "job", "submit", "box-benchmark", "-p", "seconds=1", "-p", "cores=1", "--wait"
    )
    assert re.match(r"job \w+ \(box-benchmark\) succeeded:\n  cores +1\n", bench), bench
    log_id = appliance.ahoy_json("job", "list")[0]["id"]
    human(appliance, "job", "log", log_id)

    # the same job for scripts: the raw result, unchanged
    raw = appliance.ahoy_json("job", "show", job_id)
    assert raw["result"]["ok"] is True and isinstance(raw["created_at"], float)


def test_not_logged_in_points_to_ahoy_login(appliance: Appliance, tmp_path: Path) -> None:
    env = {**appliance.env, "AHOY_CONFIG_DIR": str(tmp_path / "nobody"), "AHOY_URL": appliance.url}
    r = subprocess.run(
        [str(BIN / "ahoy"), "dataset", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 7, r
    assert "hint: you are not logged in: `ahoy login" in r.stderr, r.stderr
    assert "Bearer" not in r.stderr, r.stderr
    # a script calling the API without a token is told both ways in
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{appliance.url}/v1/workspaces", timeout=10)
    problem = json.loads(refused.value.read())
    assert refused.value.code == 401 and "`ahoy login`" in problem["hint"], problem
    assert "'Authorization: Bearer <token>'" in problem["hint"], problem
