"""Walk an import root and say what will be imported, or everything that is wrong.

Nothing is stored while scanning, so a refused import leaves the store as it was.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from appliance.domain.names import check_filename
from appliance.errors import ImportRejected, InvalidFilename, InvalidInput

# root reads everything; for anyone else, say which file is unreadable up front
_NOT_ROOT = os.geteuid() != 0


@dataclass(frozen=True, slots=True)
class SourceFile:
    name: str  # dataset filename (prefix + path relative to the root, '/'-separated)
    path: str  # absolute path to read
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int


def scan_tree(root: Path, prefix: str = "", exclude: tuple[str, ...] = ()) -> list[SourceFile]:
    """Every regular file under ``root``, sorted by name; raises ``ImportRejected``
    listing each problem (escaping symlinks, bad names, special files...)."""
    if not root.exists():
        raise InvalidInput(f"{root} does not exist", hint="check the path you passed")
    real_root = os.path.realpath(root)
    prefix = prefix.strip("/")
    if prefix:
        check_filename(prefix)
    found: list[SourceFile] = []
    problems: list[tuple[str, str]] = []
    if os.path.isfile(real_root):
        # a single file: import it under its own name
        _add(found, problems, real_root, os.path.basename(real_root), prefix, None)
        if problems:
            raise ImportRejected(problems)
        return found
    visited: set[str] = set()
    _walk(real_root, "", real_root, prefix, exclude, found, problems, visited)
    if problems:
        raise ImportRejected(sorted(problems))
    found.sort(key=lambda f: f.name)
    return found


def _walk(
    real_root: str,
    rel: str,
    directory: str,
    prefix: str,
    exclude: tuple[str, ...],
    found: list[SourceFile],
    problems: list[tuple[str, str]],
    visited: set[str],
) -> None:
    real_dir = os.path.realpath(directory)
    if real_dir in visited:
        problems.append((rel or ".", "directory loop through a symlink"))
        return
    visited.add(real_dir)
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        problems.append((rel or ".", f"cannot list directory: {exc.strerror}"))
        return
    for entry in entries:
        rel_name = f"{rel}/{entry.name}" if rel else entry.name
        if any(
            fnmatch.fnmatch(rel_name, pat) or fnmatch.fnmatch(entry.name, pat) for pat in exclude
        ):
            continue
        path = entry.path
        followed = False
        if entry.is_symlink():
            target = os.path.realpath(path)
            if not os.path.exists(target):
                problems.append((rel_name, "broken symlink (its target does not exist)"))
                continue
            if os.path.commonpath([real_root, target]) != real_root:
                problems.append((rel_name, f"symlink points outside the import root (to {target})"))
                continue
            path, followed = target, True
        if os.path.isdir(path) if followed else entry.is_dir(follow_symlinks=False):
            _walk(real_root, rel_name, path, prefix, exclude, found, problems, visited)
        else:
            _add(found, problems, path, rel_name, prefix, None if followed else entry)


def _add(
    found: list[SourceFile],
    problems: list[tuple[str, str]],
    path: str,
    rel_name: str,
    prefix: str,
    entry: os.DirEntry[str] | None,
) -> None:
    name = f"{prefix}/{rel_name}" if prefix else rel_name
    try:
        check_filename(name)
    except InvalidFilename as exc:
        problems.append((_printable(rel_name), exc.reason))
        return
    try:
        st = entry.stat() if entry is not None else os.stat(path)
    except OSError as exc:
        problems.append((rel_name, f"cannot stat: {exc.strerror}"))
        return
    if not stat.S_ISREG(st.st_mode):
        problems.append((rel_name, "not a regular file (device, FIFO or socket)"))
        return
    if _NOT_ROOT and not os.access(path, os.R_OK):
        problems.append((rel_name, "not readable by this user (check its permissions)"))
        return
    found.append(
        SourceFile(name, path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    )


def _printable(name: str) -> str:
    """Show undecodable bytes as escapes instead of crashing on output."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")
