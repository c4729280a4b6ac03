"""Walking, hashing and removing directory trees that a student controls.

A submission folder, or a scratch folder a sandboxed notebook wrote to, may hold anything:
trees thousands of levels deep, paths longer than ``PATH_MAX``, symlinks to ``/etc``, named
pipes (FIFOs), sockets, device files, folders chmod-ed to ``000``. The functions here cope
with all of them:

* no recursion: an explicit stack, so depth is bounded by memory, not by Python's stack;
* no long paths: every system call is relative to an open directory file descriptor
  (``dir_fd``), and only one directory of the walk is open at a time (the walk climbs back
  up with ``..`` and checks that it arrived where it came from), so neither ``PATH_MAX``
  nor the limit on open files matters;
* no symlink is ever followed (``O_NOFOLLOW``, ``lstat``);
* only regular files are ever opened (``O_NONBLOCK``, re-checked with ``fstat``), so a
  FIFO or a device cannot block or feed the reader forever.
"""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

KINDS = ("file", "dir", "symlink", "fifo", "socket", "device", "other")
LABELS = {"file": "regular file", "dir": "folder", "symlink": "symlink",
          "fifo": "FIFO (named pipe)", "socket": "socket", "device": "device file",
          "other": "special file"}

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | _O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC
_CHUNK = 1 << 20

Skip = Callable[[str], bool]
OnError = Callable[[OSError], None]


class Entry(NamedTuple):
    """One thing found by :func:`walk`.

    Attributes
    ----------
    path : str
        Path relative to the walked root, ``/``-separated.
    kind : str
        One of :data:`KINDS`.
    """

    path: str
    kind: str


class NotRegularFile(OSError):
    """Raised by :func:`open_regular` for anything but a regular file (nothing was read)."""

    def __init__(self, path, kind: str):
        super().__init__(f"not a regular file but a {LABELS[kind]}: {os.fsdecode(path)}")
        self.kind = kind


class FileTooLarge(OSError):
    """Raised by :func:`read_regular` when a file is larger than allowed."""


class _Item(NamedTuple):
    """An entry as the internal walk sees it; ``dir_fd`` is valid only while it is handled."""

    path: str
    name: str
    kind: str
    dir_fd: int
    stat: os.stat_result


class _Frame:
    """One directory on the walk's stack: its listing and how far the walk got in it."""

    __slots__ = ("fd", "ident", "entries", "index", "item")

    def __init__(self, fd: int, ident: tuple[int, int], entries: list, item: _Item | None):
        self.fd = fd
        self.ident = ident
        self.entries = entries
        self.index = 0
        self.item = item


def kind_of(mode: int) -> str:
    """The kind (one of :data:`KINDS`) of a ``st_mode`` from ``lstat``.

    Parameters
    ----------
    mode : int
        ``st_mode`` of an ``lstat`` (not ``stat``) result.

    Returns
    -------
    str
    """
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "other"


def walk(root, *, skip: Skip | None = None, onerror: OnError | None = None) -> Iterator[Entry]:
    """Every entry under ``root``, depth first, names sorted, symlinks never followed.

    Parameters
    ----------
    root : str or os.PathLike
        The folder to walk. It is not itself yielded. A missing ``root``, or one that is
        not a folder (a symlink to a folder included), yields nothing and is reported to
        ``onerror``.
    skip : callable, optional
        ``skip(name) -> bool``; a true result leaves the entry out (a folder with all it
        holds).
    onerror : callable, optional
        Called with each ``OSError`` met (a folder that cannot be opened or listed; its
        ``filename`` is the relative path). Without it errors are ignored, like
        :func:`os.walk` does.

    Yields
    ------
    Entry
        ``(path, kind)``; a folder comes before what it holds.
    """
    for event, item in _events(root, skip=skip, onerror=onerror):
        if event == "entry":
            yield Entry(item.path, item.kind)


def tree_hash(root, *, skip: Skip | None = None) -> str:
    """sha256 over the relative paths and kinds of everything under ``root``.

    Regular files also contribute their size and content. FIFOs, sockets, devices and
    symlinks contribute only their path and kind: they are never opened or followed.
    Folders that cannot be read, and files that cannot be opened, contribute a marker
    instead of their content, so hashing never raises.

    Parameters
    ----------
    root : str or os.PathLike
        The folder to hash. A missing one hashes like an empty folder.
    skip : callable, optional
        ``skip(name) -> bool``; entries (folders with all they hold) to leave out.

    Returns
    -------
    str
        Hex digest.
    """
    digest = hashlib.sha256(b"autograder.fstree.tree_hash v1\0")

    def unreadable(exc: OSError) -> None:
        if isinstance(exc, FileNotFoundError) and exc.filename == ".":
            return  # a missing root is an empty tree
        _feed(digest, b"unreadable", os.fsencode(str(exc.filename)))

    for event, item in _events(root, skip=skip, onerror=unreadable):
        if event != "entry":
            continue
        _feed(digest, item.kind.encode(), os.fsencode(item.path))
        if item.kind == "file":
            _feed(digest, b"content", _content_digest(item.name, item.dir_fd))
    return digest.hexdigest()


