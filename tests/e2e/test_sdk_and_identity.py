"""The SDK and the identity commands against a real `ahoy serve`: login keeps only a
token (0600), tokens and roles are enforced, jobs stream progress, pulls verify."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator

import pytest

from appliance.sdk import ApiError, Client, SplitConfig
from tests.conftest import make_tree, pulled_digests, tree_digests
from tests.e2e.conftest import BIN, PASSWORD, Appliance, free_port, running_appliance
from tests.integration.lan import POOL

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """The shared appliance, letting webhooks reach test LAN hosts (never loopback)."""
    with running_appliance(tmp_path_factory, {"AHOY_WEBHOOK_ALLOW_PRIVATE": POOL}) as app:
        yield app


def test_login_keeps_only_a_personal_token_in_a_0600_profile(appliance):
    path = appliance.config_dir / "profiles.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert PASSWORD not in text and "ahoy_pat_" in text and "ahoy_session_" not in text
    me = appliance.ahoy_json("whoami")
    assert me["user"] == {"username": "admin", "is_admin": True, **{
        k: v for k, v in me["user"].items() if k not in ("username", "is_admin")
    }}  # fmt: skip
    assert {"id": "default", "role": "owner"} in me["workspaces"]
    names = [t["name"] for t in appliance.ahoy_json("token", "list")]
    assert any(n.startswith("cli@") for n in names)


def test_a_created_token_works_until_it_is_revoked(appliance):
    t = appliance.ahoy_json("token", "create", "ci-runner", "--days", "7")
    listed = appliance.ahoy_json("token", "list")
    assert t["id"] in [x["id"] for x in listed]
    assert all("token" not in x for x in listed)  # never a secret again
    with Client(appliance.url, t["token"]) as c:
        assert c.me()["user"]["username"] == "admin"
        appliance.ahoy("token", "revoke", t["id"])
        with pytest.raises(ApiError) as info:
            c.me()
    assert info.value.status == 401 and info.value.exit_code == 7


def test_logout_revokes_the_profile_token(appliance):
    stdin = PASSWORD + "\n"
    appliance.ahoy(
        "login", "--profile", "other", "--url", appliance.url, "--username", "admin",
        "--password-stdin", stdin=stdin,
    )  # fmt: skip
    profiles = json.loads((appliance.config_dir / "profiles.json").read_text())
    token = profiles["profiles"]["other"]["token"]
    appliance.ahoy("--profile", "other", "logout")
    with Client(appliance.url, token) as c, pytest.raises(ApiError) as info:
        c.me()
    assert info.value.status == 401
    after = json.loads((appliance.config_dir / "profiles.json").read_text())
    assert "other" not in after["profiles"] and "default" in after["profiles"]


def test_cli_exit_codes_for_a_bad_token_and_no_appliance(appliance):
    env = {**appliance.env, "AHOY_TOKEN": "ahoy_pat_0000.bogus"}
    bad = subprocess.run(
        [str(BIN / "ahoy"), "dataset", "list"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 7 and "hint:" in bad.stderr
    gone = appliance.ahoy(
        "--url", f"http://127.0.0.1:{free_port()}", "dataset", "list", check=False
    )
    assert gone.returncode == 3 and "ahoy serve" in gone.stderr


def test_roles_limit_what_a_member_may_do(appliance):
    appliance.ahoy("user", "create", "vera", "--password-stdin", stdin="vera-password-1\n")
    assert "vera" in [u["username"] for u in appliance.ahoy_json("user", "list")]
    appliance.ahoy("workspace", "create", "lab", "--description", "the lab")
    appliance.ahoy("--workspace", "lab", "member", "set", "vera", "viewer")
    members = appliance.ahoy_json("--workspace", "lab", "member", "list")
    assert {"username": "vera", "role": "viewer"} in members
    with Client(appliance.url) as vera:
        vera.login("vera", "vera-password-1")
        assert vera.list_datasets("lab") == []
        with pytest.raises(ApiError) as forbidden:
            vera.create_dataset("lab", "nope")
        assert forbidden.value.status == 403 and forbidden.value.exit_code == 7
        with pytest.raises(ApiError) as hidden:
            vera.list_datasets("default")  # not a member: as if it did not exist
        assert hidden.value.status == 404
    appliance.ahoy("--workspace", "lab", "member", "rm", "vera")
    shown = appliance.ahoy_json("workspace", "show", "lab")
    assert shown["id"] == "lab" and shown["role"] == "owner"
    assert "lab" in [w["id"] for w in appliance.ahoy_json("workspace", "list")]
    actions = [e.get("action") for e in appliance.ahoy_json("--workspace", "lab", "audit", "log")]
    assert actions, "membership changes are audited"
    assert appliance.ahoy_json("audit", "verify")["ok"] is True


def test_sdk_upload_commit_and_pull_in_split_layout(appliance, tmp_path):
    c = appliance.client
    src = tmp_path / "src"
    digests = make_tree(src, 120, size=5000, seed=3)
    (src / "dup.jpg").write_bytes((src / next(iter(digests))).read_bytes())  # same content
    c.create_dataset(None, "sdk-demo")
    first = c.upload_tree(None, "sdk-demo", src)
    assert first.files == 121 and first.uploaded_blobs == 120  # the duplicate went once
    again = c.upload_tree(None, "sdk-demo", src)
    assert again.uploaded_blobs == 0 and again.staged["unchanged"] == 121
    v = c.commit(None, "sdk-demo", "one")
    rows = list(c.manifest(None, "sdk-demo", v["number"]))
    dest = tmp_path / "out"
    report = c.pull(
        None, "sdk-demo", "latest", dest, layout="split", manifest_out=tmp_path / "m.json"
    )
    assert report.files == 121 and report.manifest_hash == v["manifest_hash"]
    want = {f"{r['split']}/{r['filename']}": r["sha256"] for r in rows}
    assert pulled_digests(dest) == want
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["manifest_hash"] == v["manifest_hash"] and len(doc["files"]) == 121
    with pytest.raises(Exception, match="not empty"):
        c.pull(None, "sdk-demo", "latest", dest)
    only_val = c.pull(None, "sdk-demo", v["number"], tmp_path / "val", split="val")
    assert only_val.files == sum(1 for r in rows if r["split"] == "val")


def test_a_split_goes_in_and_comes_back_in_one_shape(appliance, tmp_path):
    c = appliance.client
    halves = SplitConfig((("train", 0.5), ("test", 0.5)), "halves")
    made = c.create_dataset(None, "split-demo", split=halves)
    assert made["split"] == halves.as_dict() == c.get_dataset(None, "split-demo")["split"]
    assert made["split"] == {"ratios": [["train", 0.5], ["test", 0.5]], "seed": "halves"}
    make_tree(tmp_path / "s", 4, seed=5)
    c.upload_tree(None, "split-demo", tmp_path / "s")
    thirds = SplitConfig((("a", 0.25), ("b", 0.25), ("c", 0.5)), "thirds")
    v = c.commit(None, "split-demo", "resplit", split=thirds)
    assert SplitConfig.from_dict(v["split"]) == thirds
    # What an answer gives is what a request takes; the older object form still goes in.
    same = {"name": "split-copy", "split": made["split"]}
    assert c._json("POST", c._ws(None, "datasets"), json=same)["split"] == made["split"]
    older = {"name": "split-old", "split": {"ratios": {"train": 0.5, "test": 0.5}}}
    answer = c._json("POST", c._ws(None, "datasets"), json=older)
    assert SplitConfig.from_dict(answer["split"]) == SplitConfig((("train", 0.5), ("test", 0.5)))


def test_mirror_drops_what_the_source_no_longer_has(appliance, tmp_path):
    c = appliance.client
    src = tmp_path / "m"
    digests = make_tree(src, 20, seed=11)
    c.create_dataset(None, "mirror-demo")
    c.upload_tree(None, "mirror-demo", src)
    victim = sorted(digests)[0]
    (src / victim).unlink()
    r = c.upload_tree(None, "mirror-demo", src, mirror=True)
    assert r.staged["removed"] == 1
    names = {f["filename"] for f in c.working_files(None, "mirror-demo")}
    assert victim not in names and len(names) == 19


def test_jobs_report_progress_and_end_in_a_state(appliance):
    c = appliance.client
    job = c.verify(None, deep=True)
    assert job["state"] in ("queued", "running", "succeeded")
    seen: list[dict] = []
    final = c.wait_job(None, job["id"], on_progress=seen.append)
    assert final["state"] == "succeeded" and final["result"]["ok"] is True
    listed = appliance.ahoy_json("job", "list")
    assert job["id"] in [j["id"] for j in listed]
    assert appliance.ahoy_json("job", "show", job["id"])["state"] == "succeeded"
    assert appliance.ahoy_json("job", "wait", job["id"])["ok"] is True


def test_large_files_go_alone_and_tar_requests_are_capped(appliance, tmp_path, monkeypatch):
    from appliance.sdk import upload

    monkeypatch.setattr(upload, "LARGE_BLOB", 64 << 10)  # so a 100 KiB file is "large"
    monkeypatch.setattr(upload, "TAR_BATCH_BYTES", 40 << 10)  # and tars hold ~8 files
    src = tmp_path / "big"
    make_tree(src, 30, size=5000, seed=21)
    (src / "video.mp4").write_bytes(bytes(range(256)) * 400)
    c = appliance.client
    c.create_dataset(None, "batches")
    r = c.upload_tree(None, "batches", src)
    assert r.uploaded_blobs == 31 and r.staged["added"] == 31
    c.commit(None, "batches", "b")
    c.pull(None, "batches", "latest", tmp_path / "back")
    assert pulled_digests(tmp_path / "back") == tree_digests(src)


def test_human_output_of_every_reading_command(appliance, tmp_path):
    src = tmp_path / "h"
    make_tree(src, 5, seed=4)
    appliance.ahoy("dataset", "import", str(src), "-d", "human", "--create")
    runs = [
        ("dataset", "status", "human"),
        ("dataset", "commit", "human", "-m", "h1"),
        ("dataset", "list"),
        ("dataset", "log", "human"),
        ("dataset", "diff", "human", "1"),
        ("dataset", "tag", "human", "best", "1"),
        ("dataset", "pull", "human", str(tmp_path / "p")),
        ("whoami",),
        ("token", "list"),
        ("user", "list"),
        ("workspace", "list"),
        ("workspace", "show"),
        ("member", "list"),
        ("audit", "log", "--limit", "5"),
        ("audit", "verify"),
        ("job", "list"),
        ("gc", "--dry-run"),
        ("verify",),
        ("dataset", "tag", "human", "best", "--delete"),
    ]
    for args in runs:
        result = appliance.ahoy(*args)
        assert result.stdout.strip(), f"ahoy {' '.join(args)} printed nothing"


def test_webhooks_deliver_signed_events_and_log_them(appliance):
    import hashlib
    import hmac
    import time

    from tests.integration.lan import lan_host
    from tests.integration.webhook_receiver import receiver

    refused = appliance.ahoy("webhook", "add", "http://127.1:8888/x", check=False)
    assert refused.returncode != 0
    assert "loopback" in refused.stderr + refused.stdout
    assert "AHOY_WEBHOOK_ALLOW_PRIVATE" in refused.stderr + refused.stdout

    # The receiver is on a test LAN host, which this module's appliance allow-lists.
    with lan_host() as lan, receiver(lan) as rx:
        hook = appliance.ahoy_json("webhook", "add", rx.url + "/hook", "-e", "dataset.created")
        assert hook["secret"] and hook["events"] == ["dataset.created"]
        assert hook["id"] in [h["id"] for h in appliance.ahoy_json("webhook", "list")]
        appliance.ahoy("dataset", "create", "hooked")
        deadline = time.monotonic() + 30
        while not rx.requests and time.monotonic() < deadline:
            time.sleep(0.2)
        assert rx.requests, "no delivery within 30 s"
        headers, body = rx.requests[0].headers, rx.requests[0].body
        event = json.loads(body)
        assert event["type"] == "dataset.created" and event["workspace"] == "default"
        sig = dict(p.split("=", 1) for p in headers["X-Ahoy-Signature"].split(","))
        mac = hmac.new(hook["secret"].encode(), f"{sig['t']}.".encode() + body, hashlib.sha256)
        assert hmac.compare_digest(mac.hexdigest(), sig["v1"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if log := appliance.ahoy_json("webhook", "deliveries", str(hook["id"])):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the delivery was not logged")
        assert [(d["outcome"], d["status_code"], d["error"]) for d in log] == [
            ("delivered", 200, None)
        ]
        assert "delivered" in appliance.ahoy("webhook", "deliveries", str(hook["id"])).stdout
        appliance.ahoy("webhook", "rm", str(hook["id"]))
        assert appliance.ahoy_json("webhook", "list") == []
