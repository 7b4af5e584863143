"""Writing under a folder someone named (a pull, an export, saved charts) without
ever following a link inside it.

The folder is opened once. Every folder below it is made and opened relative to
its parent's descriptor with ``O_NOFOLLOW``; every file is written to a fresh,
random temporary name (``O_CREAT | O_EXCL | O_NOFOLLOW``) and renamed over its
final name. So a link planted in the folder (a folder link pointing elsewhere, a
link named like a file or like a temporary) is refused or replaced, never written
through. The folder itself may not be a link either; the folders above it are the
caller's own choice and are followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from appliance.errors import UnsafeDestination

PARTIAL = ".ahoy-partial"
CHUNK = 1 << 20
#: folders kept open at once (a tree of thousands of folders must not exhaust
#: descriptors); one closed is reopened from the nearest open ancestor
OPEN_FOLDERS = 64
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


class Destination:
    """An opened folder that files are written beneath, and only beneath."""

    def __init__(self, root: Path, fd: int) -> None:
        self.root = root
        self._open: OrderedDict[tuple[str, ...], int] = OrderedDict({(): fd})

    @classmethod
    def open(cls, root: Path) -> Destination:
        """Open ``root``, making it (and its parents) if missing. Raises
        ``UnsafeDestination`` if it is a link or not a folder."""
        root = Path(os.path.abspath(root))
        try:
            st = os.lstat(root)
        except FileNotFoundError:
            root.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(root)
            st = os.lstat(root)
        if stat.S_ISLNK(st.st_mode):
            raise UnsafeDestination(
                str(root),
                f"is a symbolic link (to {os.readlink(root)}); nothing is written through links",
                hint=f"name the folder itself ({root.resolve()}) instead",
            )
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeDestination(
                str(root), "is not a folder", hint="name a folder, or a path that does not exist"
            )
        return cls(root, _open_dir(None, str(root), root))

    def __enter__(self) -> Destination:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        while self._open:
            os.close(self._open.popitem()[1])

    def entries(self) -> list[str]:
        """What the folder holds now (names, links included, not followed)."""
        return os.listdir(self._open[()])

    def write(
        self, name: str, chunks: Iterable[bytes], *, check: Callable[[], None] | None = None
    ) -> int:
        """Write ``name`` (a relative POSIX path) from ``chunks``: aside first, then
        ``check()`` (raise there to keep nothing), then renamed into place, so the
        file is either absent or whole. Returns the bytes written."""
        parts = _parts(name)
        return _write_at(self._dir(parts[:-1]), parts[-1], chunks, check, self.root / name)

    def read(self, name: str) -> Iterator[bytes]:
        """The bytes of a file written here (never through a link), in chunks."""
        parts = _parts(name)
        fd = os.open(parts[-1], _READ, dir_fd=self._dir(parts[:-1]))
        with os.fdopen(fd, "rb") as fh:
            yield from chunks_of(fh)

    def _dir(self, parts: tuple[str, ...]) -> int:
        """The descriptor of folder ``parts``, made if missing; each step opened
        from its parent without following a link."""
        depth = len(parts)
        while parts[:depth] not in self._open:
            depth -= 1
        fd = self._open[parts[:depth]]
        self._open.move_to_end(parts[:depth])
        for i in range(depth, len(parts)):
            with contextlib.suppress(FileExistsError):
                os.mkdir(parts[i], dir_fd=fd)
            fd = _open_dir(fd, parts[i], self.root.joinpath(*parts[: i + 1]))
            self._open[parts[: i + 1]] = fd
        while len(self._open) > OPEN_FOLDERS:
            oldest = next(k for k in self._open if k and k != parts)
            os.close(self._open.pop(oldest))
        return fd


def chunks_of(fh: IO[bytes]) -> Iterator[bytes]:
    """A file object's bytes in chunks (for ``Destination.write``)."""
    while chunk := fh.read(CHUNK):
        yield chunk


def write_file(path: Path, chunks: Iterable[bytes]) -> int:
    """Write one file someone named: its folder is theirs to choose (followed), the
    file itself is written aside and renamed over ``path`` (a link there is
    replaced, never written through)."""
    path = Path(os.path.abspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        return _write_at(fd, path.name, chunks, None, path)
    finally:
        os.close(fd)


def _parts(name: str) -> tuple[str, ...]:
    parts = tuple(name.split("/"))
    if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise UnsafeDestination(name, "is not a plain relative path", hint="this is a bug")
    return parts


def _open_dir(parent: int | None, name: str, shown: Path) -> int:
    try:
        return os.open(name, _DIR, dir_fd=parent)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
    if stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
        target = os.readlink(name, dir_fd=parent)
        raise UnsafeDestination(
            str(shown), f"is a symbolic link (to {target}); nothing is written through links"
        )
    raise UnsafeDestination(str(shown), "is a file where a folder is needed")


def _write_at(
    parent: int,
    name: str,
    chunks: Iterable[bytes],
    check: Callable[[], None] | None,
    shown: Path,
) -> int:
    fd, tmp = _fresh(parent)
    try:
        written = 0
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                written += len(chunk)
        if check is not None:
            check()
        try:
            os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except OSError as exc:
            if exc.errno not in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST):
                raise
            raise UnsafeDestination(str(shown), "is a folder where a file goes") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=parent)
        raise
    return written


def _fresh(parent: int) -> tuple[int, str]:
    """A new file under a random name no one could have placed in advance."""
    for _ in range(16):
        tmp = f".{secrets.token_hex(8)}{PARTIAL}"
        try:
            return os.open(tmp, _NEW, 0o666, dir_fd=parent), tmp
        except FileExistsError:
            continue
    raise UnsafeDestination("(temporary file)", "no fresh name could be made", hint="retry")
