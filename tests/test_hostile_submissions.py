"""Hostile submissions: each is graded in one shared class run (sandbox on, 2 workers).

For every attack: the batch completes, the honest students' grades are what they earned,
the attacker gains nothing, and the reason is on record. The class is graded once per test
run (see ``shared_dir``); each test reads one behaviour from it.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import nbformat
import pytest

from autograder.grade import Options, grade_class
from tests.fixtures_course import ADD_SOLUTION, MUL_SOLUTION, ToyCourse, shared_dir

pytestmark = pytest.mark.nbgrader

WRONG_ADD = "def add(a, b):\n    return a - b\n"
PROBE = """\
def attempt(label, action):
    try:
        action()
        print("ALLOWED", label)
    except Exception as exc:
        print("DENIED", label, type(exc).__name__)
"""


def _students(root: Path, port: int) -> dict[str, dict]:
    trusted = root.parent / (root.name + "-trusted")
    paths = {
        "gradebook": root / "gradebook.db",
        "source": root / "source" / "toy" / "01_add.ipynb",
        "other-submission": root / "submitted" / "key" / "toy" / "01_add.ipynb",
        "other-autograded": root / "autograded" / "key" / "toy",
        "grader-gradebook-copy": root / ".autograder" / "toy" / "db" / "worker-0.db",
        "checks-original": trusted / "helpers" / "toycheck.py",
        "course-checks": Path(__file__).resolve().parent.parent / "helpers" / "checks.py",
        "course-reference": Path(__file__).resolve().parent.parent / "helpers" / "reference.py",
    }
    reads = PROBE + "import os\n" + "".join(
        f"attempt({label!r}, lambda: open({str(p)!r}, 'rb').read(16) if os.path.isfile({str(p)!r}) "
        f"else os.listdir({str(p)!r}))\n" for label, p in paths.items())
    writes = PROBE + (
        f"attempt('write-gradebook', lambda: open({str(paths['gradebook'])!r}, 'ab').write(b'x'))\n"
        f"attempt('delete-gradebook', lambda: os.remove({str(paths['gradebook'])!r}))\n"
        f"attempt('write-source', lambda: open({str(paths['source'])!r}, 'w').write('x'))\n"
        "import os\n")
    network = PROBE + (
        "import socket\n"
        f"attempt('host-loopback', lambda: socket.create_connection(('127.0.0.1', {port}), timeout=2))\n"
        "attempt('internet', lambda: socket.create_connection(('1.1.1.1', 53), timeout=2))\n"
        "attempt('dns', lambda: socket.getaddrinfo('example.com', 80))\n")
    fork_bomb = (
        "import os, time\ncount = 0\ntry:\n    while count < 10000:\n        pid = os.fork()\n"
        "        if pid == 0:\n            time.sleep(3600)\n            os._exit(0)\n"
        "        count += 1\nexcept OSError as exc:\n    print('fork refused after', count, 'children:', exc)\n")

    def move_test_first(name, nb):
        if name == "02_mul":
            test = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_mul"]
            nb.cells = test + [c for c in nb.cells if c not in test]

    def delete_test(name, nb):
        if name == "01_add":
            nb.cells = [c for c in nb.cells
                        if c.metadata.get("nbgrader", {}).get("grade_id") != "test_add"]

    def edit_test(name, nb):
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in ("test_add", "test_mul"):
                cell.source = "pass"

    def change_points(name, nb):
        for cell in nb.cells:
            md = cell.metadata.get("nbgrader", {})
            if md.get("grade_id") in ("test_add", "test_mul", "explain"):
                md["points"] = 100
            if md.get("grade_id") == "add":  # make the answer cell a graded cell too
                md.update(grade=True, points=50)
        nb.cells.append(nbformat.v4.new_code_cell(
            "pass", metadata={"nbgrader": {"grade": True, "solution": False, "locked": False,
                                           "points": 1000, "grade_id": "bonus", "schema_version": 3}}))

    return {
        "key": {},
        "wrong": {"add": WRONG_ADD},
        "infinite-loop": {"add": "def add(a, b):\n    while True:\n        pass\n"},
        "loop-ignores-interrupt": {"add": "import time\ndef add(a, b):\n    while True:\n"
                                          "        try:\n            time.sleep(100)\n"
                                          "        except BaseException:\n            pass\n"},
        "os-exit": {"add": "import os\nos._exit(3)\n"},
        "sys-exit": {"add": ADD_SOLUTION + "import sys\nsys.exit(1)\n"},
        "memory-bomb": {"add": "def add(a, b):\n    hoard = []\n    while True:\n"
                               "        hoard.append(bytearray(256 * 1024 * 1024))\n"},
        "fork-bomb": {"add": fork_bomb + ADD_SOLUTION},
        "reads-private-files": {"add": reads + ADD_SOLUTION},
        "writes-gradebook": {"add": writes + ADD_SOLUTION},
        "network": {"add": network + ADD_SOLUTION},
        "planted-helpers": {"add": WRONG_ADD, "files": {
            "helpers/toycheck.py": "def check(*args, **kwargs):\n    pass\n",
            "helpers/__init__.py": "",
            "autograder/__init__.py": "",
            "autograder/kernel.py": "raise SystemExit('planted')\n",
            "numpy.py": "raise ImportError('planted numpy')\n"}},
        "patches-check": {"add": "import helpers.toycheck\n"
                                 "helpers.toycheck.check = lambda *a, **k: None\n" + WRONG_ADD},
        "patches-numpy": {"add": "import numpy\nnumpy.allclose = lambda *a, **k: True\n"
                                 "numpy.array_equal = lambda *a, **k: True\n" + ADD_SOLUTION},
        "patches-builtins": {"add": "import builtins\n_isinstance = isinstance\n"
                                    "builtins.isinstance = lambda o, t: True if type(o).__name__ == "
                                    "'Yes' else _isinstance(o, t)\n" + ADD_SOLUTION},
        "patches-during-test": {"add": "def add(a, b):\n    import builtins\n"
                                       "    builtins.round = lambda *x: 0\n    return a + b\n"},
        "calls-reference": {"add": "from helpers.toyref import add as _answer\n"
                                   "def add(a, b):\n    return _answer(a, b)\n"},
        "spoofs-trusted-filename": {"add": (
            "import helpers.toycheck, helpers.toyref\nns = {}\n"
            "exec(compile('def add(a, b):\\n    return ref_add(a, b)\\n', helpers.toycheck.__file__,"
            " 'exec'), {'ref_add': helpers.toyref.add}, ns)\nadd = ns['add']\n")},
        "always-equal": {"add": "class Yes:\n    def __eq__(self, other):\n        return True\n"
                                "    __hash__ = object.__hash__\n"
                                "def add(a, b):\n    return Yes()\n"},
        "edited-tests": {"add": WRONG_ADD, "mul": "def mul(a, b):\n    return 0\n", "edit": edit_test},
        "deleted-test": {"add": WRONG_ADD, "edit": delete_test},
        "reordered-cells": {"edit": move_test_first},
        "changed-points": {"add": WRONG_ADD, "edit": change_points},
        "corrupt-notebook": {"raw": {"01_add.ipynb": b'{"cells": [ this is not json'}},
        "missing-notebook": {"notebooks": ("01_add",)},
        "renamed-notebook": {"notebooks": ("01_add",), "rename": {"02_mul": "02_mul-Copy1"}},
        "huge-output": {"add": ADD_SOLUTION + "for i in range(200_000):\n    print('x' * 120)\n"},
    }


def _build(root: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    toy = ToyCourse.create(root / "course")
    for student, spec in _students(toy.root, port).items():
        notebooks = spec.get("notebooks", ("01_add", "02_mul"))
        folder = toy.submit(student, add=spec.get("add", ADD_SOLUTION),
                            mul=spec.get("mul", MUL_SOLUTION), edit=spec.get("edit"),
                            notebooks=notebooks)
        for old, new in spec.get("rename", {}).items():
            toy.submit(student, notebooks=(old,))
            (folder / f"{old}.ipynb").rename(folder / f"{new}.ipynb")
        for rel, content in spec.get("files", {}).items():
            toy.write_file(student, rel, content)
        for rel, content in spec.get("raw", {}).items():
            toy.write_file(student, rel, content)
    summary = grade_class(toy.course, Options(
        workers=2, sandbox=toy.sandbox(), timeout=8, unresponsive_grace=3, progress=False))
    connections = 0
    try:
        while True:
            listener.accept()[0].close()
            connections += 1
    except BlockingIOError:
        pass
    listener.close()
    leftovers = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink(f"/proc/{pid}/cwd").startswith(str(toy.root)):
                    leftovers.append(pid)
            except OSError:
                pass
    (root / "run.json").write_text(json.dumps({
        "graded": summary.graded, "failed": summary.failed, "connections": connections,
        "leftover_processes": leftovers}))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = shared_dir(tmp_path_factory, "hostile-class", _build)
    toy = ToyCourse(root / "course", root / "course-trusted")
    run = json.loads((root / "run.json").read_text())
    return toy, run


def test_every_submission_is_graded_despite_the_attacks(hostile):
    toy, run = hostile
    assert run["failed"] == []
    assert set(run["graded"]) == set(_students(toy.root, 0))


def test_honest_student_gets_full_marks_in_the_same_batch(hostile):
    toy, _ = hostile
    assert toy.scores("key") == {"test_add": 2.0, "explain": 0.0, "test_mul": 1.0}


def test_wrong_answer_loses_only_its_test(hostile):
    toy, _ = hostile
    assert toy.scores("wrong") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}


def test_infinite_loop_costs_its_cell_and_the_kernel_is_interrupted(hostile):
    toy, _ = hostile
    assert toy.scores("infinite-loop") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}
    assert "timed out" in toy.issues("infinite-loop")
    assert "stayed busy" not in toy.issues("infinite-loop")


def test_timeout_traceback_in_feedback_shows_no_grading_only_frames(hostile):
    toy, _ = hostile
    html = (toy.root / "feedback" / "infinite-loop" / "toy" / "01_add.html").read_text()
    assert "KeyboardInterrupt" in html or "CellTimeoutError" in html
    assert "toycheck" not in html and "HIDDEN TESTS" not in html


def test_loop_that_swallows_the_interrupt_is_killed_and_later_cells_score_zero(hostile):
    toy, _ = hostile
    assert toy.scores("loop-ignores-interrupt") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}
    assert "stayed busy" in toy.issues("loop-ignores-interrupt")


def test_os_exit_kills_only_its_notebook_and_unrun_tests_score_zero(hostile):
    toy, _ = hostile
    assert toy.scores("os-exit") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}
    assert "exited with status 3" in toy.issues("os-exit")
    assert "not run" in toy.cell_outputs("os-exit", "01_add", "test_add")


def test_sys_exit_does_not_stop_the_notebook(hostile):
    toy, _ = hostile
    assert toy.scores("sys-exit") == {"test_add": 2.0, "explain": 0.0, "test_mul": 1.0}


def test_memory_bomb_hits_the_memory_limit_not_the_machine(hostile):
    toy, _ = hostile
    assert toy.scores("memory-bomb") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}
    text = toy.cell_outputs("memory-bomb", "01_add", "test_add") + toy.issues("memory-bomb")
    assert "MemoryError" in text or "memory" in text


def test_fork_bomb_is_capped_by_the_process_limit(hostile):
    toy, run = hostile
    out = toy.cell_outputs("fork-bomb", "01_add", "add")
    assert "fork refused after" in out
    count = int(out.split("fork refused after")[1].split()[0])
    assert count < toy.sandbox().nproc
    assert toy.scores("fork-bomb")["test_add"] == 2.0


def test_no_student_process_outlives_grading(hostile):
    _, run = hostile
    assert run["leftover_processes"] == []


def test_private_files_are_invisible_to_student_code(hostile):
    toy, _ = hostile
    out = toy.cell_outputs("reads-private-files", "01_add", "add")
    assert "DENIED gradebook" in out
    assert "ALLOWED" not in out, out
    assert out.count("DENIED") == 8


def test_reading_attempts_leak_no_hidden_test_into_outputs_or_feedback(hostile):
    toy, _ = hostile
    assert "SECRET-TOYCHECK-MARKER" not in toy.notebook_text("reads-private-files", "01_add")
    feedback = toy.root / "feedback" / "reads-private-files" / "toy"
    for path in feedback.rglob("*"):
        if path.is_file():
            assert b"SECRET-TOYCHECK-MARKER" not in path.read_bytes(), path


def test_gradebook_and_source_cannot_be_written(hostile):
    toy, _ = hostile
    out = toy.cell_outputs("writes-gradebook", "01_add", "add")
    assert "ALLOWED" not in out and out.count("DENIED") == 3
    assert toy.scores("writes-gradebook")["test_add"] == 2.0
    assert (toy.root / "source" / "toy" / "01_add.ipynb").read_text().startswith("{")


def test_network_is_unreachable_including_the_hosts_loopback(hostile):
    toy, run = hostile
    out = toy.cell_outputs("network", "01_add", "add")
    assert "ALLOWED" not in out and out.count("DENIED") == 3
    assert run["connections"] == 0


def test_planted_helpers_cannot_replace_the_hidden_checks(hostile):
    toy, _ = hostile
    assert toy.scores("planted-helpers") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}
    issues = toy.issues("planted-helpers")
    assert "helpers/toycheck.py" in issues and "autograder/kernel.py" in issues
    autograded = toy.root / "autograded" / "planted-helpers" / "toy"
    assert not (autograded / "helpers" / "toycheck.py").exists()
    assert not (autograded / "numpy.py").exists()


def test_replacing_the_check_function_is_tampering(hostile):
    toy, _ = hostile
    assert toy.scores("patches-check")["test_add"] == 0.0
    assert "helpers.toycheck.check" in toy.issues("patches-check")


def test_monkeypatched_numpy_zeroes_the_notebook_with_the_reason(hostile):
    toy, _ = hostile
    assert toy.scores("patches-numpy") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}
    assert "numpy.allclose" in toy.issues("patches-numpy")
    assert "IntegrityError" in toy.cell_outputs("patches-numpy", "01_add", "test_add")


def test_monkeypatched_builtins_zeroes_the_notebook(hostile):
    toy, _ = hostile
    assert toy.scores("patches-builtins")["test_add"] == 0.0
    assert "builtins.isinstance" in toy.issues("patches-builtins")


def test_patching_from_inside_the_tested_function_is_caught(hostile):
    toy, _ = hostile
    assert toy.scores("patches-during-test")["test_add"] == 0.0
    assert "builtins.round" in toy.issues("patches-during-test")


def test_answer_that_calls_the_reference_implementation_scores_zero(hostile):
    toy, _ = hostile
    assert toy.scores("calls-reference")["test_add"] == 0.0
    assert "grading-only helpers.toyref.add" in toy.issues("calls-reference")


def test_code_disguised_as_the_checks_own_file_is_caught(hostile):
    toy, _ = hostile
    assert toy.scores("spoofs-trusted-filename")["test_add"] == 0.0
    assert "claims to come from" in toy.issues("spoofs-trusted-filename")


def test_object_that_equals_everything_gains_nothing(hostile):
    toy, _ = hostile
    assert toy.scores("always-equal")["test_add"] == 0.0
    assert "expected a number" in toy.cell_outputs("always-equal", "01_add", "test_add")


def test_edited_test_cells_are_restored(hostile):
    toy, _ = hostile
    assert toy.scores("edited-tests") == {"test_add": 0.0, "explain": 0.0, "test_mul": 0.0}


def test_deleted_test_cell_is_restored_and_scored(hostile):
    toy, _ = hostile
    assert toy.scores("deleted-test")["test_add"] == 0.0
    cells = [c.metadata.get("nbgrader", {}).get("grade_id")
             for c in toy.autograded("deleted-test", "01_add").cells]
    assert "test_add" in cells


def test_reordered_cells_gain_nothing(hostile):
    toy, _ = hostile
    assert toy.scores("reordered-cells") == {"test_add": 2.0, "explain": 0.0, "test_mul": 0.0}


def test_changed_points_and_grading_flags_do_not_raise_the_maximum(hostile):
    toy, _ = hostile
    scores = toy.scores("changed-points")
    assert scores == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}
    assert "points" in toy.issues("changed-points")


def test_corrupt_notebook_scores_zero_and_the_other_is_graded(hostile):
    toy, _ = hostile
    assert toy.scores("corrupt-notebook") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}
    assert "01_add.ipynb could not be read" in toy.issues("corrupt-notebook")


def test_missing_notebook_scores_zero_with_the_reason(hostile):
    toy, _ = hostile
    assert toy.scores("missing-notebook") == {"test_add": 2.0, "explain": 0.0, "test_mul": 0.0}
    assert "missing notebook 02_mul.ipynb" in toy.issues("missing-notebook")


def test_renamed_notebook_is_reported_not_graded(hostile):
    toy, _ = hostile
    assert toy.scores("renamed-notebook")["test_mul"] == 0.0
    assert "02_mul-Copy1.ipynb" in toy.issues("renamed-notebook")


def test_huge_output_is_truncated_and_the_notebook_still_graded(hostile):
    toy, _ = hostile
    assert toy.scores("huge-output")["test_add"] == 2.0
    path = toy.root / "autograded" / "huge-output" / "toy" / "01_add.ipynb"
    assert path.stat().st_size < 5_000_000
