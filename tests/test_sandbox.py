"""The sandbox around student kernels: bubblewrap detection, isolation, limits, the guard."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import stat
import sys
import types
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import guard
from autograder.course import REPO_ROOT
from autograder.grade import Options, grade_class
from autograder.sandbox import (SandboxConfig, SandboxKernelManager, SandboxUnavailable,
                                bwrap_argv, check_sandbox, prepare_trusted_tree, sandbox_env)
from tests.fixtures_course import ADD_SOLUTION, ToyCourse


# -- detection -------------------------------------------------------------------------------

def test_missing_bwrap_fails_loudly_and_names_the_opt_out(tmp_path):
    with pytest.raises(SandboxUnavailable) as err:
        check_sandbox(SandboxConfig(bwrap=str(tmp_path / "no-such-bwrap")), tmp_path)
    assert "bubblewrap" in str(err.value) and "--no-sandbox" in str(err.value)


def test_bwrap_without_user_namespaces_fails_loudly(tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(SandboxUnavailable) as err:
        check_sandbox(SandboxConfig(bwrap=str(fake)), tmp_path)
    assert "user namespaces" in str(err.value) and "--no-sandbox" in str(err.value)


def test_disabled_sandbox_is_not_checked(tmp_path):
    check_sandbox(SandboxConfig(enabled=False, bwrap=str(tmp_path / "none")), tmp_path)


@pytest.mark.nbgrader
def test_grading_stops_before_touching_anyone_when_the_sandbox_cannot_work(tmp_path):
    toy = ToyCourse.create(tmp_path / "course")
    toy.submit("ann")
    broken = toy.sandbox(bwrap=str(tmp_path / "no-such-bwrap"))
    with pytest.raises(SandboxUnavailable):
        grade_class(toy.course, Options(workers=1, sandbox=broken, progress=False))
    assert not (toy.root / "autograded").exists()
    assert toy.all_scores() == {}


# -- the command line -----------------------------------------------------------------------

def _argv(tmp_path) -> list[str]:
    work, sock = tmp_path / "work", tmp_path / "sock"
    work.mkdir()
    sock.mkdir()
    trusted = [(str(tmp_path / "copy" / "helpers"), str(REPO_ROOT / "helpers"))]
    return bwrap_argv(SandboxConfig(), workdir=str(work), sockdir=str(sock), trusted=trusted,
                      env=sandbox_env(SandboxConfig(), {}))


def test_sandbox_has_no_network_and_its_own_process_tree(tmp_path):
    argv = _argv(tmp_path)
    assert {"--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent"} <= set(argv)
    assert "--share-net" not in argv


def test_only_the_students_folder_and_the_socket_folder_are_writable(tmp_path):
    argv = _argv(tmp_path)
    writable = [argv[i + 2] for i, a in enumerate(argv) if a == "--bind"]
    assert writable == [str(tmp_path / "work"), str(tmp_path / "sock")]


def test_course_root_and_home_are_not_mounted(tmp_path):
    argv = _argv(tmp_path)
    sources = [argv[i + 1] for i, a in enumerate(argv) if a in ("--bind", "--ro-bind")]
    assert str(REPO_ROOT) not in sources
    assert os.path.expanduser("~") not in sources
    assert not any(s.rstrip("/") in ("", "/home") for s in sources)


def test_environment_is_cleared_before_the_kernel_starts(tmp_path):
    argv = _argv(tmp_path)
    assert "--clearenv" in argv
    names = {argv[i + 1] for i, a in enumerate(argv) if a == "--setenv"}
    assert "JPY_PARENT_PID" not in names and "NBGRADER_DB_URL" not in names


def test_grading_only_helpers_are_private_and_public_ones_readable(tmp_path):
    config = SandboxConfig(public_files=("helpers/sliding.py",))
    pairs = prepare_trusted_tree(config, tmp_path / "trusted")
    copy = Path(dict((mount, c) for c, mount in pairs)[str(REPO_ROOT / "helpers")])
    assert stat.S_IMODE((copy / "checks.py").stat().st_mode) == 0o600
    assert stat.S_IMODE((copy / "reference.py").stat().st_mode) == 0o600
    assert stat.S_IMODE((copy / "sliding.py").stat().st_mode) == 0o644
    assert stat.S_IMODE(copy.stat().st_mode) == 0o755


# -- a real sandboxed kernel ------------------------------------------------------------------

def _run_cells(tmp_path, cells: list[str], **config) -> tuple[list[str], SandboxKernelManager]:
    cfg = SandboxConfig(preimport=("numpy", "helpers"), public_files=("helpers/sliding.py",), **config)
    settings = dataclasses.asdict(cfg)
    settings["trusted"] = prepare_trusted_tree(cfg, tmp_path / "trusted")
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    km = SandboxKernelManager(settings=settings)
    NotebookClient(nb, km=km, timeout=60, allow_errors=True,
                   resources={"metadata": {"path": str(work)}}).execute()
    texts = []
    for cell in nb.cells:
        texts.append("".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", ""))
                             or f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs))
    return texts, km


@pytest.mark.nbgrader
def test_kernel_runs_as_an_unprivileged_user_in_the_students_folder(tmp_path):
    out, _ = _run_cells(tmp_path, ["import os; print(os.getuid(), os.getcwd())"])
    uid, cwd = out[0].split()
    assert int(uid) != 0 and cwd == str(tmp_path / "work")


@pytest.mark.nbgrader
def test_kernel_cannot_read_grading_only_helpers_but_can_import_public_ones(tmp_path):
    out, _ = _run_cells(tmp_path, [
        f"open({str(REPO_ROOT / 'helpers' / 'reference.py')!r}).read()",
        "import helpers.sliding; print('imported', helpers.sliding.__name__)",
    ])
    assert out[0].startswith("PermissionError")
    assert out[1].strip() == "imported helpers.sliding"


@pytest.mark.nbgrader
def test_cpu_limit_kills_the_kernel_with_the_reason(tmp_path):
    toy = ToyCourse.create(tmp_path / "course")
    toy.submit("spinner", add="def add(a, b):\n    while True:\n        pass\n")
    grade_class(toy.course, Options(workers=1, sandbox=toy.sandbox(cpu_seconds=6), timeout=120,
                                    progress=False, feedback=False))
    assert "CPU time limit" in toy.issues("spinner")
    assert toy.scores("spinner") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}


@pytest.mark.nbgrader
def test_without_the_sandbox_tampering_is_still_caught(tmp_path):
    toy = ToyCourse.create(tmp_path / "course")
    toy.submit("honest")
    toy.submit("patcher", add="import numpy\nnumpy.allclose = lambda *a, **k: True\n" + ADD_SOLUTION)
    grade_class(toy.course, Options(workers=2, sandbox=toy.sandbox(enabled=False), progress=False,
                                    feedback=False))
    assert toy.scores("honest") == {"test_add": 2.0, "explain": 0.0, "test_mul": 1.0}
    assert toy.scores("patcher")["test_add"] == 0.0
    assert "numpy.allclose" in toy.issues("patcher")


# -- the guard, in-process (no hook is installed here) ----------------------------------------

def test_snapshot_reports_a_replaced_module_function(monkeypatch):
    module = types.ModuleType("helpers_fake_for_test")
    module.check = lambda: None
    monkeypatch.setitem(sys.modules, "helpers_fake_for_test", module)
    snap = guard.Snapshot()
    snap.add_module("helpers_fake_for_test", module)
    assert snap.violations() == []
    module.check = lambda: "patched"
    assert snap.violations() == ["helpers_fake_for_test.check was replaced or deleted"]


def test_snapshot_reports_a_swapped_code_object():
    def check():
        return 1
    snap = guard.Snapshot()
    snap.add_function("check", check)
    check.__code__ = (lambda: 2).__code__
    assert snap.violations() == ["check had its code or defaults changed"]


def test_snapshot_reports_a_method_overridden_on_an_instance():
    class Shell:
        def run_cell(self):
            return "real"
    shell = Shell()
    snap = guard.Snapshot()
    snap.add_instance("shell", shell)
    shell.run_cell = lambda: "fake"
    assert snap.violations() == ["shell.run_cell was overridden on the instance"]


def test_channel_records_without_the_key_are_ignored():
    key = guard.new_key()
    good = {"body": json.dumps({"event": "probe", "nonce": "n", "ok": True}, sort_keys=True)}
    import hmac

    good["mac"] = hmac.new(key, good["body"].encode(), digestmod="sha256").hexdigest()
    forged = {"body": good["body"], "mac": "0" * 64}
    data = (json.dumps(good) + "\n" + json.dumps(forged) + "\nnot json\n").encode()
    records, bad = guard.parse_records(data, key)
    assert records == [{"event": "probe", "nonce": "n", "ok": True}] and bad == 2
