"""An image's width and height from its header (Pillow opens lazily: no pixel is
decoded). EXIF orientations 5-8 (rotated a quarter turn) swap the two, as
Ultralytics' ``exif_size`` does, because YOLO's 0..1 coordinates are relative to
the image as it is shown."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

_ORIENTATION = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}


def image_size(source: Path | bytes) -> tuple[int, int] | None:
    """(width, height), or None when the bytes are not an image Pillow knows."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            stream = io.BytesIO(source) if isinstance(source, bytes) else source
            with Image.open(stream) as im:
                width, height = im.size
                # only EXIF already read with the header: a PNG's getexif() may decode
                turned = "exif" in im.info and im.getexif().get(_ORIENTATION) in _QUARTER_TURNS
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    if width <= 0 or height <= 0:
        return None
    return (height, width) if turned else (width, height)
