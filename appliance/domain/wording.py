"""Counts and sizes as people read them, the same in every message.

``plural(1, "file")`` is ``1 file``, ``plural(2, "file")`` is ``2 files``;
``size(4100)`` is ``4.0 KiB``. Everything that prints a count of things or a
number of bytes for a person goes through here (JSON keeps the raw numbers)."""

from __future__ import annotations

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n word`` with the word in the plural unless ``n`` is exactly 1; ``many``
    gives an irregular plural. The word may be a phrase: ``new blob``."""
    return f"{n:,} {word if n == 1 else (many or plural_of(word))}"


def plural_of(word: str) -> str:
    """The regular English plural: blob → blobs, class → classes, entry → entries."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def size(n: int | float) -> str:
    """A byte count: ``1 byte``, ``512 bytes``, ``4.0 KiB``, ``1.2 GiB`` (binary units)."""
    if n < 1024:
        return plural(int(n), "byte")
    value = float(n)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            return f"{value:,.1f} {unit}"
    raise AssertionError("unreachable")