def remove_tree(path) -> list[str]:
    """Remove ``path`` and everything under it; never raise, never follow a symlink.

    Folders whose permissions were taken away (``000``, ``r-x``) are given ``u+rwx``
    before they are entered, so this works for a non-root user too, provided the folders
    are theirs. A symlink ``path`` is removed itself, not its target.

    Parameters
    ----------
    path : str or os.PathLike
        What to remove. A missing ``path`` is not a problem.

    Returns
    -------
    list of str
        Readable descriptions of what could not be removed; empty when all is gone.
    """
    path = os.fspath(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [f"{os.fsdecode(path)}: cannot inspect: {exc.strerror}"]
    if not stat.S_ISDIR(st.st_mode):
        return _attempt(os.unlink, path, None, os.fsdecode(path))
    if st.st_mode & 0o700 != 0o700:
        try:
            os.chmod(path, stat.S_IMODE(st.st_mode) | 0o700, follow_symlinks=False)
        except (OSError, NotImplementedError):
            pass  # opening it will say what is wrong
    problems: list[str] = []

    def report(exc: OSError) -> None:
        problems.append(f"{shown(os.path.join(path, os.fsdecode(exc.filename)))}: "
                        f"{exc.strerror or exc}")

    for event, item in _events(path, onerror=report, writable=True):
        where = shown(os.path.join(path, item.path))
        if event == "entry" and item.kind != "dir":
            problems += _attempt(os.unlink, item.name, item.dir_fd, where)
        elif event == "exit":
            problems += _attempt(os.rmdir, item.name, item.dir_fd, where)
    problems += _attempt(os.rmdir, path, None, os.fsdecode(path))
    return problems


def open_regular(path, *, dir_fd: int | None = None) -> int:
    """Open a regular file for reading without following a symlink or blocking.

    Parameters
    ----------
    path : str or os.PathLike
        The file (relative to ``dir_fd`` when given).
    dir_fd : int, optional
        An open folder that ``path`` is relative to.

    Returns
    -------
    int
        A file descriptor; the caller closes it.

    Raises
    ------
    NotRegularFile
        ``path`` is a symlink, FIFO, socket, device or folder. Nothing was read from it.
    OSError
        It cannot be opened.
    """
    mode = os.stat(path, dir_fd=dir_fd, follow_symlinks=False).st_mode
    if not stat.S_ISREG(mode):
        raise NotRegularFile(path, kind_of(mode))
    fd = os.open(path, _FILE_FLAGS, dir_fd=dir_fd)
    mode = os.fstat(fd).st_mode  # it may have been swapped since the lstat
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegularFile(path, kind_of(mode))
    return fd


def read_regular(path, *, limit: int, dir_fd: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`open_regular`).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    limit : int
        Largest size accepted, in bytes.
    dir_fd : int, optional
        An open folder that ``path`` is relative to.

    Returns
    -------
    bytes

    Raises
    ------
    NotRegularFile
        It is not a regular file.
    FileTooLarge
        It is larger than ``limit``.
    OSError
        It cannot be read.
    """
    fd = open_regular(path, dir_fd=dir_fd)
    try:
        if os.fstat(fd).st_size > limit:
            raise FileTooLarge(f"larger than {limit} bytes: {os.fsdecode(path)}")
        chunks, total = [], 0
        while chunk := os.read(fd, min(_CHUNK, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileTooLarge(f"larger than {limit} bytes: {os.fsdecode(path)}")
        return b"".join(chunks)
    finally:
        os.close(fd)


# -- the walk ------------------------------------------------------------------------------

def _events(root, *, skip: Skip | None = None, onerror: OnError | None = None,
            writable: bool = False) -> Iterator[tuple[str, _Item]]:
    """Depth-first events ``("entry", item)`` and, after a folder's content, ``("exit", item)``.

    ``item.dir_fd`` is the open folder holding ``item.name``; it is valid only until the
    next event is asked for. With ``writable``, folders are made ``u+rwx`` so that what
    they hold can be removed.
    """
    try:
        fd = os.open(root, _DIR_FLAGS)
    except OSError as exc:
        _report(onerror, exc, ".")
        return
    stack: list[_Frame] = []
    try:
        frame = _enter(fd, None, skip, writable, onerror)
        if frame is None:
            return
        stack.append(frame)
        prefix = ""  # the current folder relative to root, with a trailing "/"
        while stack:
            frame = stack[-1]
            if frame.index < len(frame.entries):
                name, st = frame.entries[frame.index]
                frame.index += 1
                item = _Item(prefix + name, name, kind_of(st.st_mode), frame.fd, st)
                yield "entry", item
                if item.kind == "dir":
                    child = _descend(item, skip, writable, onerror)
                    if child is None:
                        yield "exit", item
                    else:
                        os.close(frame.fd)  # only one folder is open at a time
                        frame.fd = -1
                        stack.append(child)
                        prefix = item.path + "/"
                continue
            stack.pop()
            if not stack:
                os.close(frame.fd)
                frame.fd = -1
                break
            parent = stack[-1]
            try:
                parent.fd = _ascend(frame, parent)
            except OSError as exc:
                _report(onerror, exc, frame.item.path)
                return
            prefix = prefix[:len(prefix) - len(frame.item.name) - 1]
            yield "exit", frame.item._replace(dir_fd=parent.fd)
    finally:
        for frame in stack:
            if frame.fd >= 0:
                os.close(frame.fd)


def _enter(fd: int, item: _Item | None, skip: Skip | None, writable: bool,
           onerror: OnError | None) -> _Frame | None:
    """A frame for the open folder ``fd`` (which it then owns), or None if it cannot be listed."""
    try:
        st = os.fstat(fd)
        if writable and st.st_mode & 0o700 != 0o700:
            os.fchmod(fd, stat.S_IMODE(st.st_mode) | 0o700)
        entries = _listing(fd, skip)
    except OSError as exc:
        os.close(fd)
        _report(onerror, exc, item.path if item else ".")
        return None
    return _Frame(fd, (st.st_dev, st.st_ino), entries, item)


def _listing(fd: int, skip: Skip | None) -> list[tuple[str, os.stat_result]]:
    """The sorted names in the open folder ``fd`` with their ``lstat``, minus skipped ones."""
    with os.scandir(fd) as it:
        names = sorted(entry.name for entry in it)
    out = []
    for name in names:
        if skip is not None and skip(name):
            continue
        try:
            out.append((name, os.stat(name, dir_fd=fd, follow_symlinks=False)))
        except FileNotFoundError:
            continue  # gone since it was listed
    return out


def _descend(item: _Item, skip: Skip | None, writable: bool,
             onerror: OnError | None) -> _Frame | None:
    """A frame for the folder ``item``, or None (reported) if it cannot be opened and listed."""
    try:
        fd = os.open(item.name, _DIR_FLAGS, dir_fd=item.dir_fd)
    except PermissionError as exc:
        if not writable:
            _report(onerror, exc, item.path)
            return None
        try:
            os.chmod(item.name, stat.S_IMODE(item.stat.st_mode) | 0o700,
                     dir_fd=item.dir_fd, follow_symlinks=False)
            fd = os.open(item.name, _DIR_FLAGS, dir_fd=item.dir_fd)
        except (OSError, NotImplementedError) as exc2:
            _report(onerror, exc2 if isinstance(exc2, OSError) else exc, item.path)
            return None
    except OSError as exc:
        _report(onerror, exc, item.path)
        return None
    return _enter(fd, item, skip, writable, onerror)


def _ascend(frame: _Frame, parent: _Frame) -> int:
    """Open the parent of ``frame``'s folder through ``..``; check it is the one left."""
    try:
        fd = os.open("..", _DIR_FLAGS, dir_fd=frame.fd)
    finally:
        os.close(frame.fd)
        frame.fd = -1
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) != parent.ident:
        os.close(fd)
        raise OSError(0, "the folder was moved while it was being walked")
    return fd


