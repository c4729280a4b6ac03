"""nbgrader configuration for the Section 3 course pack.

Read by every nbgrader command run from this directory (and by ``autograder``), so the
instructor's ``nbgrader generate_assignment section03`` and the TA's class grading agree.
"""
import os
import sys

c = get_config()  # noqa: F821 -- injected by traitlets when nbgrader loads this file

# nbgrader runs `alembic` as a subprocess to create or upgrade the gradebook; put this
# interpreter's bin/ first so that works without the virtual environment being activated.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

c.CourseDirectory.course_id = "dl-section03"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# The answer key (`nbgrader generate_solution`) goes to notebooks/, per SPEC.md.
c.CourseDirectory.solution_directory = "notebooks"
# SQLite gradebook beside this file by default; point NBGRADER_DB_URL elsewhere for PostgreSQL.
c.CourseDirectory.db_url = os.environ.get(
    "NBGRADER_DB_URL", "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
)
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# Every cell gets at most this many seconds; an infinite loop costs that cell, not the run.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
# A student who deletes a graded or test cell gets it back, from the gradebook's copy.
c.OverwriteCells.add_missing_cells = True
# Students' huge outputs (a print in a loop) are truncated in the graded copy.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# Answer key: no hidden tests, no solution delimiters, executed with figures.
c.GenerateSolution.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.preprocessors.StripSolutionDelimiters",
    "nbgrader.preprocessors.Execute",
]

# Feedback goes to students: no hidden-test code and no traceback line quoting it or a
# grading-only file (SPEC: hidden tests never reach a student). Used by formgrader's and the
# CLI's `generate_feedback` as by the class grader; scores come from the gradebook (GetGrades).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.feedback.HideHiddenTestTraces",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
