"""A blob whose bytes went missing behind the appliance's back is answered with a
problem document before the download starts (404 gone, 503 store unavailable),
never with a 200 and a full Content-Length that is then cut off."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.api.conftest import Api, Server, set_up_admin, sha

pytestmark = pytest.mark.api

WS = "ws-lost"
IMAGE = b"an image whose bytes will be lost " * 400


def _committed(server: Server) -> Api:
    admin = set_up_admin(server)
    base = f"/v1/workspaces/{WS}"
    admin.ok("POST", "/v1/workspaces", 201, json={"id": WS})
    admin.ok("POST", base + "/datasets", 201, json={"name": "d"})
    octets = {"Content-Type": "application/octet-stream"}
    admin.ok("PUT", f"{base}/blobs/{sha(IMAGE)}", data=IMAGE, headers=octets)
    staged = [{"name": "a/img.jpg", "sha256": sha(IMAGE), "size": len(IMAGE)}]
    admin.ok("POST", base + "/datasets/d/working/files", json={"files": staged})
    admin.ok("POST", base + "/datasets/d/versions", 201, json={"message": "one"})
    return admin


def _blob_file(server: Server, digest: str) -> Path:
    return server.data_dir / "blobs" / WS / digest[:2] / digest[2:]


DOWNLOADS = {
    "blob": f"/v1/workspaces/{WS}/blobs/{sha(IMAGE)}",
    "version file": f"/v1/workspaces/{WS}/datasets/d/versions/1/files/a/img.jpg",
    "version archive": f"/v1/workspaces/{WS}/datasets/d/versions/1/archive",
}


def test_downloads_of_a_blob_gone_from_the_store_answer_404_problems(own_server: Server):
    admin = _committed(own_server)
    for what, path in DOWNLOADS.items():
        whole = admin.get(path)
        assert whole.status_code == 200, (what, whole.text)
    blob = _blob_file(own_server, sha(IMAGE))
    assert blob.read_bytes() == IMAGE
    blob.unlink()
    for what, path in DOWNLOADS.items():
        r = admin.get(path)
        assert r.status_code == 404, (what, r.status_code, r.headers)
        assert r.headers["content-type"].startswith("application/problem+json"), what
        problem = r.json()
        assert problem["type"] == "urn:ahoy:problem:blob-missing", what
        assert sha(IMAGE) in problem["detail"], what
        assert "ahoy gc --verify" in problem["hint"]


def test_downloads_from_a_store_that_cannot_be_read_answer_503_problems(own_server: Server):
    admin = _committed(own_server)
    folder = _blob_file(own_server, sha(IMAGE)).parent
    shutil.rmtree(folder)
    folder.write_bytes(b"not a folder")  # every read under it now fails (ENOTDIR)
    for what, path in DOWNLOADS.items():
        r = admin.get(path)
        assert r.status_code == 503, (what, r.status_code, r.headers)
        assert r.json()["type"] == "urn:ahoy:problem:blob-store-unavailable", what
