"""Rules for names: the names people give things (tags, models, tokens, datasets,
workspaces, users, streams) and file names inside a dataset (relative POSIX paths
that cannot escape).

No name may hold a character that does not show: one name must not read as
another (``gold`` and ``gold\u200b``), and none may reorder the text around it
when shown (U+202E turns ``exe.jpg`` around)."""

from __future__ import annotations

import re
import unicodedata

from appliance.errors import InvalidFilename, InvalidName

MAX_NAME_BYTES = 1024
_FORBIDDEN_CHARS = {"\x00", "\\"}

#: The explicit bidirectional formatting characters (Unicode UAX #9): marks,
#: embeddings, overrides and isolates.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Unicode general categories of characters that do not show as themselves.
HIDDEN_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a lone surrogate",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
}
#: Zero-width non-joiner and joiner: Persian and Indic words and emoji need them,
#: so file names (which come from existing data) keep them; names do not.
JOINERS = frozenset("\u200c\u200d")
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _shown(c: str) -> str:
    name = unicodedata.name(c, "")
    return f"U+{ord(c):04X}" + (f" ({name})" if name else "")


def hidden_character(text: str, *, keep_joiners: bool = False) -> str | None:
    """Why ``text`` is refused (the first character that does not show), or None."""
    if text.isascii():  # the common case, kept fast: a dataset stages a million names
        found = _ASCII_CONTROL.search(text)
        return None if found is None else f"it holds {_shown(found[0])}, a control character"
    for c in text:
        if c in BIDI_CONTROLS:
            return f"it holds {_shown(c)}, a bidirectional control character"
        category = unicodedata.category(c)
        if category in HIDDEN_CATEGORIES and not (keep_joiners and c in JOINERS):
            return f"it holds {_shown(c)}, {HIDDEN_CATEGORIES[category]}"
    return None


def check_name(kind: str, name: str) -> str:
    """Return ``name`` if every character in it shows, else raise ``InvalidName``.

    ``kind`` says what is named (``"tag"``, ``"token"``, ...) for the message.
    Each service adds its own rules (length, alphabet) after this one."""
    reason = hidden_character(name)
    if reason is not None:
        raise InvalidName(kind, name, reason)
    return name


def check_filename(name: str) -> str:
    """Return ``name`` if it is a safe dataset path, else raise ``InvalidFilename``.

    A safe name is relative, uses ``/`` separators, has no empty, ``.`` or ``..``
    parts, no NUL or backslash, no character that does not show (``hidden_character``;
    joiners stay), and is valid UTF-8 (no surrogate escapes left by ``os.fsdecode``
    on undecodable bytes).
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
    hidden = hidden_character(name, keep_joiners=True)
    if hidden is not None:
        raise InvalidFilename(name, f"the name is not shown as it is: {hidden}")
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
