"""Script mode end to end, through a real `ahoy serve`: a user's training script
trains and registers a model with its lineage; hostile scripts are contained.

Each hostile script writes what it managed into /out/report.json (kept as an
artifact of its job, even though the job fails: it leaves no weights) and the test
checks it got nothing. Skipped, with the reason, where this box cannot make the
sandbox.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from appliance.sandbox import bwrap
from appliance.sdk import ApiError
from appliance.sdk.training import Run
from tests.e2e.conftest import Appliance
from tests.integration.sandbox_scripts import PRELUDE
from tests.integration.yolo_dataset import make_detect_dataset

pytestmark = pytest.mark.e2e


_STATUS = bwrap.status()
_WHY = None if _STATUS["available"] else f"{_STATUS['reason']} ({_STATUS['hint']})"
if _WHY is not None:
    pytestmark = [pytest.mark.e2e, pytest.mark.skip(reason=_WHY)]

#: a real training script: Ultralytics YOLO, one epoch at 64 px, on /data
YOLO_SCRIPT = """
import json, shutil
from ultralytics import YOLO

params = json.load(open("/job/params.json"))
model = YOLO("yolo11n.yaml")

def on_epoch(trainer):
    if trainer.epoch < trainer.epochs:  # not the extra evaluation at the end
        m = {k: float(v) for k, v in (trainer.metrics or {}).items()}
        print("@ahoy " + json.dumps(
            {"kind": "epoch", "epoch": trainer.epoch + 1, "epochs": trainer.epochs, **m}))

model.add_callback("on_fit_epoch_end", on_epoch)
result = model.train(data="/data/data.yaml", epochs=params["epochs"], imgsz=64, batch=8,
                     workers=0, device="cpu", project="/out", name="run", plots=False)
shutil.copy("/out/run/weights/best.pt", "/out/weights.pt")
with open("/out/metrics.json", "w") as fh:
    json.dump({k: float(v) for k, v in result.results_dict.items()}, fh)
