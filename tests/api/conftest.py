"""The API verification tier: one real `ahoy serve` (real weed, real SQLite) for the
session, driven over HTTP with ``requests`` only.

The first admin is made the way an operator would on a fresh box: read the
one-time setup token ``ahoy serve`` prints, and trade it at ``POST /v1/setup``.
Everything else (workspaces, users, roles, data) is made through the API.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import assert_no_server_tracebacks

BIN = Path(sys.executable).parent
#: Small enough that exceeding it costs nothing, big enough for every other test.
MAX_REQUEST_BYTES = 8_000_000
ADMIN, ADMIN_PW = "root", "api-tier-admin-password"
PASSWORD = "api-tier-user-password"
SETUP_TOKEN = re.compile(r"^\s*(ahoy_setup_\S+)\s*$", re.MULTILINE)
#: Where the API tier's webhook points: a LAN address its servers allow-list
#: (only the registration matters; no test waits for a delivery).
HOOK_HOST = "10.77.127.254"
_FOREIGN = ("AHOY_URL", "AHOY_TOKEN", "AHOY_PROFILE", "AHOY_WORKSPACE", "AHOY_CONFIG_DIR")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar_of(members: dict[str, bytes]) -> bytes:
    """An uncompressed tar whose members carry the given names."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Server:
    """A real `ahoy serve` subprocess on a free port in its own data dir."""

    def __init__(self, base: Path, blob_store: str = "seaweedfs", **env: str) -> None:
        self.data_dir = base / "data"
        self.log = base / "serve.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.blob_store = blob_store
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in _FOREIGN},
            "AHOY_DATA_DIR": str(self.data_dir),
            "AHOY_PORT": str(self.port),
            "AHOY_BLOB_STORE": blob_store,
            "AHOY_MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES),
            # Webhooks never reach loopback: the tier's hook names this LAN address.
            "AHOY_WEBHOOK_ALLOW_PRIVATE": HOOK_HOST,
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def catalog(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    def start(self, timeout: float = 120) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "ahoy"), "serve"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        ready = "running" if self.blob_store == "seaweedfs" else "not used"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"ahoy serve exited early:\n{self.log.read_text()}")
            try:
                health = requests.get(self.url + "/healthz", timeout=2).json()
                if health["weed"] == ready and self.setup_token_or_none() is not None:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError(f"ahoy serve did not come up:\n{self.log.read_text()}")

    def setup_token_or_none(self) -> str | None:
        found = SETUP_TOKEN.findall(self.log.read_text())
        return found[-1] if found else None

    def stop(self, timeout: float = 90) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        assert_no_server_tracebacks(self.log)

    def sql(self, statement: str, *args: Any) -> list[tuple[Any, ...]]:
        """Reach behind the API into the live catalog (the server reads it per request)."""
        conn = sqlite3.connect(self.catalog, timeout=30, isolation_level=None)
        try:
            return conn.execute(statement, args).fetchall()
        finally:
            conn.close()


