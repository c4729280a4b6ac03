"""A temporary nbgrader course holding section03, for tests that grade with real nbgrader.

``Course.create(tmp)`` copies ``source/`` (symlinks resolved), generates the release into a
fresh gradebook with ``nbgrader generate_assignment``; ``submit`` writes a student's notebooks
made from the release with chosen answer cells filled in; ``autograde`` runs
``nbgrader autograde`` once for every submitted student; ``score`` and ``error_text`` read the
results back through nbgrader's ``Gradebook`` and the autograded notebooks.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from autograder.build import REPO, nbgrader

ASSIGNMENT = "section03"
TEST_COURSE_SECRET = "section03-test-course-secret-0123456789abcdef"
NOTEBOOKS = ("01_conv_arithmetic", "02_kernel_of_truth", "03_l1_vectorization", "04_vector_backprop")
_DELIMS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def solution_sources(notebook: str) -> dict[str, str]:
    """grade_id -> the answer cell's source in the source notebook, delimiters removed (code cells)."""
    nb = nbformat.read(REPO / "source" / ASSIGNMENT / f"{notebook}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: _DELIMS.sub("", c.source)
            for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}


def graded_cells(notebook: str) -> dict[str, float]:
    """grade_id -> points of every autograded test cell of a source notebook."""
    nb = nbformat.read(REPO / "source" / ASSIGNMENT / f"{notebook}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
            for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


@dataclass
class Course:
    root: Path

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root}/gradebook.db"

    @classmethod
    def create(cls, root: Path) -> "Course":
        """A course at ``root`` with section03's source and a freshly generated release."""
        shutil.copytree(REPO / "source", root / "source", symlinks=False)
        # a fixed course secret: the hidden tests' random inputs are the same in every run
        (root / ".autograder").mkdir(exist_ok=True)
        (root / ".autograder" / "course_secret").write_text(TEST_COURSE_SECRET)
        course = cls(root)
        nbgrader("generate_assignment", ASSIGNMENT, "--force", root=root, db_url=course.db_url)
        return course

    def release_notebook(self, notebook: str):
        return nbformat.read(self.root / "release" / ASSIGNMENT / f"{notebook}.ipynb", as_version=4)

    def submit(self, student: str, notebook: str, answers: dict[str, str] | None = None, *,
               solved: bool = True) -> Path:
        """Write ``student``'s copy of ``notebook``: the release with answer cells filled in.

        ``solved`` fills every answer cell with the solution first; ``answers`` then replaces
        the cells it names (grade_id -> source). Returns the notebook's path.
        """
        nb = self.release_notebook(notebook)
        fill = dict(solution_sources(notebook)) if solved else {}
        fill.update(answers or {})
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in fill:
                cell.source = fill[gid]
        folder = self.root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{notebook}.ipynb"
        nbformat.write(nb, path)
        return path

    def autograde(self, *extra: str) -> str:
        """``nbgrader autograde section03`` for every submitted student; returns the log."""
        return nbgrader("autograde", ASSIGNMENT, "--force", *extra, root=self.root, db_url=self.db_url)

    def score(self, student: str, notebook: str, grade_id: str) -> float:
        with Gradebook(self.db_url) as gb:
            return gb.find_grade(grade_id, notebook, ASSIGNMENT, student).score

    def scores(self, student: str, notebook: str) -> dict[str, float]:
        """grade_id -> score of every autograded cell of one student's notebook."""
        with Gradebook(self.db_url) as gb:
            nb = gb.find_submission_notebook(notebook, ASSIGNMENT, student)
            return {g.name: g.score for g in nb.grades if g.cell.cell_type == "code"}

    def autograded(self, student: str, notebook: str):
        return nbformat.read(self.root / "autograded" / student / ASSIGNMENT / f"{notebook}.ipynb", as_version=4)

    def error_text(self, student: str, notebook: str, grade_id: str) -> str:
        """The error a graded cell printed (ename, evalue and traceback), '' if none."""
        for cell in self.autograded(student, notebook).cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                return "\n".join(
                    "\n".join([o.ename, o.evalue, *o.traceback])
                    for o in cell.get("outputs", []) if o.output_type == "error")
        raise KeyError(f"no cell {grade_id} in {student}'s {notebook}")

    def stderr_cells(self, student: str, notebook: str) -> list[str]:
        """grade_ids (or indices) of cells that wrote to stderr."""
        return [cell.metadata.get("nbgrader", {}).get("grade_id", str(i))
                for i, cell in enumerate(self.autograded(student, notebook).cells)
                for o in cell.get("outputs", [])
                if o.output_type == "stream" and o.name == "stderr"]