"""


@pytest.fixture(scope="module")
def shapes(appliance: Appliance, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("shapes")
    make_detect_dataset(root, train=16, val=4)
    appliance.ahoy("dataset", "create", "scripted")
    appliance.ahoy("dataset", "import-yolo", str(root), "-d", "scripted")
    appliance.ahoy("dataset", "commit", "scripted", "-m", "generated shapes")
    return "scripted"


def _submit(
    appliance: Appliance, tmp_path: Path, body: str, *, hostile: bool = True, **kw: Any
) -> Run:
    script = tmp_path / "train.py"
    script.write_text((PRELUDE if hostile else "") + textwrap.dedent(body))
    assert appliance.client is not None
    return appliance.client.train_script("scripted", script, **kw)


def _finish(run: Run, timeout: float = 120) -> dict[str, Any]:
    job = run.wait(timeout=timeout)
    assert job["state"] in ("succeeded", "failed", "cancelled"), job
    return dict(job)


def _report(appliance: Appliance, run: Run) -> dict[str, Any]:
    c = appliance.client
    assert c is not None
    found = {a["name"]: a for a in c.job_artifacts(run.id)}
    assert "report.json" in found, f"the script left no report: {found}"
    return json.loads(c.get_blob(None, found["report.json"]["sha256"]))


def _sandboxed(scripts_only: bool = False) -> list[int]:
    """Processes of a sandbox still running: bwrap, and the scripts (their launcher's
    command line), or only the scripts."""
    alive = []
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        cmd = p.info["cmdline"] or []
        if p.info["status"] == psutil.STATUS_ZOMBIE or "/job/launch.py" not in cmd:
            continue
        if not scripts_only or cmd[1:2] == ["/job/launch.py"]:
            alive.append(p.info["pid"])
    return alive


def test_a_script_trains_a_model_and_registers_it_with_its_lineage(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    c = appliance.client
    assert c is not None
    (tmp_path / "requirements.txt").write_text("ultralytics>=8.3\ntorch>=2\nnumpy\n")
    run = _submit(
        appliance,
        tmp_path,
        YOLO_SCRIPT,
        hostile=False,
        requirements=tmp_path / "requirements.txt",
        name="scripted-detector",
        cpu_cores=2,
        params={"epochs": 2},
    )
    epochs = list(run.metrics())
    job = _finish(run)
    assert job["state"] == "succeeded", job
    assert [m["epoch"] for m in epochs] == [1, 2] and "metrics/mAP50(B)" in epochs[0]
    assert job["params"]["version"] == "1" and job["request"]["cpu_cores"] == 2
    artifacts = {a["name"]: a for a in c.job_artifacts(run.id)}
    assert {"weights.pt", "metrics.json", "script/train.py", "run/weights/best.pt"} <= set(
        artifacts
    )
    lineage = run.model()
    script_sha = hashlib.sha256((tmp_path / "train.py").read_bytes()).hexdigest()
    assert lineage["code"]["script_sha256"] == script_sha
    assert artifacts["script/train.py"]["sha256"] == script_sha  # the code is kept with the run
    assert (
        lineage["code"]["requirements_sha256"]
        == hashlib.sha256((tmp_path / "requirements.txt").read_bytes()).hexdigest()
    )
    assert lineage["code"]["sandbox"].startswith("bubblewrap ")
    assert set(lineage["code"]["libraries"]) == {"ultralytics", "torch", "numpy"}
    assert lineage["data"]["dataset"] == shapes and lineage["data"]["number"] == 1
    assert lineage["data"]["manifest_hash"] == c.get_version(None, shapes, "1")["manifest_hash"]
    assert lineage["run"]["id"] == run.id
    assert lineage["model"]["weights_sha256"] == artifacts["weights.pt"]["sha256"]
    assert "metrics/mAP50(B)" in lineage["model"]["metrics"]
    assert lineage["config"]["params"] == {"epochs": 2}
    log = [e["data"]["line"] for e in c.job_log(run.id, kind="log")]
    assert any("no network" in line for line in log)  # the limits it ran under
    assert any("Starting training" in line for line in log)  # its output, as it ran
    assert not _sandboxed()


def test_the_cli_submits_a_script_and_follows_it(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    """`ahoy train-script ... --wait`: a script with no ML at all keeps the contract
    (best.pt is accepted for weights.pt); params arrive as /job/params.json."""
    script = tmp_path / "tiny.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, os
            params = json.load(open("/job/params.json"))
            images = os.listdir("/data/images/train")
            print("@ahoy " + json.dumps({"kind": "progress", "done": 1, "total": 1}))
            open("/out/best.pt", "wb").write(b"not really weights")
            json.dump({"images": len(images), "lr": params["lr"]}, open("/out/metrics.json", "w"))
            """
        )
    )
    (tmp_path / "requirements.txt").write_text("numpy\n")
    result = appliance.ahoy_json(
        "train-script",
        shapes,
        str(script),
        "--requirements",
        str(tmp_path / "requirements.txt"),
        "--name",
        "tiny-script",
        "--ram-gib",
        "1",
        "-p",
        "lr=0.01",
        "--wait",
    )
    assert result["model"] == "tiny-script" and result["model_version"] == 1
    assert result["metrics"] == {"images": 16, "lr": 0.01}
    assert "best.pt" in result["artifacts"] and "script/requirements.txt" in result["artifacts"]
    models = appliance.ahoy_json("model", "show", "tiny-script")
    assert models["versions"][0]["source"] == "run"


