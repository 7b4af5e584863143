"""The README's walk-through, run line by line against a real `ahoy serve`, so
the README cannot drift from what the CLI does.

Every line of the ```sh blocks under "## Walk-through" that is not a comment
runs in order, each in its own bash, in a folder holding the files the
walk-through assumes its reader has (``reader_files``), and must exit 0. The test
changes the lines only in these ways, and no others:

- the environment points the CLI at the test's appliance: ``AHOY_URL`` (the
  README's `make run` serves the default, 127.0.0.1:8470), ``AHOY_DATA_DIR`` and
  ``AHOY_CONFIG_DIR``; `ahoy` is the one of this virtual environment;
- a command that prompts for a password (``PROMPTS``) gets ``--password-stdin``
  and the password on stdin;
- the README's example ids (``CAPTURED``) are replaced by the real ids that the
  named command printed earlier in the run, as a reader would copy them;
- ``export NAME=value`` and ``unset NAME`` change the environment of the lines
  after them (as they would in the reader's shell);
- ``SKIPPED`` lists the lines that cannot run on every test box, with why; none
  is skipped where this box has what it needs.

The appliance runs with ``AHOY_WEBHOOK_ALLOW_PRIVATE`` set to the LAN the README's
webhook example names, as its text tells the reader to.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, PASSWORD, Appliance, free_port

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"

#: Commands that prompt for a password (hidden input) when run as the README shows.
PROMPTS = ("ahoy admin init", "ahoy login", "ahoy user create")

#: The README's example id → (the command that prints the real one, where in its output).
CAPTURED = {
    "3f2a9c0d1e2b4a5c": ("ahoy token create", r"^token ([0-9a-f]{16}) "),
    "9d1c2b3a4f5e6d7c": ("ahoy job submit box-benchmark", r"^job ([0-9a-f]{16}) "),
    "4f2a9c0d1e2b4a5c.pt": ("ahoy model evaluate", r"\[evaluation (\S+)\]"),
    "7b3e5d1c9a0f2e4d": ("ahoy webhook add", r"^webhook ([0-9a-f]{16}) "),
}


def _rknn_missing() -> str | None:
    from appliance.export import rknn

    s = rknn.status()
    return None if s["available"] else f"RKNN export: {s['reason']} (`{s['hint']}`)"


def _sandbox_missing() -> str | None:
    from appliance.sandbox import bwrap

    s = bwrap.status()
    return None if s["available"] else f"script mode: {s['reason']} ({s['hint']})"


#: Lines (by how they start) that cannot run on every test box, and a check that
#: says why not on this one (None: it runs here). Neither is GPU-only; the
#: walk-through has no GPU-only line.
SKIPPED = {
    # rknn-toolkit2 lives in .venv-rknn, which `make rknn` (part of `make test`) builds
    "ahoy model export signs@1 --format rknn": _rknn_missing,
    # bubblewrap with user namespaces; `make system-deps` installs it
    "ahoy train-script": _sandbox_missing,
}

SERVER_ENV = {"AHOY_WEBHOOK_ALLOW_PRIVATE": "10.0.5.0/24"}


#: The reader's train.py (the contract: docs/training.md, Script mode): Ultralytics
#: YOLO from its architecture, 1 epoch at 64 px.
TRAIN_SCRIPT = """\
import json, shutil
from ultralytics import YOLO

model = YOLO("yolo11n.yaml")
result = model.train(data="/data/data.yaml", epochs=1, imgsz=64, batch=8, workers=0,
                     device="cpu", project="/out", name="run", plots=False)
shutil.copy("/out/run/weights/best.pt", "/out/weights.pt")
with open("/out/metrics.json", "w") as fh:
    json.dump({k: float(v) for k, v in result.results_dict.items()}, fh)
"""


@dataclass(frozen=True)
class Line:
    number: int  # in README.md
    text: str

    def __str__(self) -> str:
        return f"README.md:{self.number}: {self.text}"


def walkthrough_lines(readme: str) -> list[Line]:
    """The command lines of the ```sh blocks of the Walk-through section, in order."""
    lines = readme.splitlines()
    start = lines.index("## Walk-through")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    found: list[Line] = []
    in_sh = False
    for i in range(start, end):
        text = lines[i].strip()
        if text.startswith("```"):
            in_sh = text == "```sh" if not in_sh else False
        elif in_sh and text and not text.startswith("#"):
            found.append(Line(i + 1, text))
    return found


LINES = walkthrough_lines(README.read_text())


def test_the_walkthrough_is_only_ahoy_commands_and_the_lists_here_are_current() -> None:
    """Each line is an `ahoy` command (maybe after a `cp ... &&`), or sets the
    environment; each example id and skipped line named here is in the README."""
    assert len(LINES) > 50, "the walk-through was not found in README.md"
    for line in LINES:
        ok = line.text.startswith(("ahoy ", "export AHOY_", "unset AHOY_")) or (
            " && ahoy " in line.text
        )
        assert ok, f"{line}: not an `ahoy` command; extend this test or the README"
    text = README.read_text()
    for example, (command, _) in CAPTURED.items():
        assert example in text, f"CAPTURED names {example}, which README.md no longer uses"
        assert any(x.text.startswith(command) for x in LINES), f"no `{command}` line"
    for start in SKIPPED:
        assert any(x.text.startswith(start) for x in LINES), f"SKIPPED: no `{start}` line"


