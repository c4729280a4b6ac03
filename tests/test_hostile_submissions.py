"""Hostile submissions: each is graded in one shared class run (sandbox on, 2 workers).

For every attack: the batch completes, the honest students' grades are what they earned,
the attacker gains nothing, and the reason is on record. The class is graded once per test
run (see the ``build_once`` fixture); each test reads one behaviour from it.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import nbformat
import pytest

from autograder.fstree import remove_tree, walk
from autograder.grade import Options, grade_class
from tests.toy_course import ADD_SOLUTION, MUL_SOLUTION, ToyCourse

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


KERNEL_ATTACKS = {
    # Rewriting what runs: later cells (the tests, the grader's questions) become `pass`.
    "input-transformer": WRONG_ADD + "get_ipython().input_transformers_post.append("
                         "lambda lines: ['pass\\n'])\n",
    "ast-transformer": WRONG_ADD + "import ast\nclass Gut(ast.NodeTransformer):\n"
                       "    def visit_Module(self, node):\n        return ast.Module(body=[ast.Pass()], type_ignores=[])\n"
                       "get_ipython().ast_transformers.append(Gut())\n",
    # Swallowing failures: an exception handler that reports success.
    "custom-exc": WRONG_ADD + "def ok(shell, etype, evalue, tb, tb_offset=None):\n    return []\n"
                  "get_ipython().set_custom_exc((BaseException,), ok)\n",
    # Replacing the checker without replacing it: a private __builtins__ whose __import__
    # hands back a no-op for anything grading-like.
    "private-builtins": WRONG_ADD + "import builtins, types\n_real = builtins.__import__\n"
                        "def fake(name, *a, **k):\n    m = types.ModuleType(name)\n"
                        "    m.check = lambda *a, **k: None\n    return m if 'check' in name or 'helpers' in name "
                        "else _real(name, *a, **k)\n"
                        "__builtins__ = dict(vars(builtins), __import__=fake)\n",
    # Reading the answers: nothing grading-related is in the kernel or importable there.
    "reads-answers": ADD_SOLUTION + "import sys\n"
                     "print('modules:', sorted(m for m in sys.modules if any(w in m for w in "
                     "('toy', 'check', 'reference', 'mistake', 'autograder', 'nbgrader'))))\n"
                     "for name in ('scipy', 'nbgrader', 'helpers.checks', 'helpers.reference', 'autograder'):\n"
                     "    try:\n        __import__(name)\n        print('IMPORTED', name)\n"
                     "    except ImportError:\n        print('cannot import', name)\n",
    # Asking the checker: walk up the call stack for the expected value.
    "asks-checker": "import sys\ndef add(a, b):\n    frame = sys._getframe(1)\n    while frame is not None:\n"
                    "        for key in ('expected', 'want', 'result'):\n"
                    "            if key in frame.f_locals and isinstance(frame.f_locals[key], int):\n"
                    "                return frame.f_locals[key]\n        frame = frame.f_back\n    return 0\n",
    # Rules only read from the source: code that hides what the answer calls.
    "hides-with-globals": "def _real(a, b):\n    return a + b\n"
                          "def add(a, b):\n    return globals()['_re' + 'al'](a, b)\n",
    "imports-scipy": "def add(a, b):\n    import scipy\n    return a + b\n",
    # Putting the grader's questions into the feedback: a hook that prints every cell it runs.
    "hook-prints-cells": ADD_SOLUTION + "STASH = []\n"
                         "get_ipython().events.register('pre_run_cell', "
                         "lambda info: (print('CELL>', info.raw_cell), STASH.append(info.raw_cell)))\n",
    # Script in a TA's browser.
    "xss": ADD_SOLUTION + "from IPython.display import HTML, display\n"
           "display(HTML('<script>window.PWNED_XSS=1</script><img src=x onerror=\"PWNED_XSS()\">'"
           "'<a href=\"javascript:PWNED_XSS()\">x</a>'))\n",
    # Counted as a mistake in the class report by printing it.
    "prints-fake-mistake": ADD_SOLUTION + "print('[mistake: fake-mistake] ' * 3)\n"
                           "raise ValueError('[mistake: fake-mistake]')\n",
}


FLOOD_PRINT = "print('x' * 1_900_000)"
FLOODS = {  # kind -> (code of one added cell, how many such cells)
    "prints": (FLOOD_PRINT, 40),
    "images": ("from IPython.display import display\nimport base64, os\n"
               "display({'image/png': base64.b64encode(os.urandom(1_400_000)).decode()}, raw=True)", 30),
    "html": ("from IPython.display import HTML, display\ndisplay(HTML('<b>x</b>' * 230_000))", 40),
    "many-small": ("for i in range(30_000):\n    display(i)", 8),
    # one display update copied into every earlier output that shares its display_id
    "display-update": ("from IPython.display import display, update_display\n"
                       "for i in range(60):\n    display('.', display_id='flood')\n"
                       "update_display('y' * 1_900_000, display_id='flood')", 1),
}
FLOOD_LIMIT = 12_000_000  # 8 MB of outputs per notebook kept, plus the notebook itself


def _students(root: Path, port: int) -> dict[str, dict]:
    trusted = root.parent / (root.name + "-trusted")
    repo = Path(__file__).resolve().parent.parent
    paths = {
        "gradebook": root / "gradebook.db",
        "source": root / "source" / "toy" / "01_add.ipynb",
        "other-submission": root / "submitted" / "key" / "toy" / "01_add.ipynb",
        "other-autograded": root / "autograded" / "key" / "toy",
        "grader-gradebook-copy": root / ".autograder" / "toy" / "db" / "worker-0.db",
        "course-secret": root / ".autograder" / "course_secret",
        "checks-original": trusted / "toycheck.py",
        "course-checks": repo / "helpers" / "checks.py",
        "course-reference": repo / "helpers" / "reference.py",
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
    disk_filler = (
        "import os\ntry:\n    for i in range(20000):\n"
        "        with open(f'junk{i}.bin', 'wb') as fh:\n            fh.write(b'x' * 60000)\n"
        "except OSError as exc:\n    print('disk full after', i, 'files:', exc)\n")

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

    def print_stash_last(name, nb):
        if name == "01_add":
            nb.cells.append(nbformat.v4.new_code_cell("print('STASHED', STASH)"))

    def flood(code, count):
        def add_cells(name, nb):
            if name == "01_add":
                nb.cells += [nbformat.v4.new_code_cell(code) for _ in range(count)]
        return add_cells

    def flood_before_test(name, nb):
        if name == "01_add":
            at = next(i for i, c in enumerate(nb.cells)
                      if c.metadata.get("nbgrader", {}).get("grade_id") == "test_add")
            nb.cells[at:at] = [nbformat.v4.new_code_cell(FLOOD_PRINT) for _ in range(8)]

    def forge_verdicts(name, nb):
        nb.metadata["autograder"] = {"verdicts": {"add": {"passed": False, "slug": "forged-verdict"}}}

    students = {
        "key": {},
        "wrong": {"add": WRONG_ADD},
        "infinite-loop": {"add": "def add(a, b):\n    while True:\n        pass\n"},
        "loop-ignores-interrupt": {"add": "import time\ndef add(a, b):\n    while True:\n"
                                          "        try:\n            time.sleep(100)\n"
                                          "        except BaseException:\n            pass\n"},
        "os-exit": {"add": "import os\nos._exit(3)\n"},
        "os-exit-after-answer": {"add": ADD_SOLUTION, "mul": "import os\nos._exit(3)\n"},
        "sys-exit": {"add": ADD_SOLUTION + "import sys\nsys.exit(1)\n"},
        "memory-bomb": {"add": "def add(a, b):\n    hoard = []\n    while True:\n"
                               "        hoard.append(bytearray(256 * 1024 * 1024))\n"},
        "fork-bomb": {"add": fork_bomb + ADD_SOLUTION},
        "disk-filler": {"add": disk_filler + ADD_SOLUTION},
        "reads-private-files": {"add": reads + ADD_SOLUTION},
        "writes-gradebook": {"add": writes + ADD_SOLUTION},
        "network": {"add": network + ADD_SOLUTION},
        "planted-helpers": {"add": WRONG_ADD, "files": {
            "toycheck.py": "def plan(*args, **kwargs):\n    pass\n",
            "helpers/checks.py": "def judge(*args, **kwargs):\n    pass\n",
            "helpers/__init__.py": "",
            "numpy.py": "raise ImportError('planted numpy')\n"}},
        "patches-numpy": {"add": "import numpy\nnumpy.allclose = lambda *a, **k: True\n"
                                 "numpy.array_equal = lambda *a, **k: True\n" + WRONG_ADD},
        "always-equal": {"add": "class Yes:\n    def __eq__(self, other):\n        return True\n"
                                "    __hash__ = object.__hash__\n"
                                "def add(a, b):\n    return Yes()\n"},
        "stashes-requests": {"add": KERNEL_ATTACKS["hook-prints-cells"], "edit": print_stash_last},
        "forged-verdicts": {"add": WRONG_ADD, "edit": forge_verdicts},
        "edited-tests": {"add": WRONG_ADD, "mul": "def mul(a, b):\n    return 0\n", "edit": edit_test},
        "deleted-test": {"add": WRONG_ADD, "edit": delete_test},
        "reordered-cells": {"edit": move_test_first},
        "changed-points": {"add": WRONG_ADD, "edit": change_points},
        "corrupt-notebook": {"raw": {"01_add.ipynb": b'{"cells": [ this is not json'}},
        "missing-notebook": {"notebooks": ("01_add",)},
        "renamed-notebook": {"notebooks": ("01_add",), "rename": {"02_mul": "02_mul-Copy1"}},
        "huge-output": {"add": ADD_SOLUTION + "for i in range(200_000):\n    print('x' * 120)\n"},
        # Outputs that flood the graded notebook and feedback, each cell under the per-cell cap.
        **{f"output-flood-{kind}": {"edit": flood(code, count)} for kind, (code, count) in FLOODS.items()},
        "output-flood-then-wrong": {"add": WRONG_ADD, "edit": flood_before_test},
        "deep-tree": {"deep": 1200},
        # The grader's inputs copied into an earlier output by a display update while it asks.
        "display-update-leak": {"add": "display('placeholder', display_id='leak')\n_seen = []\n"
                                       "def add(a, b):\n    _seen.append((a, b))\n"
                                       "    display(repr(_seen), display_id='leak', update=True)\n"
                                       "    return a + b\n"},
        # A reply inflated to exhaust the grader's memory.
        "huge-reply": {"add": ADD_SOLUTION + "import json\n_dumps = json.dumps\n"
                              "json.dumps = lambda obj, *a, **k: '{\"steps\": [' + '[],' * 3_000_000 + '[]]}'"
                              " if isinstance(obj, dict) and 'steps' in obj else _dumps(obj, *a, **k)\n"},
        "fifo": {"fifo": ("02_mul.ipynb.bak", "data.fifo")},
    }
    students.update({name: {"add": code} for name, code in KERNEL_ATTACKS.items()})
    return students


def _write_class(toy: ToyCourse, students: dict[str, dict], port: int) -> None:
    """Write every student's submission into ``toy``'s submitted/ folder."""
    for student, spec in students.items():
        notebooks = spec.get("notebooks", ("01_add", "02_mul"))
        folder = toy.submit(student, add=spec.get("add", ADD_SOLUTION),
                            mul=spec.get("mul", MUL_SOLUTION), edit=spec.get("edit"),
                            notebooks=notebooks)
        for old, new in spec.get("rename", {}).items():
            toy.submit(student, notebooks=(old,))
            (folder / f"{old}.ipynb").rename(folder / f"{new}.ipynb")
        for rel, content in {**spec.get("files", {}), **spec.get("raw", {})}.items():
            toy.write_file(student, rel, content)
        if spec.get("deep"):
            fd = os.open(folder, os.O_RDONLY)
            for _ in range(spec["deep"]):
                os.mkdir("d" * 40, dir_fd=fd)
                inner = os.open("d" * 40, os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = inner
            os.close(fd)
        for name in spec.get("fifo", ()):
            os.mkfifo(folder / name)


def _build(root: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    toy = ToyCourse.create(root / "course")
    _write_class(toy, _students(toy.root, port), port)
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
    again = grade_class(toy.course, Options(workers=2, timeout=8, unresponsive_grace=3, progress=False,
                                            force=True, students=["deep-tree", "fifo", "key"]))
    # pytest's own clean-up of old temporary folders recurses: leave it no deep tree
    remove_tree(str(toy.folder("deep-tree") / ("d" * 40)))
    (root / "run.json").write_text(json.dumps({
        "graded": summary.graded, "failed": summary.failed, "connections": connections,
        "leftover_processes": leftovers, "again": {"graded": again.graded, "failed": again.failed}}))


@pytest.fixture(scope="module")
def hostile(build_once):
    root = build_once("hostile-class", _build)
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
    assert "MemoryError" in toy.cell_outputs("memory-bomb", "01_add", "test_add")


def test_fork_bomb_is_capped_by_the_process_limit(hostile):
    toy, run = hostile
    out = toy.cell_outputs("fork-bomb", "01_add", "add")
    assert "fork refused after" in out
    count = int(out.split("fork refused after")[1].split()[0])
    assert count < 64  # SandboxKernelManager.nproc
    assert toy.scores("fork-bomb")["test_add"] == 2.0


def test_no_student_process_outlives_grading(hostile):
    _, run = hostile
    assert run["leftover_processes"] == []


def test_private_files_are_invisible_to_student_code(hostile):
    toy, _ = hostile
    out = toy.cell_outputs("reads-private-files", "01_add", "add")
    assert "DENIED gradebook" in out
    assert "ALLOWED" not in out, out
    assert out.count("DENIED") == 9


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


def test_planted_files_are_not_staged_and_cannot_stand_in_for_the_checks(hostile):
    toy, _ = hostile
    assert toy.scores("planted-helpers") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}
    issues = toy.issues("planted-helpers")
    assert "helpers/checks.py" in issues and "toycheck.py" in issues
    autograded = toy.root / "autograded" / "planted-helpers" / "toy"
    assert not (autograded / "helpers" / "checks.py").exists()
    assert not (autograded / "numpy.py").exists()


def test_monkeypatched_numpy_gains_a_wrong_answer_nothing(hostile):
    toy, _ = hostile
    assert toy.scores("patches-numpy") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}


def test_object_that_equals_everything_gains_nothing(hostile):
    toy, _ = hostile
    assert toy.scores("always-equal")["test_add"] == 0.0


# What each attack from inside the kernel scores on test_add (2 points when the answer is right
# and nothing in the notebook breaks a rule; the rules a hook or transformer breaks are stated).
ATTACK_SCORES = {
    "input-transformer": 0.0, "ast-transformer": 0.0, "custom-exc": 0.0, "private-builtins": 0.0,
    "reads-answers": 0.0, "asks-checker": 0.0, "hides-with-globals": 0.0, "imports-scipy": 0.0,
    "hook-prints-cells": 0.0, "xss": 2.0, "prints-fake-mistake": 2.0,
}


def test_every_kernel_attack_has_an_expected_score():
    assert set(ATTACK_SCORES) == set(KERNEL_ATTACKS)


@pytest.mark.parametrize("student", sorted(KERNEL_ATTACKS))
def test_attack_from_inside_the_kernel_gains_nothing(hostile, student):
    toy, _ = hostile
    assert toy.scores(student) == {"test_add": ATTACK_SCORES[student], "explain": 0.0, "test_mul": 1.0}


def test_kernel_holds_no_grading_code_and_cannot_import_it(hostile):
    toy, _ = hostile
    out = toy.cell_outputs("reads-answers", "01_add", "add")
    assert "modules: []" in out
    assert "IMPORTED" not in out and out.count("cannot import") == 5


def test_answer_that_reads_the_call_stack_finds_no_expected_value(hostile):
    toy, _ = hostile
    text = toy.cell_outputs("asks-checker", "01_add", "test_add")
    assert toy.scores("asks-checker")["test_add"] == 0.0 and "plain code" in text


def test_answer_hiding_its_call_behind_globals_breaks_the_plain_code_rule(hostile):
    toy, _ = hostile
    assert toy.scores("hides-with-globals")["test_add"] == 0.0
    assert "globals" in toy.cell_outputs("hides-with-globals", "01_add", "test_add")


def test_answer_cannot_import_libraries_students_do_not_have(hostile):
    toy, _ = hostile
    assert toy.scores("imports-scipy")["test_add"] == 0.0
    assert "ModuleNotFoundError" in toy.cell_outputs("imports-scipy", "01_add", "test_add")


def test_swallowed_or_rewritten_test_cells_still_get_the_graders_verdict(hostile):
    toy, _ = hostile
    for student in ("input-transformer", "ast-transformer", "custom-exc", "private-builtins"):
        assert "HiddenTestFailed" in toy.cell_outputs(student, "01_add", "test_add"), student


def test_grader_questions_never_reach_the_graded_notebook_or_feedback(hostile):
    toy, _ = hostile
    for student in ("hook-prints-cells", "stashes-requests"):
        text = toy.notebook_text(student, "01_add")
        html = (toy.root / "feedback" / student / "toy" / "01_add.html").read_text()
        for leak in ("autograder_kernel_side", "<<autograder:", "SECRET-TOYCHECK-MARKER", '"steps"'):
            assert leak not in text and leak not in html, (student, leak)
    assert "STASHED" in toy.notebook_text("stashes-requests", "01_add")


def test_script_output_is_inert_in_feedback_and_in_formgraders_view(hostile):
    from html.parser import HTMLParser

    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    toy, _ = hostile
    cfg = Config()
    cfg.HTMLExporter.template_name = "formgrade"
    cfg.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": "toy", "notebook_id": "01_add", "submission_id": "x", "index": 0,
                 "total": 1, "base_url": "/", "student": "xss", "last_name": "", "first_name": "",
                 "notebook_path": "autograded/xss/toy/01_add.ipynb"}  # as formgrader's handler passes
    formgrade, _ = HTMLExporter(config=cfg).from_notebook_node(toy.autograded("xss", "01_add"),
                                                               resources=resources)
    assert "PWNED_XSS" in formgrade or "scripts are not shown" in formgrade
    feedback = (toy.root / "feedback" / "xss" / "toy" / "01_add.html").read_text()

    class Live(HTMLParser):
        found = []

        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if "PWNED_XSS" in (value or "") and (name.startswith("on") or "javascript:" in value):
                    self.found.append((tag, name))

        def handle_data(self, data):
            if "PWNED_XSS" in data and self.lasttag == "script":
                self.found.append(("script", data))

    for page in (formgrade, feedback):
        parser = Live()
        parser.found = []
        parser.feed(page)
        assert parser.found == []
    assert toy.scores("xss")["test_add"] == 2.0


def test_printed_mistake_tags_are_not_counted_in_the_class_report(hostile):
    from autograder.report import mistakes_found

    toy, _ = hostile
    found = mistakes_found(toy.course)
    assert "fake-mistake" not in found and "forged-verdict" not in found
    assert "subtracted" in found and "wrong" in found["subtracted"]["students"]


def test_disk_filling_fails_that_notebook_only_and_writes_nothing_outside(hostile):
    toy, _ = hostile
    assert "disk full after" in toy.cell_outputs("disk-filler", "01_add", "add")
    assert toy.scores("disk-filler") == {"test_add": 2.0, "explain": 0.0, "test_mul": 1.0}
    assert not [e for e in walk(toy.root) if e.path.endswith("junk0.bin")]


def test_display_updates_while_the_grader_asks_do_not_reach_the_notebook(hostile):
    toy, _ = hostile
    # the visible test's call add(2, 0) may update it; none of the grader's 25 calls does
    assert toy.cell_outputs("display-update-leak", "01_add", "add").strip() == "'[(2, 0)]'"
    assert toy.scores("display-update-leak")["test_add"] == 2.0


def test_an_oversized_reply_is_refused_and_costs_only_that_answer(hostile):
    toy, _ = hostile
    assert toy.scores("huge-reply") == {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0}
    assert "did not answer" in toy.cell_outputs("huge-reply", "01_add", "test_add")


def test_next_run_with_the_same_deep_tree_and_fifo_succeeds(hostile):
    _, run = hostile
    assert sorted(run["again"]["graded"]) == ["deep-tree", "fifo", "key"] and run["again"]["failed"] == []


def test_deep_trees_and_fifos_cost_nothing_and_are_listed(hostile):
    toy, _ = hostile
    for student in ("deep-tree", "fifo"):
        assert toy.scores(student) == {"test_add": 2.0, "explain": 0.0, "test_mul": 1.0}, student
    assert "FIFO" in toy.issues("fifo") or "fifo" in toy.issues("fifo")


def test_kernel_death_after_an_answer_keeps_that_answers_points(hostile):
    toy, _ = hostile
    assert toy.scores("os-exit-after-answer") == {"test_add": 2.0, "explain": 0.0, "test_mul": 0.0}


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


@pytest.mark.parametrize("kind", sorted(FLOODS))
def test_an_output_flood_is_bounded_in_the_graded_notebook_and_feedback(hostile, kind):
    toy, _ = hostile
    student = f"output-flood-{kind}"
    assert toy.scores(student)["test_add"] == 2.0
    graded = toy.root / "autograded" / student / "toy" / "01_add.ipynb"
    feedback = toy.root / "feedback" / student / "toy" / "01_add.html"
    assert graded.stat().st_size < FLOOD_LIMIT
    assert feedback.stat().st_size < FLOOD_LIMIT


def test_an_output_flood_before_a_failing_test_keeps_the_failure(hostile):
    toy, _ = hostile
    assert toy.scores("output-flood-then-wrong")["test_add"] == 0.0
    assert "output left out by the autograder" in toy.notebook_text("output-flood-then-wrong", "01_add")


# -- the same attacks through plain `nbgrader autograde` and formgrader's Autograde button ------

def _build_other_paths(root: Path) -> None:
    """Grade the kernel attacks and an honest student with the CLI and with formgrader's API."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    students = {"key": {}, **{name: {"add": code} for name, code in KERNEL_ATTACKS.items()}}
    scores = {}
    for path in ("cli", "formgrader"):
        toy = ToyCourse.create(root / path)
        _write_class(toy, students, 0)
        if path == "cli":
            toy.autograde()
        else:
            cfg = toy.course.config
            api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
            for student in students:
                result = api.autograde("toy", student)
                assert result["success"], result.get("error")
        scores[path] = {student: toy.scores(student) for student in students}
    (root / "scores.json").write_text(json.dumps(scores))


@pytest.fixture(scope="module")
def other_paths(build_once):
    root = build_once("hostile-other-paths", _build_other_paths)
    return json.loads((root / "scores.json").read_text())


@pytest.mark.parametrize("path", ["cli", "formgrader"])
def test_honest_student_gets_full_marks_in_every_grading_path(other_paths, path):
    assert other_paths[path]["key"] == {"test_add": 2.0, "explain": 0.0, "test_mul": 1.0}


@pytest.mark.parametrize("path", ["cli", "formgrader"])
@pytest.mark.parametrize("student", sorted(KERNEL_ATTACKS))
def test_kernel_attack_scores_the_same_in_every_grading_path(other_paths, path, student):
    assert other_paths[path][student] == {"test_add": ATTACK_SCORES[student], "explain": 0.0,
                                          "test_mul": 1.0}
