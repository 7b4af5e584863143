"""Datasets for the studio and review tests, made through the SDK and the HTTP API:
unlabelled generated images (one in a folder, one with a space in its name),
committed once so a later commit has a parent to diff against."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from PIL import Image, ImageDraw

from appliance.sdk import Client

WS = "default"
CLASSES = [
    {"id": 0, "name": "cat", "colour": "#e6194b"},
    {"id": 1, "name": "dog", "colour": "#3cb44b"},
    {"id": 2, "name": "bird", "colour": "#4363d8"},
]
#: In path order, which is the queue's order.
IMAGES = ["cam/a 00.png", "cam/a 01.png", "cam/a 02.png", "cam/a 03.png"]
SIZE = (640, 480)


@dataclass(frozen=True)
class Dataset:
    ws: str
    name: str
    images: tuple[str, ...]


def _image(path: Path, i: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.new("RGB", SIZE, (40 + 30 * i, 80, 140))
    draw = ImageDraw.Draw(im)
    draw.ellipse([120 + 20 * i, 100, 300 + 20 * i, 280], fill=(240, 200, 60))
    draw.rectangle([400, 260, 560, 420], fill=(60, 200, 120))
    im.save(path)


def seed_unlabelled(client: Client, tmp: Path, name: str) -> Dataset:
    """A dataset of unlabelled images with three classes, committed as v1."""
    root = tmp / name
    for i, image in enumerate(IMAGES):
        _image(root / image, i)
    client.create_dataset(WS, name, "studio test images")
    client.set_schema(WS, name, classes=CLASSES)
    client.upload_tree(WS, name, root)
    client.commit(WS, name, "unlabelled images")
    return Dataset(WS, name, tuple(IMAGES))


class Annotations:
    """The annotation endpoints, called directly (to seed or check what the browser did)."""

    def __init__(self, client: Client, dataset: Dataset) -> None:
        self.base = f"{client.base_url}/v1/workspaces/{dataset.ws}/datasets/{dataset.name}"
        self.headers = {"Authorization": f"Bearer {client.token}"}

    def _call(self, method: str, url: str, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        answer = requests.request(method, url, headers=headers, timeout=30, **kw)
        assert answer.status_code < 300, f"{method} {url}: {answer.status_code} {answer.text}"
        return answer.json()

    def item(self, path: str) -> dict[str, Any]:
        return dict(self._call("GET", f"{self.base}/items/{quote(path)}"))

    def save(self, path: str, document: dict[str, Any], if_match: str | None) -> dict[str, Any]:
        tag = f'"{if_match or "none"}"'
        url = f"{self.base}/labels/{quote(path)}"
        return dict(self._call("PUT", url, json=document, headers={"If-Match": tag}))

    def submit(self, path: str) -> dict[str, Any]:
        return dict(self._call("POST", f"{self.base}/submit/{quote(path)}", json={}))

    def review(self, path: str, decision: str, comment: str = "") -> dict[str, Any]:
        body = {"decision": decision, "comment": comment}
        return dict(self._call("POST", f"{self.base}/review/{quote(path)}", json=body))

    def set_skeleton(self, cls: int, keypoints: list[str]) -> None:
        skeleton = {"class": cls, "keypoints": keypoints, "edges": [[0, 1], [1, 2]]}
        body = {"classes": CLASSES, "skeletons": [skeleton]}
        self._call("PUT", f"{self.base}/schema", json=body)

    def diff(self, a: int, b: int) -> dict[str, Any]:
        params = {"from": a, "to": b, "labels": "true"}
        return dict(self._call("GET", f"{self.base}/diff", params=params))


def many_boxes(n: int, cls: int = 0) -> dict[str, Any]:
    """``n`` small boxes on a grid, with ids, as a label document."""
    side = int(n**0.5) + 1
    objects = []
    for i in range(n):
        row, col = divmod(i, side)
        objects.append(
            {
                "type": "box",
                "class": cls,
                "id": f"box-{i:04d}",
                "box": [(col + 0.5) / side, (row + 0.5) / side, 0.6 / side, 0.6 / side],
            }
        )
    return {"format": "ahoy.labels/1", "size": list(SIZE), "tags": [], "objects": objects}
