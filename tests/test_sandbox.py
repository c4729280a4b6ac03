"""The sandbox around student kernels: detection, the bwrap command line, a real kernel."""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
import pytest
from nbclient import NotebookClient

from autograder.course import REPO_ROOT
from autograder.grade import Options, grade_class
from autograder.sandbox import (SandboxKernelManager, SandboxUnavailable, bwrap_argv,
                                check_sandbox, copy_submission, foreign_site_packages, kernel_env,
                                student_python)
from tests.toy_course import ToyCourse


# -- detection -------------------------------------------------------------------------------

def test_missing_bwrap_fails_loudly_and_names_the_opt_out(tmp_path):
    with pytest.raises(SandboxUnavailable) as err:
        check_sandbox(SandboxKernelManager(bwrap=str(tmp_path / "no-such-bwrap")), tmp_path)
    assert "bubblewrap" in str(err.value) and "--no-sandbox" in str(err.value)


def test_bwrap_without_user_namespaces_fails_loudly(tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(SandboxUnavailable) as err:
        check_sandbox(SandboxKernelManager(bwrap=str(fake)), tmp_path)
    assert "user namespaces" in str(err.value) and "--no-sandbox" in str(err.value)


def test_missing_student_environment_says_how_to_build_it(tmp_path):
    with pytest.raises(SandboxUnavailable) as err:
        student_python(str(tmp_path / "no-python"))
    assert "make setup" in str(err.value)


def test_student_environment_cannot_import_the_graders_packages(tmp_path):
    check_sandbox(SandboxKernelManager(), tmp_path)  # raises if scipy is importable there


def test_disabled_sandbox_is_not_checked(tmp_path):
    check_sandbox(SandboxKernelManager(enabled=False, bwrap=str(tmp_path / "none")), tmp_path)


@pytest.mark.nbgrader
def test_grading_stops_before_touching_anyone_when_the_sandbox_cannot_work(tmp_path):
    toy = ToyCourse.create(tmp_path / "course")
    toy.submit("ann")
    course = toy.course
    course.config.SandboxKernelManager.bwrap = str(tmp_path / "no-such-bwrap")
    with pytest.raises(SandboxUnavailable):
        grade_class(course, Options(workers=1, progress=False))
    assert not (toy.root / "autograded").exists()
    assert toy.all_scores() == {}


# -- the command line -----------------------------------------------------------------------

def _argv(tmp_path) -> list[str]:
    sock = tmp_path / "sock"
    sock.mkdir()
    binds = [("--ro-bind", str(tmp_path / "in"), "/opt/submission"), ("--bind", str(sock), str(sock))]
    return bwrap_argv("bwrap", privileged=True, tmp_bytes=1 << 20, binds=binds,
                      env=kernel_env(student_python(), "/tmp"))


def test_sandbox_has_no_network_and_its_own_process_tree(tmp_path):
    argv = _argv(tmp_path)
    assert {"--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent"} <= set(argv)
    assert "--share-net" not in argv


def test_only_the_socket_folder_is_bound_writable(tmp_path):
    argv = _argv(tmp_path)
    writable = [argv[i + 2] for i, a in enumerate(argv) if a == "--bind"]
    assert writable == [str(tmp_path / "sock")]


def test_tmp_is_a_size_capped_tmpfs(tmp_path):
    argv = _argv(tmp_path)
    i = argv.index("--tmpfs")
    assert argv[i + 1] == "/tmp" and argv[i - 2] == "--size" and argv[i - 1] == str(1 << 20)


def test_environment_is_cleared_and_holds_nothing_of_the_graders(tmp_path):
    argv = _argv(tmp_path)
    assert "--clearenv" in argv
    env = {argv[i + 1]: argv[i + 2] for i, a in enumerate(argv) if a == "--setenv"}
    assert "JPY_PARENT_PID" not in env and "NBGRADER_DB_URL" not in env
    assert str(REPO_ROOT / ".venv" / "bin") not in env["PATH"]


def test_submission_copy_takes_regular_files_only(tmp_path):
    src = tmp_path / "src"
    (src / "helpers").mkdir(parents=True)
    (src / "helpers" / "viz.py").write_text("x = 1\n")
    (src / "01.ipynb").write_text("{}")
    os.mkfifo(src / "pipe")
    (src / "link").symlink_to("/etc/passwd")
    skipped = copy_submission(str(src), str(tmp_path / "in"))
    assert sorted(p.name for p in (tmp_path / "in").rglob("*")) == ["helpers", "viz.py"]
    assert any("pipe" in s for s in skipped) and any("link" in s for s in skipped)


# -- a real sandboxed kernel ------------------------------------------------------------------

def _run_cells(tmp_path, cells: list[str], seal=False, **traits) -> list[str]:
    source = tmp_path / "submission"
    (source / "helpers").mkdir(parents=True)
    (source / "helpers" / "__init__.py").write_text("")
    (source / "helpers" / "public.py").write_text("NAME = 'public helper'\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    km = SandboxKernelManager(source_dir=str(source), **traits)
    hooks = {"on_notebook_start": lambda notebook: km.seal_sockets()} if seal else {}
    try:
        NotebookClient(nb, km=km, timeout=60, allow_errors=True,
                       resources={"metadata": {"path": str(scratch)}}, **hooks).execute()
    finally:  # a client given its kernel manager leaves the kernel to its owner
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    return ["".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", ""))
                    or f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs) for cell in nb.cells]


@pytest.mark.nbgrader
def test_kernel_runs_unprivileged_in_a_copy_of_the_students_folder(tmp_path):
    out = _run_cells(tmp_path, ["import os; print(os.getuid(), os.getcwd())",
                                "import helpers.public; print(helpers.public.NAME)"])
    uid, cwd = out[0].split()
    assert int(uid) != 0 and cwd == "/tmp/work"
    assert out[1].strip() == "public helper"


@pytest.mark.nbgrader
def test_kernel_has_the_student_environment_only(tmp_path):
    hidden = list(foreign_site_packages(student_python()))
    out = _run_cells(tmp_path, ["import sys; print(sys.prefix)",
                                f"import sys; sys.path += {hidden!r}\nimport scipy", "import nbgrader",
                                f"open({str(REPO_ROOT / 'helpers' / 'reference.py')!r})"])
    assert out[0].strip().endswith(".venv-kernel")
    assert out[1].startswith("ModuleNotFoundError") and out[2].startswith("ModuleNotFoundError")
    assert out[3].startswith("FileNotFoundError")


@pytest.mark.nbgrader
def test_writing_past_the_tmpfs_size_fails_in_the_kernel(tmp_path):
    out = _run_cells(tmp_path, ["open('big', 'wb').write(b'x' * 3_000_000)"], tmp_mb=2)
    assert "No space left on device" in out[0]


@pytest.mark.nbgrader
def test_kernel_cannot_write_into_the_socket_folder_once_sealed(tmp_path):
    out = _run_cells(tmp_path, seal=True, cells=["import os, sys\n"
                                "folder = os.path.dirname(sys.argv[sys.argv.index('-f') + 1])\n"
                                "open(os.path.join(folder, 'fill'), 'wb').write(b'x')"])
    assert "PermissionError" in out[0] or os.geteuid() != 0
