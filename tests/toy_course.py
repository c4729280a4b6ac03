"""A tiny nbgrader course ("toy") for the class-grading, sandbox and hostile-submission tests.

Two notebooks, so a missing, corrupt or renamed notebook can be told apart from the rest:

* ``01_add``: answer ``add`` (code), test ``test_add`` (2 points: a visible assert, and the
  hidden test run by the grader), written answer ``explain`` (1 point, graded by hand);
* ``02_mul``: answer ``mul``, test ``test_mul`` (1 point).

The toy's hidden tests are ``toycheck.py`` (kept outside the course, like the real
``helpers.checks``), named by the course's own ``nbgrader_config.py``
(``PrepareChecks.checks_module``), which otherwise loads the course pack's configuration:
so ``nbgrader autograde``, the class grader and formgrader grade the toy the same way.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.build import nbgrader
from autograder.coursebuild import fill_answers
from autograder.course import REPO_ROOT, Course
from autograder.sandbox import SandboxConfig

ASSIGNMENT = "toy"

TOYCHECK = '''\
"""Hidden tests of the toy assignment. GRADING ONLY: SECRET-TOYCHECK-MARKER."""
from helpers import checks

GRADED_NAMES = ("add", "mul")
_REFERENCE = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b}
judge = checks.judge


def plan(name, rng):
    cases = [tuple(int(v) for v in rng.integers(-50, 50, 2)) for _ in range(25)]
    the_plan = checks.function_plan(name, cases, _REFERENCE[name], checks.ints_equal,
                                    lambda got, want, hidden: "the result is wrong." if hidden
                                    else f"returned {got!r}, expected {want}")
    judge_cases = the_plan.judge

    def judge_and_name(outcomes):
        failure = judge_cases(outcomes)
        if failure is not None and name == "add" and all(
                o.error is None and o.value == a - b for o, (a, b) in zip(outcomes, cases)):
            failure.slug = "subtracted"
        return failure

    the_plan.judge = judge_and_name
    return the_plan
'''

COURSE_CONFIG = '''\
import os

load_subconfig("nbgrader_config.py", path={repo!r})
here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = here
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(here, "gradebook.db")
c.PrepareChecks.checks_module = {checks!r}
c.SandboxKernelManager.mpl_cache = os.path.join(here, ".autograder", "mplcache")
'''

ADD_SOLUTION = "def add(a, b):\n    return a + b\n"
MUL_SOLUTION = "def mul(a, b):\n    return a * b\n"


def _md(grade_id=None, *, grade=False, solution=False, locked=False, points=None):
    md = {"grade": grade, "solution": solution, "locked": locked, "schema_version": 3,
          "grade_id": grade_id}
    if points is not None:
        md["points"] = points
    return {"nbgrader": md}


def source_notebooks() -> dict[str, nbformat.NotebookNode]:
    add = new_notebook(cells=[
        new_markdown_cell("# Toy 1\nWrite `add(a, b)`.", metadata=_md("intro", locked=True)),
        new_code_cell("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION\n",
                      metadata=_md("add", solution=True)),
        new_code_cell("assert add(2, 0) == 2\n",
                      metadata=_md("test_add", grade=True, locked=True, points=2)),
        new_markdown_cell("### BEGIN SOLUTION\nAddition is commutative.\n### END SOLUTION\n",
                          metadata=_md("explain", grade=True, solution=True, points=1)),
    ])
    mul = new_notebook(cells=[
        new_code_cell("def mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n    ### END SOLUTION\n",
                      metadata=_md("mul", solution=True)),
        new_code_cell("assert mul(2, 3) == 6\n",
                      metadata=_md("test_mul", grade=True, locked=True, points=1)),
    ])
    for nb in (add, mul):
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {"01_add": add, "02_mul": mul}


@dataclasses.dataclass
class ToyCourse:
    root: Path
    trusted: Path

    @property
    def course(self) -> Course:
        return Course(self.root, ASSIGNMENT)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root}/gradebook.db"

    def sandbox(self, **overrides) -> SandboxConfig:
        """Command-line style overrides of the sandbox settings (the rest from the config)."""
        return SandboxConfig(**overrides)

    @classmethod
    def create(cls, root: Path) -> "ToyCourse":
        root.mkdir(parents=True, exist_ok=True)
        trusted = root.parent / (root.name + "-trusted")
        trusted.mkdir(parents=True, exist_ok=True)
        (trusted / "toycheck.py").write_text(TOYCHECK)
        (root / "nbgrader_config.py").write_text(
            COURSE_CONFIG.format(repo=str(REPO_ROOT), checks=str(trusted / "toycheck.py")))
        source = root / "source" / ASSIGNMENT
        source.mkdir(parents=True)
        for name, nb in source_notebooks().items():
            nbformat.write(nb, source / f"{name}.ipynb")
        # like section03: the release carries the student-safe helpers package
        (source / "helpers").mkdir()
        shutil.copy(REPO_ROOT / "helpers" / "__init__.py", source / "helpers" / "__init__.py")
        toy = cls(root, trusted)
        nbgrader("generate_assignment", ASSIGNMENT, "--force", root=root, db_url=toy.db_url)
        return toy

    def autograde(self, *args: str) -> str:
        """Plain ``nbgrader autograde`` (the CLI, as a TA would run it) for this course."""
        return nbgrader("autograde", ASSIGNMENT, "--force", *args, root=self.root, db_url=self.db_url)

    # -- submissions ----------------------------------------------------------------------
    def release_notebook(self, name: str):
        return nbformat.read(self.root / "release" / ASSIGNMENT / f"{name}.ipynb", as_version=4)

    def folder(self, student: str) -> Path:
        path = self.root / "submitted" / student / ASSIGNMENT
        path.mkdir(parents=True, exist_ok=True)
        return path

    def submit(self, student: str, *, add: str | None = ADD_SOLUTION,
               mul: str | None = MUL_SOLUTION, edit=None, notebooks=("01_add", "02_mul"),
               timestamp: str | None = "2030-01-01 10:00:00.000000 UTC") -> Path:
        """Write a submission: the release with ``add``/``mul`` answers (None: left blank).

        ``edit(name, nb)`` may change a notebook further before it is written.
        """
        folder = self.folder(student)
        answers = {"add": add, "mul": mul}
        for name in notebooks:
            nb = self.release_notebook(name)
            fill_answers(nb, {gid: src for gid, src in answers.items() if src is not None})
            if edit is not None:
                nb = edit(name, nb) or nb
            nbformat.write(nb, folder / f"{name}.ipynb")
        if timestamp:
            (folder / "timestamp.txt").write_text(timestamp)
        return folder

    def write_file(self, student: str, relpath: str, content: str | bytes) -> Path:
        path = self.folder(student) / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    # -- results --------------------------------------------------------------------------
    def autograded(self, student: str, name: str):
        return nbformat.read(self.root / "autograded" / student / ASSIGNMENT / f"{name}.ipynb",
                             as_version=4)

    def cell_outputs(self, student: str, name: str, grade_id: str) -> str:
        """All text a cell of the autograded notebook shows (streams, results, errors)."""
        for cell in self.autograded(student, name).cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                return outputs_text(cell)
        raise KeyError(grade_id)

    def notebook_text(self, student: str, name: str) -> str:
        return "\n".join(outputs_text(c) for c in self.autograded(student, name).cells)

    def scores(self, student: str) -> dict[str, float]:
        """grade_id -> score of every cell of the student's submission."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            sub = gb.find_submission(ASSIGNMENT, student)
            return {g.name: g.score for nb in sub.notebooks for g in nb.grades}

    def all_scores(self) -> dict[str, dict[str, float]]:
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            students = [s.student.id for s in gb.find_assignment(ASSIGNMENT).submissions]
        return {s: self.scores(s) for s in sorted(students)}

    def state(self) -> dict:
        return json.loads((self.course.state_dir / "state.json").read_text())

    def issues(self, student: str) -> str:
        record = self.state()["students"][student]
        return "\n".join(record["issues"])


def outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}\n" + "\n".join(out.traceback))
        elif "data" in out:
            parts.append(str(out.data.get("text/plain", "")))
    return "\n".join(parts)
