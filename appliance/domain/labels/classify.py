"""Image classification in Ultralytics' folder layout: ``<split>/<class>/<image>``.

A classified image's label document carries its class as its one tag
(``tags: ["cat"]``); the dataset's schema names the classes. In the store an image
is kept as ``<class>/<image>`` (the name it had under its split folder), so two
images of the same file name in two classes stay two files.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from appliance.domain.labels.document import LabelDocument

SPLITS = ("train", "val", "test")


def parse_layout(paths: list[str]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """``paths`` relative to the dataset root → ``(path, name in the store, class)``
    for every image under ``<split>/<class>/``, and the problems found (where, what)."""
    found: list[tuple[str, str, str]] = []
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for path in paths:
        parts = PurePosixPath(path).parts
        if len(parts) < 3 or parts[0] not in SPLITS:
            problems.append((path, "not under <split>/<class>/ (split: train, val or test)"))
            continue
        name = "/".join(parts[1:])
        if name in seen:
            problems.append((path, f"the same image as {seen[name]} (in another split)"))
            continue
        seen[name] = path
        found.append((path, name, parts[1]))
    return found, problems


def class_names(found: list[tuple[str, str, str]]) -> list[str]:
    """Sorted, as Ultralytics numbers classify classes."""
    return sorted({c for _, _, c in found})


def document_for(cls: str) -> LabelDocument:
    return LabelDocument(tags=(cls,))


def member_name(filename: str, split: str, doc: LabelDocument | None) -> str | None:
    """``<split>/<class>/<image>`` for an image classified by exactly one tag."""
    if doc is None or len(doc.tags) != 1:
        return None
    base = PurePosixPath(filename).name
    return f"{split}/{doc.tags[0]}/{base}"


def export_problems(rows: list[tuple[str, LabelDocument | None]]) -> list[tuple[str, str]]:
    """Images a classify export cannot place: several tags, or two images of the
    same class and file name."""
    problems: list[tuple[str, str]] = []
    taken: dict[tuple[str, str], str] = {}
    for filename, doc in rows:
        if doc is None or not doc.tags:
            continue
        if len(doc.tags) > 1:
            problems.append((filename, f"it has {len(doc.tags)} tags; classify needs one"))
            continue
        key = (doc.tags[0], PurePosixPath(filename).name)
        if key in taken:
            problems.append((filename, f"same class and file name as {taken[key]}"))
        taken[key] = filename
    return problems
