"""A labelled YOLO dataset through the API, in process: uploaded with its label
documents, committed, exported as YOLO again, and compared file by file."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tarfile
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from appliance.bootstrap import open_services
from appliance.domain.labels.yolo import YoloSpec, parse_yolo
from appliance.services import accounts
from appliance.settings import Settings
from appliance.web.app import create_app

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
DS = "/v1/workspaces/default/datasets/yolo"
NAMES = ["car", "truck", "person"]
SPEC = YoloSpec("segment", len(NAMES))


def _yolo_set(n: int) -> dict[str, tuple[bytes, str]]:
    """name -> (image bytes, label text), some with polygons, one without labels."""
    out = {}
    for i in range(n):
        lines = [f"{i % 3} 0.{i + 1}5 0.5 0.1 0.2"]
        if i % 2:
            lines.append(f"{(i + 1) % 3} 0.1 0.1 0.9 0.1 0.5 0.{i + 2}")
        out[f"img{i:02d}.jpg"] = (os.urandom(2000 + i), "\n".join(lines) + "\n" if i else "")
    return out


def _tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_yolo_in_store_out_is_lossless_file_by_file(local_settings: Settings):
    source = _yolo_set(8)

    async def main() -> dict[str, Any]:
        async with open_services(local_settings) as ctx:
            await accounts.init_admin(ctx, "admin", PASSWORD)
            app = create_app(ctx, lambda: {"status": "ok"})
            async with AsyncTestClient(app) as client:
                login = {"username": "admin", "password": PASSWORD}
                token = (await client.post("/v1/sessions", json=login)).json()["token"]
                auth = {"Authorization": f"Bearer {token}"}
                return await _round_trip(client, auth, source)

    result = asyncio.run(main())
    exported, stats = result["files"], result["stats"]
    data_yaml = exported.pop("data.yaml").decode()
    assert all(f'  {i}: "{n}"' in data_yaml for i, n in enumerate(NAMES))
    images = {k.split("/", 2)[2]: v for k, v in exported.items() if k.startswith("images/")}
    labels = {k.split("/", 2)[2]: v for k, v in exported.items() if k.startswith("labels/")}
    assert images == {name: img for name, (img, _) in source.items()}
    for name, (_, text) in source.items():
        stem = name.rsplit(".", 1)[0] + ".txt"
        if not text:
            assert stem not in labels
            continue
        assert labels[stem].decode() == text, name
        ours, _ = parse_yolo(labels[stem].decode(), SPEC, stem)
        theirs, _ = parse_yolo(text, SPEC, stem)
        assert ours == theirs
    assert stats["images"] == 8 and stats["unlabelled_images"] == 1
    assert sum(c["objects"] for c in stats["per_class"]) == 7 + 4  # img00 has no labels
    assert {c["name"] for c in stats["per_class"]} == set(NAMES)


async def _round_trip(
    client: AsyncTestClient[Any], auth: dict[str, str], source: dict[str, tuple[bytes, str]]
) -> dict[str, Any]:
    r = await client.post("/v1/workspaces/default/datasets", json={"name": "yolo"}, headers=auth)
    assert r.status_code == 201, r.text
    classes = [{"id": i, "name": n} for i, n in enumerate(NAMES)]
    r = await client.put(DS + "/schema", json={"classes": classes}, headers=auth)
    assert r.status_code == 200, r.text
    blobs: dict[str, bytes] = {}
    rows = []
    for name, (image, text) in source.items():
        blobs[_sha(image)] = image
        row: dict[str, Any] = {"name": name, "sha256": _sha(image), "size": len(image)}
        if text:
            doc, problems = parse_yolo(text, SPEC, name)
            assert not problems
            label = doc.to_bytes()
            blobs[_sha(label)] = label
            row |= {"label_sha256": _sha(label), "label_size": len(label)}
        rows.append(row)
    tar_headers = {**auth, "Content-Type": "application/x-tar"}
    r = await client.post("/v1/workspaces/default/blobs", content=_tar(blobs), headers=tar_headers)
    assert r.status_code == 200, r.text
    r = await client.post(DS + "/working/files", json={"files": rows}, headers=auth)
    assert r.status_code == 200, r.text
    r = await client.post(DS + "/versions", json={"message": "labelled"}, headers=auth)
    assert r.status_code == 201, r.text
    r = await client.get(DS + "/versions/1/export?format=yolo&task=segment", headers=auth)
    assert r.status_code == 200, r.text
    with tarfile.open(fileobj=io.BytesIO(r.content)) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    stats = (await client.get(DS + "/versions/1/stats", headers=auth)).json()
    return {"files": files, "stats": stats}


def test_bad_schema_and_unknown_preset_are_refused(local_settings: Settings):
    async def main() -> list[int]:
        async with open_services(local_settings) as ctx:
            await accounts.init_admin(ctx, "admin", PASSWORD)
            app = create_app(ctx, lambda: {"status": "ok"})
            async with AsyncTestClient(app) as client:
                login = {"username": "admin", "password": PASSWORD}
                token = (await client.post("/v1/sessions", json=login)).json()["token"]
                auth = {"Authorization": f"Bearer {token}"}
                await client.post(
                    "/v1/workspaces/default/datasets", json={"name": "yolo"}, headers=auth
                )
                out = []
                for body in ({"preset": "nope"}, {"classes": [{"id": "x"}]}, {}):
                    out.append(
                        (await client.put(DS + "/schema", json=body, headers=auth)).status_code
                    )
                r = await client.put(DS + "/schema", json={"preset": "weather-17x3"}, headers=auth)
                out.append(len(r.json()["classes"]))
                return out

    assert asyncio.run(main()) == [422, 422, 422, 80]