def _report(onerror: OnError | None, exc: OSError, path: str) -> None:
    if onerror is not None:
        exc.filename = path
        onerror(exc)


# -- helpers -------------------------------------------------------------------------------

def _feed(digest, *fields: bytes) -> None:
    """Feed length-prefixed fields to ``digest`` (so no two records can run together)."""
    for field in fields:
        digest.update(len(field).to_bytes(8, "big") + field)


def _content_digest(name: str, dir_fd: int) -> bytes:
    """size and sha256 of a regular file, or a marker saying why it was not read."""
    try:
        fd = open_regular(name, dir_fd=dir_fd)
    except NotRegularFile as exc:
        return b"changed into " + exc.kind.encode()
    except OSError as exc:
        return b"unreadable " + str(exc.errno).encode()
    try:
        content = hashlib.sha256()
        size = 0
        while chunk := os.read(fd, _CHUNK):
            content.update(chunk)
            size += len(chunk)
        return str(size).encode() + b":" + content.digest()
    except OSError as exc:
        return b"unreadable " + str(exc.errno).encode()
    finally:
        os.close(fd)


def _attempt(action, name, dir_fd: int | None, where: str) -> list[str]:
    """Run ``action(name, dir_fd=dir_fd)``; a problem description instead of an exception."""
    try:
        action(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except OSError as exc:
        return [f"{where}: {exc.strerror or exc}"]
    return []


def shown(path: str | Path, width: int = 200) -> str:
    """A path fit for a message: shortened in the middle when it is very long.

    Parameters
    ----------
    path : str or Path
        The path.
    width : int
        Longest length shown unshortened.

    Returns
    -------
    str
    """
    path = str(path)
    if len(path) <= width:
        return path
    keep = (width - 5) // 2
    return f"{path[:keep]}/.../{path[-keep:]} ({path.count('/') + 1} levels)"
