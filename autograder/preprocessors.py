"""nbgrader preprocessors of the course pack: one preprocessor, one job."""
import copy
import os
import re

import nbformat
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Unicode

_DELIMITER = re.compile(r"^[ \t]*(###|#|<!--)?[ \t]*(BEGIN|END) SOLUTION[ \t]*(-->)?[ \t]*\n?", re.MULTILINE)


class StripSolutionDelimiters(NbGraderPreprocessor):
    """Remove nbgrader's ``### BEGIN/END SOLUTION`` lines, keeping the solution code.

    Used for the answer key (``notebooks/``): it shows solutions as a student would write them,
    without the authoring markup.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type in ("code", "markdown") and "SOLUTION" in cell.source:
            cell.source = _DELIMITER.sub("", cell.source)
        return cell, resources


class DropCellsForOtherAudience(NbGraderPreprocessor):
    """Remove the cells meant for the other audience: release vs answer key.

    A cell tagged ``answer-key-only`` (the handout's own sizes and matrices, animated: they
    show the answers) is removed from the student release; a cell tagged ``release-only``
    (the same pictures on a worked example that is not a graded question) is removed from
    the answer key. ``nbgrader_config.py`` lists the subclass each converter needs.
    """

    drop_tag = Unicode("answer-key-only", help="cells with this tag are removed").tag(config=True)

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if self.drop_tag not in c.metadata.get("tags", [])]
        return nb, resources


class DropAnswerKeyOnlyCells(DropCellsForOtherAudience):
    """For ``generate_assignment``: the release gets no cell tagged ``answer-key-only``."""

    drop_tag = Unicode("answer-key-only").tag(config=True)


class DropReleaseOnlyCells(DropCellsForOtherAudience):
    """For ``generate_solution``: the answer key gets no cell tagged ``release-only``."""

    drop_tag = Unicode("release-only").tag(config=True)


class AddAnswerKeyPictures(NbGraderPreprocessor):
    """Feedback only: after grading, the handout's own pictures join the student's notebook.

    The release shows the sliding-filter animations and tilings on worked examples (cells
    tagged ``release-only``) because the handout's own ``I``, ``F`` and sizes would show the
    hand answers. Once a submission is graded those answers may be seen: this copies every
    run of ``answer-key-only`` cells, with their outputs, from the executed answer key
    (``CourseDirectory.solution_directory``, i.e. ``notebooks/<assignment>/``) into the
    feedback, right after the worked examples that stand in for them. The cells come from the
    course's own answer key, never from the submission, so they are added after sanitising.

    Only the release's own worked-example cells (by grade_id, read from the release) are
    stepped over: a student's cell carrying the tag does not move the pictures. A student who
    reorders cells moves them on their own page only.

    A missing answer key is logged and the feedback is made without these pictures.
    """

    tag = Unicode("answer-key-only", help="answer key cells to copy into feedback").tag(config=True)
    stand_in_tag = Unicode("release-only", help="release cells the copies follow").tag(config=True)
    heading = Unicode(
        "**From the answer key**, shown now that your work is graded: the questions' own "
        "numbers, step by step.", help="markdown cell put before each copied run").tag(config=True)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._keys = {}

    def course_notebook(self, resources, folder: str) -> str:
        """Path of this notebook in one of the course's folders (``solution_directory``...)."""
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        nbg = resources.get("nbgrader", {})
        where = coursedir.format_path(getattr(coursedir, folder), ".", nbg.get("assignment", ""))
        return os.path.join(where, f"{nbg.get('notebook', '')}.ipynb")

    def _read(self, path: str, what: str, remedy: str):
        """The notebook at ``path`` (read once per run), or None with a warning saying why."""
        if path not in self._keys:
            try:
                self._keys[path] = nbformat.read(path, as_version=4)
            except (OSError, ValueError) as exc:
                self.log.warning("no answer key pictures in feedback: cannot read the %s %s (%s); %s",
                                 what, path, exc, remedy)
                self._keys[path] = None
        return self._keys[path]

    def _stand_ins(self, resources) -> set:
        """grade_ids of the release's worked-example cells (empty if there is no release)."""
        path = self.course_notebook(resources, "release_directory")
        if not os.path.exists(path):
            return set()
        release = self._read(path, "release", "regenerate it with `nbgrader generate_assignment`")
        return {c.metadata.get("nbgrader", {}).get("grade_id") for c in (release.cells if release else [])
                if self.stand_in_tag in c.metadata.get("tags", [])} - {None}

    def _runs(self, key):
        """[(grade_id of the key cell before the run, [cells of the run])], in order."""
        runs, anchor, in_run = [], None, False
        for cell in key.cells:
            tagged = self.tag in cell.metadata.get("tags", [])
            if tagged and not in_run:
                runs.append((anchor, []))
            if tagged:
                runs[-1][1].append(cell)
            else:
                anchor = cell.metadata.get("nbgrader", {}).get("grade_id", anchor)
            in_run = tagged
        return runs

    def _copy(self, cell):
        cell = copy.deepcopy(cell)
        cell.metadata.pop("nbgrader", None)
        cell.metadata.pop("deletable", None)
        cell.metadata.pop("editable", None)
        cell.metadata.setdefault("autograder", {})["from_answer_key"] = True
        if cell.cell_type == "code":  # the key's prompt numbers mean nothing in this notebook
            cell.execution_count = None
            for output in cell.get("outputs", []):
                if "execution_count" in output:
                    output.execution_count = None
        return cell

    def preprocess(self, nb, resources):
        key = self._read(self.course_notebook(resources, "solution_directory"), "answer key",
                         "make it with `nbgrader generate_solution`")
        if key is None:
            return nb, resources
        stand_ins = self._stand_ins(resources)
        for anchor, cells in reversed(self._runs(key)):
            ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
            if anchor is not None and anchor not in ids:
                self.log.warning("answer key pictures after %r left out: the submission has "
                                 "no such cell", anchor)
                continue
            at = 0 if anchor is None else ids.index(anchor) + 1  # None: the key starts with them
            # after the last worked example that follows the anchor (cells of the student's
            # own, without a grade_id, may sit among them)
            for i in range(at, len(ids)):
                if ids[i] in stand_ins:
                    at = i + 1
                elif ids[i] is not None:
                    break
            intro = nbformat.v4.new_markdown_cell(self.heading)
            intro.metadata["autograder"] = {"from_answer_key": True}
            nb.cells[at:at] = [intro, *map(self._copy, cells)]
        return nb, resources


class FeedbackCSS(CSSHTMLHeaderPreprocessor):
    """nbconvert's CSS header for the feedback page, plus rules that keep it readable.

    A hidden test's verdict or a traceback is one long line in a ``<pre>``; nbgrader's page
    cuts it off at the cell's edge. Here output text wraps, and display maths (MathML, see
    :mod:`autograder.mathml`) gets some room.
    """

    # nbgrader registers its converters' preprocessors without enabling them, and nbconvert's
    # CSS preprocessor is off by default (NbGraderPreprocessor's are on).
    enabled = Bool(True).tag(config=True)
    extra_css = Unicode("""
div.output_area pre, div.output_subarea pre, div.output_text pre {
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
math[display="block"] { margin: 0.6em 0; font-size: 1.1em; }
""", help="CSS added after nbconvert's").tag(config=True)

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        resources["inlining"]["css"].append(self.extra_css)
        return nb, resources
