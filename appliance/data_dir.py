"""The data dir is the appliance's alone: no other account on the box may read
the catalog (password hashes, token hashes, webhook secrets), the blobs or the logs.

A process that works on the data dir (``ahoy serve``, its workers and jobs, the
on-box CLI commands) creates everything there with a umask of 0o077: folders
0700, files 0600, whoever creates them (SQLite, weed, Ultralytics). ``ahoy serve``
also checks what is already there when it starts, and takes group and other
access away from the data dir and the files at its top (the catalog and its WAL
among them), with a warning naming each; deeper files are out of reach once the
data dir itself is 0700. weed writes each new volume's ``.vif`` 0644 whatever the
umask, so the supervisor passes over weed's folder after it starts and every few
seconds after (``tighten_tree``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

UMASK = 0o077
_OPEN_TO_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def claim(data_dir: Path) -> int:
    """Make this process create private files, and the data dir if it is missing;
    returns the umask it had (for a caller that gives the process back)."""
    previous = os.umask(UMASK)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return previous


def tighten(data_dir: Path) -> list[str]:
    """Take group/other access away from the data dir and the entries at its top
    level (links are left alone); one line per change, saying what it was."""
    changed = []
    for path in [data_dir, *sorted(data_dir.iterdir())]:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or not st.st_mode & _OPEN_TO_OTHERS:
            continue
        mode = stat.S_IMODE(st.st_mode)
        os.chmod(path, mode & ~_OPEN_TO_OTHERS)
        kind = "folder" if stat.S_ISDIR(st.st_mode) else "file"
        changed.append(
            f"{kind} {path} was {mode:04o} (open to other accounts on this box);"
            f" now {mode & ~_OPEN_TO_OTHERS:04o}"
        )
    return changed


def tighten_tree(root: Path) -> int:
    """Take group/other access away from everything under ``root`` (links left
    alone, vanished files skipped); returns how many were changed."""
    changed = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for path in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            try:
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode) or not st.st_mode & _OPEN_TO_OTHERS:
                    continue
                os.chmod(path, stat.S_IMODE(st.st_mode) & ~_OPEN_TO_OTHERS)
            except FileNotFoundError:
                continue
            changed += 1
    return changed
