"""Rules for file names inside a dataset: relative POSIX paths that cannot escape."""

from __future__ import annotations

import re

from appliance.errors import InvalidFilename

MAX_NAME_BYTES = 1024
_FORBIDDEN_CHARS = {"\x00", "\\"}
_CONTROL = re.compile(r"[\x00-\x1f]")


def check_filename(name: str) -> str:
    """Return ``name`` if it is a safe dataset path, else raise ``InvalidFilename``.

    A safe name is relative, uses ``/`` separators, has no empty, ``.`` or ``..``
    parts, no NUL or backslash, and is valid UTF-8 (no surrogate escapes left by
    ``os.fsdecode`` on undecodable bytes).
    """
    if not name:
        raise InvalidFilename(name, "the name is empty")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidFilename(name, "the name is not valid UTF-8") from None
    if len(encoded) > MAX_NAME_BYTES:
        raise InvalidFilename(name, f"the name is longer than {MAX_NAME_BYTES} bytes")
    if any(c in name for c in _FORBIDDEN_CHARS):
        raise InvalidFilename(name, "the name contains a NUL or a backslash")
    if _CONTROL.search(name):
        raise InvalidFilename(name, "the name contains a control character")
    if name.startswith("/"):
        raise InvalidFilename(name, "absolute paths are not allowed")
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise InvalidFilename(name, "empty, '.' or '..' path parts are not allowed")
    return name


def role_for(name: str) -> str:
    """The manifest role of a file, from its extension."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    return "file"


IMAGE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp", "heic", "dng", "pgm", "ppm"}
)
VIDEO_EXTENSIONS = frozenset({"mp4", "mkv", "avi", "mov", "webm", "mpg", "mpeg", "ts", "m4v"})
