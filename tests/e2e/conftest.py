"""A real `ahoy serve` (real weed, real SQLite) and the real `ahoy` CLI."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from appliance.adapters.blobs.local import LocalBlobStore
from appliance.sdk import Client, ProfileStore
from appliance.settings import Settings
from tests.conftest import assert_no_server_tracebacks

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ADMIN = "admin"
PASSWORD = "e2e-admin-password"
#: Variables of the developer's shell that would point the CLI elsewhere.
_FOREIGN = ("AHOY_URL", "AHOY_TOKEN", "AHOY_PROFILE", "AHOY_WORKSPACE", "AHOY_CONFIG_DIR")


class Appliance:
    """A real `ahoy serve` on a free port, with a first admin logged in.

    ``ahoy`` runs the CLI with this appliance's data dir and a private config dir
    (where `ahoy login` keeps its profile); ``client`` is an SDK client with the
    same token."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.config_dir = data_dir.parent / "config"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in _FOREIGN},
            "AHOY_DATA_DIR": str(data_dir),
            "AHOY_PORT": str(port),
            "AHOY_BLOB_STORE": "seaweedfs",
            "AHOY_CONFIG_DIR": str(self.config_dir),
        }
        self.proc: subprocess.Popen[str] | None = None
        self.log = data_dir.parent / "serve.log"
        self.client: Client | None = None

    def start(self, timeout: float = 120) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [str(BIN / "ahoy"), "serve"],
            env=self.env,
            stdout=open(self.log, "a"),  # noqa: SIM115 (the child owns it)
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = "running" if self.env["AHOY_BLOB_STORE"] == "seaweedfs" else "not used"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"ahoy serve exited early:\n{self.log.read_text()}")
            try:
                if self.health()["weed"] == ready:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError(f"ahoy serve did not come up:\n{self.log.read_text()}")
        if self.client is None:
            self.log_in()

    def log_in(self) -> None:
        """`ahoy admin init` on the box, then `ahoy login` over HTTP, as a user would."""
        stdin = PASSWORD + "\n"
        self.ahoy("admin", "init", "--username", ADMIN, "--password-stdin", stdin=stdin)
        self.ahoy("login", "--url", self.url, "--username", ADMIN, "--password-stdin", stdin=stdin)
        profile = ProfileStore(self.config_dir).get()
        assert profile is not None and profile.token, "ahoy login saved no token"
        self.client = Client(profile.url, profile.token, workspace="default")

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
            return json.loads(r.read())

    def stop(self, timeout: float = 90) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        assert_no_server_tracebacks(self.log)
        return code

    def kill(self) -> None:
        """kill -9 of `ahoy serve` and its job worker, as a power cut would."""
        assert self.proc is not None
        children = psutil.Process(self.proc.pid).children(recursive=True)
        self.proc.kill()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        self.proc.wait()
        psutil.wait_procs(children, timeout=10)

    def stored_blobs(self, ws: str = "default") -> set[str]:
        """The digests the local blob store holds (reaching behind the API), each blob
        read back and checked against its digest on the way."""
        store = LocalBlobStore(Settings(data_dir=self.data_dir).blob_dir)
        return {sha for sha, _ in store.read_many(ws, [b.sha256 for b in store.list_blobs(ws)])}

    def ahoy(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(BIN / "ahoy"), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"ahoy {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def ahoy_json(self, *args: str) -> Any:
        return json.loads(self.ahoy(*args, "--json").stdout)


@contextlib.contextmanager
def running_appliance(
    tmp_path_factory: pytest.TempPathFactory, env: dict[str, str] | None = None
) -> Iterator[Appliance]:
    """A started appliance with its admin logged in; stopped (and its client closed)
    afterwards. ``env`` adds to (or overrides) the environment `ahoy serve` gets."""
    app = Appliance(tmp_path_factory.mktemp("appliance") / "data", free_port())
    app.env.update(env or {})
    app.start()
    try:
        yield app
    finally:
        if app.client is not None:
            app.client.close()
        if app.proc and app.proc.poll() is None:
            app.stop()


@pytest.fixture(scope="module")
def appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    with running_appliance(tmp_path_factory) as app:
        yield app


#: `ahoy serve` on the local blob store: it starts in seconds where weed takes ~25 s
#: to start and stop, for modules that restart their appliance or look into its store.
LOCAL_STORE = {"AHOY_BLOB_STORE": "local"}


@pytest.fixture(scope="module")
def local_appliance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    with running_appliance(tmp_path_factory, LOCAL_STORE) as app:
        yield app


def commit_shapes(
    appliance: Appliance,
    root: Path,
    *,
    train: int,
    val: int,
    name: str = "shapes",
    split: str | None = "train=0.6,val=0.2,test=0.2",
) -> str:
    """Generated shapes (tests/integration/yolo_dataset) imported into dataset
    ``name`` and committed as its version 1, by default with a test split."""
    from tests.integration.yolo_dataset import make_detect_dataset

    make_detect_dataset(root, train=train, val=val)
    appliance.ahoy("dataset", "create", name, *(["--split", split] if split else []))
    appliance.ahoy("dataset", "import-yolo", str(root), "-d", name)
    appliance.ahoy("dataset", "commit", name, "-m", "generated shapes")
    return name


def client(appliance: Appliance) -> Any:
    """The appliance's logged-in SDK client."""
    assert appliance.client is not None
    return appliance.client
