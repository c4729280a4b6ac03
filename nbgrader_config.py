"""nbgrader configuration for the Section 3 course pack.

Read by every nbgrader command run from this directory (and by ``autograder``), so the
instructor's ``nbgrader generate_assignment section03`` and the TA's class grading agree.
"""
import os
import sys

import nbgrader

import autograder

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
# The answer key (`nbgrader generate_solution`) goes to notebooks/ (docs/design.md).
c.CourseDirectory.solution_directory = "notebooks"
# SQLite gradebook beside this file by default; point NBGRADER_DB_URL elsewhere for PostgreSQL.
c.CourseDirectory.db_url = os.environ.get(
    "NBGRADER_DB_URL", "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
)
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".*"]

# Autograding, the same for `nbgrader autograde`, formgrader's Autograde button and
# `python -m autograder grade`: student code runs in a sandboxed kernel that holds no
# grading code; the hidden tests are planned before and judged after, in this process,
# from plain data the kernel sends back (autograder/README.md explains each step).
# First the submission's cells get the release's grading metadata back (a cell pasted from
# another notebook, a copy, a deleted locked cell, a changed type: autograder/repair.py), then
# nbgrader's own sanitising.
c.Autograde.sanitize_preprocessors = [
    "autograder.repair.RepairGradingMetadata",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Autograde.autograde_preprocessors = [
    "autograder.answers.PrepareChecks",      # plan each hidden test: inputs from the secret seed
    "autograder.execute.SandboxedExecute",   # run the notebook sandboxed; ask after each test cell
    "autograder.execute.MarkNotRun",         # cells after a dead kernel or a spent budget: not run
    "autograder.execute.BoundOutputs",       # outputs bounded in bytes, per cell and per notebook
    "autograder.answers.CheckAnswers",       # judge the replies; verdicts into the test cells
    "autograder.sanitize.SanitizeOutputs",   # student HTML made inert before anyone views it
    "autograder.execute.BoundOutputs",       # again: escaping can make outputs grow (& -> &amp;)
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Seeds the hidden tests' random inputs per student; created on first use, never committed.
c.PrepareChecks.secret_file = os.path.join(".autograder", "course_secret")  # in the course root

# The sandbox (autograder/sandbox.py): bubblewrap, the student environment, limits.
c.SandboxKernelManager.enabled = True
c.SandboxKernelManager.memory_mb = 2048      # address space; numpy + IPython need ~1 GB
c.SandboxKernelManager.cpu_seconds = 300     # CPU seconds per notebook
c.SandboxKernelManager.nproc = 64            # processes and threads (as root: per sandbox uid)
c.SandboxKernelManager.tmp_mb = 256          # /tmp and the working folder: a capped tmpfs
c.SandboxKernelManager.mpl_cache = os.path.join(c.CourseDirectory.root, ".autograder", "mplcache")
c.SandboxedExecute.notebook_budget = 900     # wall-clock seconds per notebook
c.SandboxedExecute.ask_timeout = 60          # seconds to answer one hidden test
c.SandboxedExecute.repeat_timeout = 10       # after one timeout in a notebook, each later cell or test

# Every cell gets at most this many seconds; an infinite loop costs that cell, not the run.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120
# A student who deletes a locked, graded or task cell gets it back: RepairGradingMetadata puts
# it back from the release where it was (nbgrader's own add-back, OverwriteCells.add_missing_cells,
# fails when the cell before the deleted one is not graded).
c.OverwriteCells.add_missing_cells = False
# Students' huge outputs are bounded in the graded copy (and so in feedback): in bytes, per cell
# and per notebook (the answer key's largest notebook has 1.6 MB of outputs), then in lines.
c.BoundOutputs.max_cell_bytes = 2_000_000
c.BoundOutputs.max_notebook_bytes = 8_000_000
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# The release: nbgrader's pipeline, without the answer key's pictures of the graded questions
# (cells tagged answer-key-only; the release shows worked examples instead).
c.GenerateAssignment.preprocessors = [
    "autograder.preprocessors.DropAnswerKeyOnlyCells",
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Answer key: no worked-example cells of the release (tagged release-only), no solution
# delimiters, executed with figures.
c.GenerateSolution.preprocessors = [
    "autograder.preprocessors.DropReleaseOnlyCells",
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ClearHiddenTests",
    "autograder.preprocessors.StripSolutionDelimiters",
    "nbgrader.preprocessors.Execute",
]

# Feedback: scores from the gradebook; the graded notebook is already sanitised and its test
# cells hold only visible tests and the verdicts written by the grader.
# Then, after grading, the handout's own animations from the answer key join the worked
# examples; maths is rendered as MathML and long messages wrap, so the page reads offline (the
# folder autograder/templates/feedback shadows the MathJax loader of nbgrader's "feedback"
# template, which stays the page's template).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.sanitize.SanitizeOutputs",
    "autograder.preprocessors.AddAnswerKeyPictures",
    "autograder.preprocessors.FeedbackCSS",
]
# nbconvert's HTML exporter, its markdown rendering maths as MathML (autograder/mathml.py)
c.GenerateFeedback.exporter_class = "autograder.mathml.FeedbackHTMLExporter"
c.HTMLExporter.extra_template_basedirs = [
    os.path.join(os.path.dirname(os.path.abspath(autograder.__file__)), "templates"),
    # nbgrader's own "feedback" template (after ours, whose mathjax.html.j2 wins)
    os.path.join(os.path.dirname(os.path.abspath(nbgrader.__file__)),
                 "server_extensions", "formgrader", "templates"),
]
