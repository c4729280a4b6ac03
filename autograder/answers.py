"""The hidden tests as two nbgrader preprocessors around execution, both in the trusted grader.

Autograding runs (see ``nbgrader_config.py``)::

    PrepareChecks -> SandboxedExecute -> MarkNotRun -> CheckAnswers -> SanitizeOutputs -> ...

* :class:`PrepareChecks` plans the hidden test of every autograded test cell
  (``test_<name>``): inputs from a seed derived from the course secret, the student,
  the notebook and the answer (stable across regrades, unknown to students), and the
  request the kernel will be asked. The plans stay in the grader's memory
  (``resources["autograder"]``); nothing of them is written into the notebook.
* :class:`~autograder.execute.SandboxedExecute` runs the notebook and, right after each
  test cell, sends that cell's request and keeps the decoded reply (plain data).
* :class:`CheckAnswers` judges each reply with :func:`helpers.checks.judge` (reference,
  mistakes and source rules all live here, outside the kernel) and writes the verdict into
  the test cell's outputs -- an error output for a failure, which nbgrader's
  ``SaveAutoGrades`` scores zero -- and into the notebook's metadata
  (``metadata.autograder.verdicts``), where the class report reads it.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
import tempfile
import traceback

import numpy as np
from nbformat import NotebookNode
from nbgrader import utils as nbutils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

VERDICT_ENAME = "HiddenTestFailed"


def autograded_test_name(cell) -> str | None:
    """``name`` for an autograded test cell whose grade_id is ``test_<name>``, else None."""
    if cell.cell_type != "code" or not nbutils.is_grade(cell) or nbutils.is_solution(cell):
        return None
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
    return grade_id[len("test_"):] if grade_id.startswith("test_") else None


def state(resources: dict) -> dict:
    """The grader's private per-notebook state in nbconvert's resources."""
    return resources.setdefault("autograder", {"plans": {}, "replies": {}, "stopped": None,
                                               "executed": set()})


def read_secret(path: str) -> bytes:
    """The course secret that seeds hidden-test inputs; created (0600) on first use.

    Made whole before it has its name (written to a private temporary file, then linked into
    place), so parallel workers grading a new course agree on one secret and none reads it
    half-written.
    """
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    if not os.path.exists(path):
        fd, draft = tempfile.mkstemp(prefix=".secret-", dir=folder)  # 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_hex(32).encode())
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(draft, path)  # fails if another worker's secret got there first
            except FileExistsError:
                pass
        finally:
            os.unlink(draft)
    with open(path, "rb") as fh:
        secret = fh.read().strip()
    if len(secret) < 16:
        raise ValueError(f"the course secret {path} is too short; delete it to make a new one")
    return secret


def seed_for(secret: bytes, student: str, notebook: str, name: str) -> int:
    """A 128-bit seed: the same for a student's answer in every regrade, secret to students."""
    digest = hmac.new(secret, f"{student}\0{notebook}\0{name}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:16], "big")


def load_checks(spec: str):
    """The hidden-test module: a dotted module name, or the path of a ``.py`` file.

    It provides ``GRADED_NAMES``, ``plan(name, rng) -> Plan`` and
    ``judge(plan, reply, cells) -> Failure | None`` (see :mod:`helpers.checks`).
    """
    import importlib
    import importlib.util

    if spec.endswith(".py"):
        name = "autograder_checks_" + hashlib.sha256(spec.encode()).hexdigest()[:12]
        if name in sys.modules:
            return sys.modules[name]
        module_spec = importlib.util.spec_from_file_location(name, spec)
        if module_spec is None:
            raise ImportError(f"cannot load the hidden tests from {spec}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        sys.modules[name] = module
        return module
    return importlib.import_module(spec)


class PrepareChecks(NbGraderPreprocessor):
    """Plan each autograded test cell's hidden test (trusted; before execution)."""

    secret_file = Unicode(
        "", help="file holding the course secret that seeds the hidden tests' random inputs; "
                 "a relative path is relative to CourseDirectory.root"
    ).tag(config=True)
    checks_module = Unicode(
        "helpers.checks", help="the hidden tests: a module name or a .py file path"
    ).tag(config=True)

    def secret_path(self) -> str:
        """``secret_file``, relative to the course root that this run grades."""
        root = self.config.CourseDirectory.get("root", "") or os.getcwd()
        return os.path.join(root, self.secret_file)

    def preprocess(self, nb, resources):
        checks = load_checks(self.checks_module)
        info = state(resources)
        info["checks"] = checks
        nbg = resources.get("nbgrader", {})
        secret = read_secret(self.secret_path()) if self.secret_file else b"no course secret configured"
        student, notebook = str(nbg.get("student", "")), str(nbg.get("notebook", ""))
        names = [n for n in map(autograded_test_name, nb.cells) if n in checks.GRADED_NAMES]

        def rng_for(name):
            return np.random.default_rng(seed_for(secret, student, notebook, name))

        if hasattr(checks, "plan_notebook"):
            info["plans"].update(checks.plan_notebook(names, rng_for))
        else:
            info["plans"].update({name: checks.plan(name, rng_for(name)) for name in names})
        return nb, resources


def notebook_cells(nb, executed=None):
    """The notebook's code cells as :class:`helpers.rules.Cell`, in order.

    ``executed`` (cell indices) keeps only the cells the kernel that answered ran: the rules
    judge exactly the code that ran, never a cell skipped or after the kernel's death.
    """
    from helpers.rules import Cell

    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or (executed is not None and index not in executed):
            continue
        student = not nbutils.is_locked(cell)
        answer = cell.metadata.get("nbgrader", {}).get("grade_id") if nbutils.is_solution(cell) else None
        raised = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        cells.append(Cell(cell.source, student, answer, index + 1, raised))
    return cells


def verdict_output(text: str) -> NotebookNode:
    """An error output carrying a hidden test's verdict (nbgrader scores the cell zero)."""
    lines = text.splitlines() or [text]
    return NotebookNode(output_type="error", ename=VERDICT_ENAME, evalue=lines[0],
                        traceback=[f"\x1b[0;31m{VERDICT_ENAME}\x1b[0m: {lines[0]}", *lines[1:]])


class CheckAnswers(NbGraderPreprocessor):
    """Judge the kernel's replies outside the kernel; write verdicts into the test cells."""

    def preprocess(self, nb, resources):
        info = state(resources)
        checks = info.get("checks")
        ran = info.get("executed") if "run" in info else None  # None: not executed here
        cells = notebook_cells(nb, ran)
        verdicts = {}
        for cell in nb.cells:
            name = autograded_test_name(cell)
            if name is None:
                continue
            # nbgrader reads a displayed number in a test cell as partial credit: never here.
            cell.outputs = [o for o in cell.outputs if o.output_type != "execute_result"]
            plan = info["plans"].get(name)
            if plan is None or checks is None:
                continue
            already_failed = any(o.output_type == "error" for o in cell.outputs)
            reply = info["replies"].get(name, "the notebook stopped before this test ran.")
            others = {n: (info["plans"][n], info["replies"].get(n)) for n in info["plans"]}
            try:
                failure = checks.judge(plan, reply, cells, others)
                message = failure.render(name) if failure else ""
            except Exception:  # noqa: BLE001 -- a grader bug costs this answer, never the notebook
                self.log.error("checking %s raised:\n%s", name, traceback.format_exc(limit=8))
                failure, message = True, (f"{name}: could not be checked: the grader itself failed on "
                                          "this answer. This is not your mistake; the course staff "
                                          "see it in the grading log.")
            verdicts[name] = {"passed": failure is None,
                              "slug": getattr(failure, "slug", None),
                              "message": message,
                              "visible_tests_failed": already_failed}
            if failure is not None:
                cell.outputs.append(verdict_output(message))
            elif not already_failed:
                stderr_is_not_a_failure(cell)
        nb.metadata["autograder"] = {"verdicts": verdicts}
        return nb, resources


STDERR_NOTE = "[printed to stderr by your code; shown here, it costs no points]\n"


def stderr_is_not_a_failure(cell) -> None:
    """A passing test cell's stderr (a debug print, a warning) shown as ordinary output.

    nbgrader scores a test cell that wrote to stderr zero; a correct answer that prints a
    debug line to ``sys.stderr`` or triggers a numpy warning keeps its points here.
    """
    for output in cell.outputs:
        if output.output_type == "stream" and output.name == "stderr":
            output.name = "stdout"
            output.text = STDERR_NOTE + output.text
