"""A video into a dataset as frames: every Nth frame becomes a JPEG file, and its
label document records where it came from (source name and sha256, frame index,
timestamp in seconds), so a frame can always be traced to its video."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.domain.labels.document import LabelDocument
from appliance.errors import ImportRejected, InvalidInput
from appliance.ingest.scan import scan_tree
from appliance.progress import NoProgress, Progress

if TYPE_CHECKING:
    from appliance.sdk.client import Client

JPEG_QUALITY = 95


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def extract_frames(video: Path, every: int, out: Path) -> list[tuple[str, dict[str, Any]]]:
    """Write every ``every``-th frame of ``video`` as a JPEG under ``out``; returns
    (file name, provenance) per frame. Raises ImportRejected if it is no video."""
    import cv2  # imported here: the CLI starts without it

    if every < 1:
        raise InvalidInput("--every must be 1 or more", hint="e.g. --every 10")
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise ImportRejected([(str(video), "cannot be opened as a video")])
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    source_sha = _sha256(video)
    frames: list[tuple[str, dict[str, Any]]] = []
    index = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                name = f"{video.stem}_{index:07d}.jpg"
                written, data = cv2.imencode(
                    ".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
                )
                if not written:
                    raise ImportRejected([(f"{video}#{index}", "the frame could not be encoded")])
                (out / name).write_bytes(data.tobytes())
                height, width = frame.shape[:2]
                frames.append(
                    (
                        name,
                        {
                            "size": (int(width), int(height)),
                            "source": video.name,
                            "source_sha256": source_sha,
                            "frame": index,
                            "timestamp": round(index / fps, 6) if fps else None,
                        },
                    )
                )
            index += 1
    finally:
        capture.release()
    if not frames:
        raise ImportRejected([(str(video), "no frame could be read")])
    return frames


def import_video(
    client: Client,
    ws: str | None,
    dataset: str,
    video: Path,
    every: int,
    prefix: str = "",
    progress: Progress | None = None,
) -> dict[str, Any]:
    from appliance.sdk.upload import upload_labelled

    client.get_dataset(ws, dataset)
    with tempfile.TemporaryDirectory(prefix="ahoy-frames-") as tmp:
        frames = extract_frames(video, every, Path(tmp))
        files = scan_tree(Path(tmp), prefix.strip("/"))
        by_frame = {f.name.rsplit("/", 1)[-1]: f.name for f in files}
        labels: dict[str, bytes] = {}
        for name, meta in frames:
            extra = tuple(sorted((k, v) for k, v in meta.items() if k != "size" and v is not None))
            labels[by_frame[name]] = LabelDocument(size=meta["size"], extra=extra).to_bytes()
        up = upload_labelled(client, ws, dataset, files, labels, progress or NoProgress())
    return {
        "video": video.name,
        "frames": len(frames),
        "every": every,
        "uploaded_blobs": up.images_sent,
        "uploaded_bytes": up.image_bytes_sent,
        **dict(up.staged),
    }
