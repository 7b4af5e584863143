"""The generated data set: unique ~50 KB JPEGs, cached between runs."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.data_engine.common import FOLDERS, GEN_VERSION, Trash

# -- the generated data set ------------------------------------------------------------


def file_name(i: int) -> str:
    """Extra files land in the same folders as the first ones, like new captures."""
    return f"cam{i % FOLDERS:02d}/img_{i:06d}.jpg"


def _jpeg(seed: int, width: int, height: int) -> bytes:
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3), dtype=np.uint8)
    img = cv2.resize(blocks, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.int16)
    img += rng.normal(0, 10, (height, width, 3)).astype(np.int16)  # sensor-like noise
    ok, buf = cv2.imencode(
        ".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 85]
    )
    assert ok
    return buf.tobytes()


def _dimensions(size: int) -> tuple[int, int]:
    """4:3 dimensions whose JPEG is about ``size`` bytes (size grows with area)."""
    w, h = 480, 360
    mean = sum(len(_jpeg(10**9 + s, w, h)) for s in range(4)) / 4
    scale = (size / mean) ** 0.5
    return max(16, round(w * scale / 8) * 8), max(16, round(h * scale / 8) * 8)


def _write_range(root: str, start: int, stop: int, files: int, w: int, h: int) -> int:
    for i in range(start, stop):
        path = Path(root, "tree" if i < files else "extra", file_name(i))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_jpeg(i, w, h))
    return stop - start


def generate(workdir: Path, files: int, size: int, extra: int, trash: Trash) -> Path:
    """``<set>/tree`` (the first files) and ``<set>/extra``; kept between runs."""
    out = workdir / "gen" / f"jpeg-v{GEN_VERSION}-n{files}-s{size}-x{extra}"
    if (out / "complete").exists():
        print(f"data set: cached in {out}")
        return out
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        trash.move(partial)
    if out.exists():
        trash.move(out)
    w, h = _dimensions(size)
    total = files + extra
    print(f"data set: generating {files:,} + {extra:,} JPEGs of {w}x{h} (~{size:,} bytes)...")
    t0 = time.perf_counter()
    step = 250
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        jobs = [
            pool.submit(_write_range, str(partial), a, min(a + step, total), files, w, h)
            for a in range(0, total, step)
        ]
        for job in jobs:
            job.result()
    (partial / "complete").write_text(json.dumps({"width": w, "height": h}))
    os.replace(partial, out)
    print(f"data set: {total:,} files in {time.perf_counter() - t0:.1f} s")
    return out
