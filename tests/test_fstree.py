"""autograder.fstree: walking, hashing and removing trees a student controls.

Every test that could hang on a FIFO or a device runs the function under test in a thread
with a join timeout, so a regression fails the test instead of stalling the suite.
"""
import os
import pickle
import socket
import stat
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from autograder import fstree

LONG = "n" * 100  # 1,200 levels of this make paths of ~121,000 characters (PATH_MAX is 4,096)
TIMEOUT = 30


def make_deep(root: Path, depth: int, name: str = "d", leaf: str = "leaf.txt",
              content: str = "bottom") -> str:
    """A chain of ``depth`` folders under ``root`` with a file at the bottom; its relative path.

    Built with directory file descriptors, so it works past PATH_MAX.
    """
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        out = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=fd)
        with os.fdopen(out, "w") as fh:
            fh.write(content)
    finally:
        os.close(fd)
    return "/".join([name] * depth + [leaf])


def make_socket(path: Path) -> None:
    """A Unix socket file at ``path`` (bound through a short relative name: sun_path is short)."""
    cwd = os.getcwd()
    sock = socket.socket(socket.AF_UNIX)
    try:
        os.chdir(path.parent)
        sock.bind(path.name)
    finally:
        os.chdir(cwd)
        sock.close()


def make_device(path: Path, minor: int = 5) -> None:
    """A character device (1, minor) at ``path``: 5 is /dev/zero, endless to read."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("creating device files is not permitted here")


def run_with_timeout(fn, *args, fifos=(), **kwargs):
    """``(finished, result)`` of ``fn(*args)`` run in a thread joined with a timeout.

    If it did not finish, each FIFO in ``fifos`` is opened for writing and closed, which
    releases a reader blocked on it, so the thread does not outlive the test.
    """
    box = {}

    def target():
        try:
            box["result"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    finished = not thread.is_alive()
    if not finished:
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        thread.join(5)
    if "error" in box:
        raise box["error"]
    return finished, box.get("result")


@pytest.fixture(autouse=True)
def _clear_deep_trees(tmp_path):
    """Deep trees must not outlive the test: pytest's own cleanup (shutil.rmtree) recurses."""
    yield
    subprocess.run(["chmod", "-R", "u+rwx", "--", str(tmp_path)], capture_output=True)
    subprocess.run(["rm", "-rf", "--", str(tmp_path)], capture_output=True)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- walk ----------------------------------------------------------------------------------

def test_walk_reaches_the_bottom_of_a_5000_deep_tree(tmp_path):
    leaf = make_deep(tmp_path / "t", 5000)
    entries = list(fstree.walk(tmp_path / "t"))
    assert fstree.Entry(leaf, "file") in entries
    assert sum(kind == "dir" for _, kind in entries) == 5000


def test_walk_reaches_the_bottom_of_a_tree_whose_paths_are_longer_than_path_max(tmp_path):
    leaf = make_deep(tmp_path / "t", 1200, name=LONG)
    assert len(leaf) > 100_000
    assert fstree.Entry(leaf, "file") in list(fstree.walk(tmp_path / "t"))


def test_walk_keeps_only_a_few_file_descriptors_open_however_deep_it_goes(tmp_path):
    make_deep(tmp_path / "t", 2000)
    before = open_fds()
    most = max(open_fds() for _ in fstree.walk(tmp_path / "t"))
    assert most - before <= 3


def test_walk_tells_each_kind_of_entry_apart(tmp_path):
    root = tmp_path / "t"
    (root / "folder").mkdir(parents=True)
    (root / "plain.txt").write_text("x")
    os.mkfifo(root / "pipe")
    make_socket(root / "sock")
    os.symlink("/etc/passwd", root / "link")
    kinds = dict(fstree.walk(root))
    assert kinds == {"folder": "dir", "plain.txt": "file", "pipe": "fifo", "sock": "socket",
                     "link": "symlink"}


def test_walk_tells_a_device_file_apart(tmp_path):
    (tmp_path / "t").mkdir()
    make_device(tmp_path / "t" / "zero")
    assert list(fstree.walk(tmp_path / "t")) == [("zero", "device")]


def test_walk_does_not_follow_a_symlink_to_a_folder_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    (tmp_path / "t").mkdir()
    os.symlink(outside, tmp_path / "t" / "escape")
    assert list(fstree.walk(tmp_path / "t")) == [("escape", "symlink")]