@dataclass
class Walk:
    appliance: Appliance
    cwd: Path
    env: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)
    failed: Line | None = None


class _Bare(Appliance):
    """An appliance with no user yet: the walk-through creates the first admin."""

    def log_in(self) -> None:
        pass


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    app = _Bare(tmp_path_factory.mktemp("appliance") / "data", free_port())
    app.env.update(SERVER_ENV)
    cwd = tmp_path_factory.mktemp("reader")
    reader_files(cwd)
    env = {
        **app.env,
        "AHOY_URL": app.url,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    app.start()
    try:
        yield Walk(app, cwd, env)
    finally:
        if app.proc and app.proc.poll() is None:
            app.stop()


@pytest.mark.parametrize("line", LINES, ids=[f"L{x.number}" for x in LINES])
def test_readme_line(walk: Walk, line: Line) -> None:
    if walk.failed is not None:
        pytest.skip(f"not run: {walk.failed} failed before it")
    for start, missing in SKIPPED.items():
        if line.text.startswith(start) and (why := missing()):
            pytest.skip(why)
    walk.failed = line  # until it has passed
    text = line.text
    if m := re.fullmatch(r"export (AHOY_\w+)=(\S+)(\s+#.*)?", text):
        walk.env[m[1]] = m[2]
    elif m := re.fullmatch(r"unset (AHOY_\w+)(\s+#.*)?", text):
        walk.env.pop(m[1], None)
    else:
        _run(walk, line)
    walk.failed = None


def _run(walk: Walk, line: Line) -> None:
    text, stdin = line.text, None
    for example, real in walk.ids.items():
        text = text.replace(example, real)
    unknown = [e for e in CAPTURED if e in text]
    assert not unknown, f"{line}: no command before it printed the id for {unknown}"
    if text.startswith(PROMPTS):
        text = shlex.join([*shlex.split(text, comments=True), "--password-stdin"])
        stdin = PASSWORD + "\n"
    r = subprocess.run(
        ["bash", "-c", text],
        cwd=walk.cwd,
        env=walk.env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert r.returncode == 0, (
        f"{line}\nran: {text}\nexit {r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"
    )
    for example, (command, pattern) in CAPTURED.items():
        if example not in walk.ids and text.startswith(command):
            m = re.search(pattern, r.stdout, re.M)
            assert m, f"{line}: printed no id matching {pattern!r}:\n{r.stdout}"
            walk.ids[example] = m[1]


def reader_files(root: Path) -> None:
    """What the walk-through assumes its reader has in the current folder."""
    import cv2
    import numpy as np
    from PIL import Image

    from tests.integration.yolo_dataset import make_detect_dataset

    def photo(path: Path, shade: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (96, 64), (shade, 255 - shade, (shade * 7) % 256)).save(path)

    # ./photos: a folder of pictures, with the ones later lines name
    names = ["night/001.jpg", "night/002.jpg", "faces/p1.jpg", "blurry/a.jpg", "blurry/b.jpg"]
    names += [f"day/{i:03d}.jpg" for i in range(6)]
    for i, name in enumerate(names):
        photo(root / "photos" / name, 20 * i)
    for i in range(3):  # more/*.jpg: the "night shots" copied in later
        photo(root / "more" / f"n{i}.jpg", 200 + 15 * i)
    # clip.mp4: a short video
    writer = cv2.VideoWriter(str(root / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for i in range(25):
        writer.write(np.full((48, 64, 3), i * 9, np.uint8))
    writer.release()
    # ./coco8: a small YOLO detect folder (2 classes; enough images for every split)
    make_detect_dataset(root / "coco8", train=30, val=12)
    # ev.jsonl: label events from an annotation tool, on images of that folder
    box = {"type": "box", "class": 1, "box": [0.5, 0.5, 0.2, 0.2]}
    events = [
        {"id": "ev-1", "file": "train000.jpg", "op": "add", "objects": [box]},
        {"id": "ev-2", "file": "train001.jpg", "op": "add", "objects": [box]},
    ]
    (root / "ev.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    # doc.json and fixed.json: label documents, the second with what the reviewer asked
    doc = {"format": "ahoy.labels/1", "objects": [{**box, "class": 0}]}
    (root / "doc.json").write_text(json.dumps(doc))
    doc["objects"].append({**box, "box": [0.2, 0.3, 0.1, 0.1]})
    (root / "fixed.json").write_text(json.dumps(doc))
    # pretrained.pt: the registry keeps uploaded weights as they are (no line here
    # trains from them), so any bytes stand in for a checkpoint
    (root / "pretrained.pt").write_bytes(b"a checkpoint the reader brought\n")
    # train.py and requirements.txt: a real training script (docs/training.md, Script mode)
    (root / "train.py").write_text(TRAIN_SCRIPT)
    (root / "requirements.txt").write_text("ultralytics>=8.3\ntorch>=2\n")