def test_the_appliance_data_dir_is_out_of_reach(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    data = appliance.data_dir.resolve()
    run = _submit(
        appliance,
        tmp_path,
        f"""
        data = {str(data)!r}
        report(
            listing=attempt(lambda: os.listdir(data)),
            catalog=attempt(lambda: open(data + "/catalog.sqlite", "rb").read(16)),
            queue=attempt(lambda: open(data + "/queue.sqlite", "rb").read(16)),
            worker_log=attempt(lambda: open(data + "/logs/worker.log").read()),
            cache=attempt(lambda: os.listdir(data + "/cache/jobs")),
            mounts=open("/proc/self/mounts").read(),
        )
        """,
    )
    job = _finish(run)
    assert job["state"] == "failed" and job["error"]["code"] == "script-contract-broken"
    found = _report(appliance, run)
    for key in ("listing", "catalog", "queue", "worker_log", "cache"):
        assert found[key] == "FileNotFoundError", (key, found[key])
    assert str(data) not in found["mounts"]  # not even its path shows


def test_tokens_and_root_are_out_of_reach(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    """`ahoy login`'s profile (a live admin token), the host's /root, and the
    appliance's own process (its environment, its files) through /proc."""
    profiles = appliance.config_dir.resolve() / "profiles.json"
    assert profiles.exists()
    run = _submit(
        appliance,
        tmp_path,
        f"""
        report(
            profiles=attempt(lambda: open({str(profiles)!r}).read()),
            root=attempt(lambda: sorted(os.listdir("/root"))),
            bashrc=attempt(lambda: open("/root/.bashrc").read()),
            proc=sorted(p for p in os.listdir("/proc") if p.isdigit()),
            init_env=attempt(lambda: open("/proc/1/environ").read()),
            env=dict(os.environ),
        )
        """,
    )
    _finish(run)
    found = _report(appliance, run)
    assert found["profiles"] == "FileNotFoundError"
    assert found["root"] in ("FileNotFoundError", "ok: []", "ok: ['.pyenv']"), found["root"]
    assert found["bashrc"] == "FileNotFoundError"
    assert found["proc"] == ["1", "2"]  # bwrap's init and the script, nothing of the host
    assert found["init_env"] in ("PermissionError", "ok: ''")  # bwrap's, empty when not root
    assert not any(k.startswith("AHOY_") and k not in _CONTRACT_ENV for k in found["env"])
    assert found["env"]["HOME"] == "/tmp" and found["env"]["YOLO_OFFLINE"] == "1"


_CONTRACT_ENV = {"AHOY_DATA", "AHOY_OUT", "AHOY_PARAMS", "AHOY_THREADS"}


def test_no_connection_leaves_the_sandbox(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    run = _submit(
        appliance,
        tmp_path,
        f"""
        import socket, urllib.request
        def connect(addr):
            with socket.create_connection(addr, timeout=3):
                return "connected"
        report(
            appliance=attempt(lambda: connect(("127.0.0.1", {appliance.port}))),
            api=attempt(lambda: urllib.request.urlopen({appliance.url + "/healthz"!r}, timeout=3)),
            internet=attempt(lambda: connect(("1.1.1.1", 53))),
            dns=attempt(lambda: socket.getaddrinfo("pypi.org", 443)),
        )
        """,
    )
    _finish(run)
    found = _report(appliance, run)
    assert found["appliance"] == "ConnectionRefusedError"  # its own, empty loopback
    assert found["api"] == "URLError"
    assert found["internet"] == "OSError"  # network is unreachable
    assert found["dns"] == "gaierror"


def test_writes_outside_out_go_nowhere(appliance: Appliance, shapes: str, tmp_path: Path) -> None:
    host_tmp = tmp_path / "host-tmp"
    host_tmp.mkdir()
    run = _submit(
        appliance,
        tmp_path,
        f"""
        def write(path):
            with open(path, "w") as fh:
                fh.write("x")
        report(
            dataset=attempt(lambda: write("/data/data.yaml")),
            dataset_new=attempt(lambda: write("/data/images/evil.jpg")),
            script=attempt(lambda: write("/job/train.py")),
            data_dir=attempt(lambda: write({str(appliance.data_dir.resolve() / "evil")!r})),
            host_tmp=attempt(lambda: write({str(host_tmp / "evil")!r})),
            venv=attempt(lambda: write(sys.prefix + "/evil.pth")),
            private_tmp=attempt(lambda: write("/tmp/fine")),
        )
        """,
    )
    _finish(run)
    found = _report(appliance, run)
    assert found["dataset"] == found["dataset_new"] == found["script"] == "OSError"  # read-only
    assert found["venv"] == "OSError"
    for key in ("data_dir", "host_tmp"):  # /tmp is its own tmpfs; / is read-only
        assert found[key] in ("FileNotFoundError", "OSError"), (key, found[key])
    assert found["private_tmp"].startswith("ok")  # its own tmpfs, gone with it
    assert not (appliance.data_dir / "evil").exists() and not list(host_tmp.iterdir())


def test_memory_past_the_limit_fails_the_job_naming_it(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    run = _submit(
        appliance,
        tmp_path,
        "report(started=True)\nhog = bytearray(2 << 30)\n",
        ram_bytes=512 << 20,
    )
    job = _finish(run)
    assert job["state"] == "failed" and job["error"]["code"] == "script-failed"
    assert "the memory limit (512 MiB)" in job["error"]["detail"]
    assert "ram_bytes" in job["error"]["hint"]


def test_time_past_the_limit_fails_the_job_naming_it(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    run = _submit(
        appliance,
        tmp_path,
        "import time\nreport(started=True)\ntime.sleep(60)\n",
        timeout_s=2,
    )
    job = _finish(run)
    assert job["state"] == "failed" and "the time limit (2 s)" in job["error"]["detail"]
    assert job["finished_at"] - job["started_at"] < 20
    assert _report(appliance, run) == {"started": True}
    assert not _sandboxed()


def test_a_fork_bomb_is_contained(appliance: Appliance, shapes: str, tmp_path: Path) -> None:
    """Every process forks for ever: the process limit caps them, the appliance
    keeps answering, the time limit ends it, and nothing is left running."""
    run = _submit(
        appliance,
        tmp_path,
        """
        import time
        report(started=True)
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(0.01)
        """,
        timeout_s=4,
    )
    answers: list[float] = []
    peak = [0]

    def watch() -> None:
        while run.job()["state"] in ("queued", "running"):
            t = time.monotonic()
            with urllib.request.urlopen(appliance.url + "/healthz", timeout=5):
                answers.append(time.monotonic() - t)
            peak[0] = max(peak[0], len(_sandboxed(scripts_only=True)))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    job = _finish(run)
    watcher.join(timeout=30)
    assert job["state"] == "failed" and "the time limit (4 s)" in job["error"]["detail"]
    assert answers and max(answers) < 2.0  # the appliance answered throughout
    assert 1 < peak[0] <= 256  # forks happened, and stopped at the process limit
    assert not _sandboxed()


def test_cancel_kills_the_sandbox(appliance: Appliance, shapes: str, tmp_path: Path) -> None:
    c = appliance.client
    assert c is not None
    run = _submit(appliance, tmp_path, "import subprocess\nsubprocess.run(['sleep', '120'])\n")
    deadline = time.monotonic() + 30
    while not _sandboxed() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sandboxed()
    c.cancel_job(run.id)
    job = _finish(run, timeout=30)
    assert job["state"] == "cancelled"
    assert not _sandboxed()


def test_unmet_requirements_are_refused_at_submission(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    (tmp_path / "requirements.txt").write_text("numpy>=9999\nno-such-package-ahoy\ntorch\n")
    with pytest.raises(ApiError) as refused:
        _submit(appliance, tmp_path, "pass\n", requirements=tmp_path / "requirements.txt")
    assert refused.value.status == 422 and refused.value.code == "requirements-not-met"
    assert "numpy>=9999 (installed: " in refused.value.detail
    assert "no-such-package-ahoy (not installed)" in refused.value.detail
    assert "torch" not in refused.value.detail.replace("no-such", "")  # met: not named
    with pytest.raises(ApiError) as syntax:
        _submit(appliance, tmp_path, "def broken(:\n")
    assert syntax.value.status == 422 and "not valid Python (line" in syntax.value.detail


def test_a_link_to_a_host_file_is_not_taken_for_weights(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    """The script cannot read the catalog; nor can it make the appliance read it
    for it by leaving a symbolic link where the weights should be."""
    catalog = appliance.data_dir.resolve() / "catalog.sqlite"
    run = _submit(
        appliance,
        tmp_path,
        f"""
        os.symlink({str(catalog)!r}, "/out/weights.pt")
        os.symlink({str(catalog.parent)!r}, "/out/data-dir")
        with open("/out/metrics.json", "w") as fh:
            json.dump({{"map50": 1.0}}, fh)
        """,
    )
    job = _finish(run)
    assert job["state"] == "failed" and job["error"]["code"] == "script-contract-broken"
    assert "/out/weights.pt is not a regular file" in job["error"]["detail"]
    c = appliance.client
    assert c is not None
    names = {a["name"] for a in c.job_artifacts(run.id)}
    assert names == {"metrics.json", "script/train.py"}


def test_a_script_cannot_overwrite_the_stored_copy_of_its_code(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    """The code kept with a run is the appliance's copy of what was submitted: a
    script that writes /out/script/train.py (or requirements.txt) does not replace
    it; those outputs are refused, said in the log, and the hash matches lineage."""
    (tmp_path / "requirements.txt").write_text("numpy\n")
    run = _submit(
        appliance,
        tmp_path,
        """
        os.makedirs("/out/script", exist_ok=True)
        with open("/out/script/train.py", "w") as fh:
            fh.write("print('an innocent script, honest')\\n")
        with open("/out/script/requirements.txt", "w") as fh:
            fh.write("nothing-to-see\\n")
        with open("/out/weights.pt", "wb") as fh:
            fh.write(b"not really weights")
        with open("/out/metrics.json", "w") as fh:
            json.dump({"map50": 0.5}, fh)
        """,
        requirements=tmp_path / "requirements.txt",
        name="honest-code",
    )
    job = _finish(run)
    assert job["state"] == "succeeded", job
    c = appliance.client
    assert c is not None
    submitted = hashlib.sha256((tmp_path / "train.py").read_bytes()).hexdigest()
    artifacts = {a["name"]: a for a in c.job_artifacts(run.id)}
    assert artifacts["script/train.py"]["sha256"] == submitted
    assert run.model()["code"]["script_sha256"] == submitted
    assert c.get_blob(None, submitted) == (tmp_path / "train.py").read_bytes()
    wanted = hashlib.sha256((tmp_path / "requirements.txt").read_bytes()).hexdigest()
    assert artifacts["script/requirements.txt"]["sha256"] == wanted
    refused = {r["name"] for r in job["result"]["refused_outputs"]}
    assert refused == {"'/out/script/train.py'", "'/out/script/requirements.txt'"}
    log = [e["data"]["line"] for e in c.job_log(run.id, kind="log")]
    assert any("not kept: '/out/script/train.py'" in line for line in log), log


def test_outputs_named_with_characters_that_do_not_show_are_refused(
    appliance: Appliance, shapes: str, tmp_path: Path
) -> None:
    """U+202E would show ``evil\u202egnp.pt`` as ``evilpt.png``; U+200B and a
    newline make one name pass for another. None is stored under such a name."""
    run = _submit(
        appliance,
        tmp_path,
        """
        for name in ("evil\\u202egnp.pt", "zero\\u200bwidth.txt", "new\\nline.txt", "fine.txt"):
            with open(os.path.join("/out", name), "w") as fh:
                fh.write(name)
        with open("/out/weights.pt", "wb") as fh:
            fh.write(b"not really weights")
        with open("/out/metrics.json", "w") as fh:
            json.dump({"map50": 0.5}, fh)
        """,
        name="odd-names",
    )
    job = _finish(run)
    assert job["state"] == "succeeded", job
    c = appliance.client
    assert c is not None
    names = {a["name"] for a in c.job_artifacts(run.id)}
    assert names == {"fine.txt", "weights.pt", "metrics.json", "script/train.py"}
    refused = {r["name"]: r["reason"] for r in job["result"]["refused_outputs"]}
    assert set(refused) == {
        "'/out/evil\\u202egnp.pt'",
        "'/out/zero\\u200bwidth.txt'",
        "'/out/new\\nline.txt'",
    }
    assert "U+202E" in refused["'/out/evil\\u202egnp.pt'"]
    assert "U+200B" in refused["'/out/zero\\u200bwidth.txt'"]
    log = [e["data"]["line"] for e in c.job_log(run.id, kind="log")]
    assert sum("not kept: " in line for line in log) == 3
    assert not any("\u202e" in line or "\u200b" in line for line in log)