def test_walk_does_not_enter_a_root_that_is_a_symlink(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f.txt").write_text("x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    errors = []
    assert list(fstree.walk(tmp_path / "link", onerror=errors.append)) == []
    assert len(errors) == 1


def test_walk_yields_sorted_names_with_each_folder_before_its_content(tmp_path):
    root = tmp_path / "t"
    (root / "b" / "inner").mkdir(parents=True)
    (root / "a.txt").write_text("x")
    (root / "b" / "z.txt").write_text("x")
    (root / "c.txt").write_text("x")
    assert [path for path, _ in fstree.walk(root)] == ["a.txt", "b", "b/inner", "b/z.txt",
                                                        "c.txt"]


def test_walk_leaves_out_what_skip_names_with_all_it_holds(tmp_path):
    root = tmp_path / "t"
    (root / ".git" / "objects").mkdir(parents=True)
    (root / "kept.txt").write_text("x")
    assert list(fstree.walk(root, skip=lambda name: name == ".git")) == [("kept.txt", "file")]


def test_walk_of_a_missing_root_yields_nothing_and_reports_it(tmp_path):
    errors = []
    assert list(fstree.walk(tmp_path / "nowhere", onerror=errors.append)) == []
    assert [type(e) for e in errors] == [FileNotFoundError]


def test_walk_does_not_block_on_a_fifo(tmp_path):
    (tmp_path / "t").mkdir()
    os.mkfifo(tmp_path / "t" / "pipe")
    finished, entries = run_with_timeout(lambda: list(fstree.walk(tmp_path / "t")),
                                         fifos=[tmp_path / "t" / "pipe"])
    assert finished
    assert entries == [("pipe", "fifo")]


# -- tree_hash -----------------------------------------------------------------------------

def _small_tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.ipynb").write_text('{"cells": []}')
    (root / "sub" / "data.csv").write_text("1,2\n")
    return root


def test_tree_hash_is_the_same_for_the_same_content(tmp_path):
    assert fstree.tree_hash(_small_tree(tmp_path / "one")) == \
        fstree.tree_hash(_small_tree(tmp_path / "two"))


def test_tree_hash_is_stable_when_nothing_changes(tmp_path):
    root = _small_tree(tmp_path / "t")
    first = fstree.tree_hash(root)
    os.utime(root / "a.ipynb", (0, 0))
    assert fstree.tree_hash(root) == first


def test_tree_hash_changes_when_a_file_content_changes_at_the_same_size(tmp_path):
    root = _small_tree(tmp_path / "t")
    before = fstree.tree_hash(root)
    (root / "sub" / "data.csv").write_text("1,3\n")
    assert fstree.tree_hash(root) != before


def test_tree_hash_changes_when_a_file_is_added(tmp_path):
    root = _small_tree(tmp_path / "t")
    before = fstree.tree_hash(root)
    (root / "sub" / "new.txt").write_text("")
    assert fstree.tree_hash(root) != before


def test_tree_hash_changes_when_a_file_is_renamed(tmp_path):
    root = _small_tree(tmp_path / "t")
    before = fstree.tree_hash(root)
    (root / "sub" / "data.csv").rename(root / "sub" / "data2.csv")
    assert fstree.tree_hash(root) != before


def test_tree_hash_of_a_missing_folder_is_that_of_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    assert fstree.tree_hash(tmp_path / "nowhere") == fstree.tree_hash(tmp_path / "empty")


def test_tree_hash_sees_a_change_at_the_bottom_of_a_5000_deep_tree(tmp_path):
    make_deep(tmp_path / "t", 5000, content="one")
    before = fstree.tree_hash(tmp_path / "t")
    make_deep(tmp_path / "other", 5000, content="two")
    assert fstree.tree_hash(tmp_path / "other") != before
    assert fstree.tree_hash(tmp_path / "t") == before


def test_tree_hash_works_past_path_max(tmp_path):
    make_deep(tmp_path / "one", 1200, name=LONG, content="one")
    make_deep(tmp_path / "two", 1200, name=LONG, content="two")
    assert fstree.tree_hash(tmp_path / "one") != fstree.tree_hash(tmp_path / "two")


def test_tree_hash_returns_promptly_with_a_fifo_nobody_writes_to(tmp_path):
    root = _small_tree(tmp_path / "t")
    os.mkfifo(root / "pipe.ipynb")
    finished, digest = run_with_timeout(fstree.tree_hash, root, fifos=[root / "pipe.ipynb"])
    assert finished
    assert len(digest) == 64


def test_tree_hash_counts_a_fifo_by_name_and_kind_only(tmp_path):
    one, two, three = (tmp_path / n for n in ("one", "two", "three"))
    for root in (one, two, three):
        root.mkdir()
    os.mkfifo(one / "p")
    os.mkfifo(two / "p", 0o600)
    (three / "p").write_text("")
    hashes = [run_with_timeout(fstree.tree_hash, r, fifos=[r / "p"]) for r in (one, two, three)]
    assert all(finished for finished, _ in hashes)
    assert hashes[0][1] == hashes[1][1] != hashes[2][1]


def test_tree_hash_returns_promptly_with_a_socket(tmp_path):
    root = _small_tree(tmp_path / "t")
    make_socket(root / "sock")
    finished, digest = run_with_timeout(fstree.tree_hash, root)
    assert finished
    assert digest != fstree.tree_hash(_small_tree(tmp_path / "plain"))


def test_tree_hash_does_not_read_a_device_file(tmp_path):
    root = _small_tree(tmp_path / "t")
    make_device(root / "zero")
    finished, digest = run_with_timeout(fstree.tree_hash, root)
    assert finished
    assert len(digest) == 64


def test_tree_hash_does_not_follow_a_symlink_to_a_file_outside(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("before")
    root = _small_tree(tmp_path / "t")
    os.symlink(outside, root / "link.txt")
    before = fstree.tree_hash(root)
    outside.write_text("after!")
    assert fstree.tree_hash(root) == before


def test_tree_hash_does_not_follow_a_symlink_to_a_folder_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = _small_tree(tmp_path / "t")
    os.symlink(outside, root / "escape")
    before = fstree.tree_hash(root)
    (outside / "new.txt").write_text("x")
    assert fstree.tree_hash(root) == before


# -- remove_tree ---------------------------------------------------------------------------

def test_remove_tree_removes_a_5000_deep_tree(tmp_path):
    make_deep(tmp_path / "t", 5000)
    assert fstree.remove_tree(tmp_path / "t") == []
    assert not os.path.lexists(tmp_path / "t")


def test_remove_tree_removes_a_tree_whose_paths_are_longer_than_path_max(tmp_path):
    make_deep(tmp_path / "t", 1200, name=LONG)
    assert fstree.remove_tree(tmp_path / "t") == []
    assert not os.path.lexists(tmp_path / "t")


def test_remove_tree_removes_fifos_sockets_and_symlinks(tmp_path):
    root = tmp_path / "t"
    root.mkdir()
    os.mkfifo(root / "pipe")
    make_socket(root / "sock")
    os.symlink("/etc/passwd", root / "passwd")
    finished, problems = run_with_timeout(fstree.remove_tree, root, fifos=[root / "pipe"])
    assert finished
    assert problems == []
    assert not os.path.lexists(root)


def test_remove_tree_leaves_the_target_of_a_symlink_to_a_folder_alone(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (tmp_path / "t").mkdir()
    os.symlink(outside, tmp_path / "t" / "escape")
    assert fstree.remove_tree(tmp_path / "t") == []
    assert (outside / "keep.txt").read_text() == "keep"


def test_remove_tree_of_a_symlink_removes_the_link_not_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "keep.txt").write_text("keep")
    os.symlink(tmp_path / "real", tmp_path / "link")
    assert fstree.remove_tree(tmp_path / "link") == []
    assert not os.path.lexists(tmp_path / "link")
    assert (tmp_path / "real" / "keep.txt").read_text() == "keep"


def test_remove_tree_removes_a_single_file(tmp_path):
    (tmp_path / "f.txt").write_text("x")
    assert fstree.remove_tree(tmp_path / "f.txt") == []
    assert not os.path.lexists(tmp_path / "f.txt")


def test_remove_tree_of_a_missing_path_reports_nothing(tmp_path):
    assert fstree.remove_tree(tmp_path / "nowhere") == []


def _locked_tree(root: Path) -> None:
    """Folders a sandboxed process locked: 000 at two levels, r-x, and a 000 root."""
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "b" / "c" / "f.txt").write_text("x")
    (root / "ro").mkdir()
    (root / "ro" / "g.txt").write_text("x")
    make_deep(root / "a" / "b" / "c", 50)
    os.chmod(root / "ro", 0o500)
    os.chmod(root / "a" / "b" / "c", 0o000)
    os.chmod(root / "a" / "b", 0o000)
    os.chmod(root, 0o000)


def test_remove_tree_removes_folders_made_000(tmp_path):
    _locked_tree(tmp_path / "t")
    assert fstree.remove_tree(tmp_path / "t") == []
    assert not os.path.lexists(tmp_path / "t")


def _as_nobody(fn, *args):
    """``fn(*args)`` in a forked child running as uid/gid 65534; its pickled result."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            with os.fdopen(write, "wb") as out:
                pickle.dump(fn(*args), out)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        data = inp.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return pickle.loads(data)


def test_remove_tree_removes_folders_made_000_when_not_root(tmp_path):
    if os.geteuid() != 0:
        _locked_tree(tmp_path / "t")
        assert fstree.remove_tree(tmp_path / "t") == []
        assert not os.path.lexists(tmp_path / "t")
        return
    base = Path(tempfile.mkdtemp(prefix="fstree-nobody-"))  # nobody cannot reach tmp_path
    try:
        os.chown(base, 65534, 65534)
        (base / "t").mkdir()
        _locked_tree(base / "t")
        subprocess.run(["chown", "-R", "65534:65534", str(base / "t")], check=True)
        problems = _as_nobody(fstree.remove_tree, str(base / "t"))
        assert problems == []
        assert not os.path.lexists(base / "t")
    finally:
        subprocess.run(["rm", "-rf", "--", str(base)], capture_output=True)


def test_remove_tree_reports_what_it_cannot_remove_instead_of_raising(tmp_path, monkeypatch):
    make_deep(tmp_path / "t", 3, leaf="stuck.txt")
    real_unlink = os.unlink

    def unlink(path, *, dir_fd=None):
        if path == "stuck.txt":
            raise PermissionError(1, "Operation not permitted")
        real_unlink(path, dir_fd=dir_fd)

    monkeypatch.setattr(fstree.os, "unlink", unlink)
    problems = fstree.remove_tree(tmp_path / "t")
    monkeypatch.undo()
    assert any("stuck.txt" in p and "not permitted" in p for p in problems)
    assert (tmp_path / "t" / "d" / "d" / "d" / "stuck.txt").exists()