class Api:
    """``requests`` with a base URL and (optionally) a bearer token."""

    def __init__(self, url: str, token: str | None = None, name: str = "anonymous") -> None:
        self.url = url
        self.token = token
        self.name = name
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:
        return f"Api({self.name})"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.http.request(method, self.url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        r = self.call(method, path, **kwargs)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content and "json" in r.headers.get("content-type", "") else None


def set_up_admin(server: Server) -> Api:
    """The operator's path on a fresh box: the printed setup token → the first admin."""
    token = server.setup_token_or_none()
    assert token, "ahoy serve printed no setup token on a fresh data dir"
    anon = Api(server.url)
    body = {"setup_token": token, "username": ADMIN, "password": ADMIN_PW}
    made = anon.ok("POST", "/v1/setup", 201, json=body)
    assert made["user"] == {**made["user"], "username": ADMIN, "is_admin": True}
    return Api(server.url, made["token"], ADMIN)


def log_in(server: Server, username: str, password: str = PASSWORD) -> Api:
    answer = Api(server.url).ok(
        "POST", "/v1/sessions", 201, json={"username": username, "password": password}
    )
    return Api(server.url, answer["token"], username)


@dataclass
class World:
    """The session's appliance and the people and things in it.

    ``ws-a``: alice (owner), vic (viewer). ``ws-b``: bob (owner) with a dataset,
    blobs, a committed version, a tag, staged changes and a finished job.
    ``ws-q``: a small quota. ``ws-fuzz``: fuzzer (owner), for schemathesis."""

    server: Server
    admin: Api
    alice: Api
    bob: Api
    vic: Api
    fuzzer: Api
    #: Real ids in ws-b, by path parameter name.
    ids: dict[str, str] = field(default_factory=dict)
    #: Uploaded blobs of ws-b: sha256 → bytes.
    blobs: dict[str, bytes] = field(default_factory=dict)

    def api(self, token: str | None, name: str = "other") -> Api:
        return Api(self.server.url, token, name)


QUOTA_WS, QUOTA_BYTES = "ws-q", 10_000


def _populate(server: Server) -> World:
    admin = set_up_admin(server)
    for ws in ("ws-a", "ws-b", QUOTA_WS, "ws-fuzz"):
        admin.ok("POST", "/v1/workspaces", 201, json={"id": ws, "description": f"{ws} (api)"})
    admin.ok("PUT", f"/v1/workspaces/{QUOTA_WS}/quota", json={"quota_bytes": QUOTA_BYTES})
    roles = {
        "alice": [("ws-a", "owner"), (QUOTA_WS, "owner")],
        "bob": [("ws-b", "owner")],
        "vic": [("ws-a", "viewer")],
        "fuzzer": [("ws-fuzz", "owner")],
    }
    for username, grants in roles.items():
        admin.ok("POST", "/v1/users", 201, json={"username": username, "password": PASSWORD})
        for ws, role in grants:
            admin.ok("PUT", f"/v1/workspaces/{ws}/members/{username}", json={"role": role})
    world = World(
        server,
        admin,
        log_in(server, "alice"),
        log_in(server, "bob"),
        log_in(server, "vic"),
        log_in(server, "fuzzer"),
    )
    _fill_ws_b(world)
    return world


def _fill_ws_b(world: World) -> None:
    bob, base = world.bob, "/v1/workspaces/ws-b"
    files = {f"img/{i:03d}.jpg": f"ws-b secret image {i}".encode() * 50 for i in range(4)}
    world.blobs = {sha(data): data for data in files.values()}
    bob.ok("POST", base + "/datasets", 201, json={"name": "secrets", "description": "bob's"})
    missing = bob.ok("POST", base + "/blobs/missing", json={"sha256": sorted(world.blobs)})
    assert sorted(missing["missing"]) == sorted(world.blobs)
    tar = tar_of(dict(world.blobs.items()))
    headers = {"Content-Type": "application/x-tar"}
    sent = bob.ok("POST", base + "/blobs", data=tar, headers=headers)
    assert sent["received"] == len(world.blobs)
    first = dict(list(files.items())[:3])
    staged = [{"name": n, "sha256": sha(d), "size": len(d)} for n, d in first.items()]
    bob.ok("POST", base + "/datasets/secrets/working/files", json={"files": staged})
    version = bob.ok(
        "POST", base + "/datasets/secrets/versions", 201, json={"message": "bob's first"}
    )
    bob.ok("PUT", base + "/datasets/secrets/tags/gold", json={"version": str(version["number"])})
    # A staged, uncommitted change too, so the working area differs from the head.
    name, data = list(files.items())[3]
    extra = [{"name": name, "sha256": sha(data), "size": len(data)}]
    bob.ok("POST", base + "/datasets/secrets/working/files", json={"files": extra})
    # A model named like the tag, so `{name}` is real under /models too.
    weights = {"name": "gold", "task": "detect", "weights_sha256": sha(files["img/001.jpg"])}
    bob.ok("POST", base + "/models", 201, json=weights)
    bob.ok("PUT", base + "/models/gold/tags/production", json={"version": "1"})
    job = bob.ok("POST", base + "/gc", 202, json={"dry_run": True})
    _wait_for_job(bob, base, job["id"])
    evaluation = _seed_evaluation(world, job["id"])
    world.ids = {
        "evaluation": evaluation,
        "picture": "pr_curves.svg",
        "ws": "ws-b",
        "ds": "secrets",
        "ref": str(version["number"]),
        "name": "gold",
        "job_id": job["id"],
        "sha256": sha(files["img/000.jpg"]),
        "path": "img/000.jpg",
        "username": "bob",
        "stream": "studio",
        "tag": "production",
    }
    spec = Api(world.server.url).ok("GET", "/v1/openapi.json")
    if any("/webhooks" in p for p in spec["paths"]):
        hook = bob.ok(
            "POST",
            base + "/webhooks",
            201,
            json={"url": f"http://{HOOK_HOST}:9/ahoy-api-tier", "events": ["version.created"]},
        )
        for key in ("hook_id", "webhook_id"):
            world.ids.setdefault(key, hook["id"])


def _seed_evaluation(world: World, job_id: str) -> str:
    """An evaluation of ws-b's model with its report and chart, so `{evaluation}`
    names something real that its owner can read.

    Running one needs a trained model and real images; what the API tier checks is
    who may see it, so the report's blobs are uploaded as bob and the rows written
    into the catalog directly (SQLite takes the second writer)."""
    import json
    import sqlite3

    empty = {"images": 0, "map50": None, "map75": None, "map50_95": None, "per_class": []}
    report = json.dumps({**empty, "confusion": {}, "errors": []}).encode()
    chart = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    for data in (report, chart):
        octets = {"Content-Type": "application/octet-stream"}
        world.bob.ok("PUT", f"/v1/workspaces/ws-b/blobs/{sha(data)}", data=data, headers=octets)
    evaluation_id = f"{job_id}.seeded"
    with sqlite3.connect(world.server.catalog, timeout=30) as db:
        (model_version,) = db.execute(
            "SELECT mv.id FROM model_versions mv JOIN models m ON m.id = mv.model_id"
            " WHERE m.workspace_id = 'ws-b' AND m.name = 'gold'"
        ).fetchone()
        (data_version,) = db.execute(
            "SELECT v.id FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id"
            " WHERE d.workspace_id = 'ws-b' AND d.slug = 'secrets'"
        ).fetchone()
        db.executemany(
            "INSERT INTO job_artifacts (job_id, name, sha256, size) VALUES (?, ?, ?, ?)",
            [
                (job_id, "seeded/evaluation.json", sha(report), len(report)),
                (job_id, "seeded/pr_curves.svg", sha(chart), len(chart)),
            ],
        )
        db.execute(
            "INSERT INTO evaluations (id, job_id, model_version_id, dataset_version_id, split,"
            " summary_json, settings_json, created_by, created_at)"
            " VALUES (?, ?, ?, ?, 'test', ?, ?, 'user:bob', 0)",
            (
                evaluation_id,
                job_id,
                model_version,
                data_version,
                json.dumps(empty),
                json.dumps({"artifacts": "seeded"}),
            ),
        )
    return evaluation_id


def _wait_for_job(api: Api, base: str, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.ok("GET", f"{base}/jobs/{job_id}")
        if job["state"] in ("succeeded", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # Every call comes from 127.0.0.1: the fuzzer's generated logins must not
    # throttle the logins of the tests after it (test_login_throttle.py tests that).
    server = Server(tmp_path_factory.mktemp("api-serve"), AHOY_LOGIN_FAILURES_PER_SOURCE="1000")
    server.start()
    try:
        yield _populate(server)
    finally:
        server.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Server]:
    """A private `ahoy serve` for a test that damages it. The audit chain lives in
    SQLite, so the local blob store does (weed would add ~25 s per start and stop)."""
    server = Server(tmp_path, blob_store="local")
    server.start()
    try:
        yield server
    finally:
        server.stop()
