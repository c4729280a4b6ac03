"""A sample class for the demo (``python -m autograder demo`` / ``make demo``).

Built from the course's own files, so it follows the notebooks as they change:

* ``key``: every answer cell filled with the solution from ``source/`` (delimiters
  removed), written answers included, so they show up as manual grading to do;
* ``blank``: the release, untouched;
* one student per recognised mistake of :mod:`helpers.mistakes` (per distinct slug by
  default, every catalogue entry with ``all_mistakes``): the key with that one answer cell
  replaced by the mistake's code;
* hostile submissions: an infinite loop, ``os._exit``, a memory bomb, reading and
  overwriting the gradebook, a planted ``helpers/checks.py`` that passes everything, and
  an IPython input transformer that turns every later cell into ``pass``.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .course import Course
from .coursebuild import ASSIGNMENT, create_course, solution_sources, write_submission


def mistake_students(all_mistakes: bool = False) -> dict[str, object]:
    """student name -> the :class:`helpers.mistakes.Mistake` that student makes.

    One student per distinct mistake (slug) by default; with ``all_mistakes``, one per
    catalogue entry.
    """
    from helpers.mistakes import CATALOGUE

    students, seen = {}, set()
    for mistake in CATALOGUE:
        if not all_mistakes and mistake.slug in seen:
            continue
        seen.add(mistake.slug)
        name = f"mistake-{mistake.slug}" if not all_mistakes else f"mistake-{mistake.answer}-{mistake.slug}"
        students[name] = mistake
    return students


def with_answer(key: dict, notebook: str, answer: str, code: str) -> dict:
    """A copy of the answers ``key`` (notebook -> {grade_id: source}) with one cell replaced."""
    answers = {nb: dict(cells) for nb, cells in key.items()}
    answers[notebook][answer] = code
    return answers


@dataclass(frozen=True)
class Hostile:
    """One hostile student: ``code`` in ``answer`` (of ``notebook``), replacing the solution
    or, with ``after_solution``, appended to it."""

    notebook: str
    answer: str
    code: str
    what: str
    after_solution: bool = False


def _hostile(gradebook: Path, source: Path) -> dict[str, Hostile]:
    """The hostile students of the sample class."""
    reads = ("for path, mode in [({gb!r}, 'rb'), ({gb!r}, 'ab'), ({src!r}, 'rb')]:\n"
             "    try:\n        open(path, mode).read(10) if 'r' in mode else open(path, mode).write(b'x')\n"
             "        print('got at', path)\n"
             "    except Exception as exc:\n        print('no access to', path, type(exc).__name__)\n"
             ).format(gb=str(gradebook), src=str(source))
    return {
        "hostile-infinite-loop": Hostile(
            "01_conv_arithmetic", "conv_output_size",
            "def conv_output_size(n, F, S=1, P=0):\n    while True:\n        pass\n",
            "conv_output_size never returns"),
        "hostile-os-exit": Hostile(
            "03_l1_vectorization", "compute_distances_one_loop", "import os\nos._exit(1)\n",
            "os._exit(1) in notebook 03", after_solution=True),
        "hostile-memory-bomb": Hostile(
            "04_vector_backprop", "forward",
            "def forward(W, x):\n    hoard = []\n    while True:\n"
            "        hoard.append(bytearray(512 * 1024 * 1024))\n",
            "allocates memory until it fails"),
        "hostile-reads-gradebook": Hostile(
            "01_conv_arithmetic", "q1c", reads, "tries to read and append to the gradebook",
            after_solution=True),
        "hostile-planted-checks": Hostile(
            "02_kernel_of_truth", "conv2d", "def conv2d(x, w, stride=1, padding=0):\n    return x\n",
            "wrong conv2d plus a planted helpers/checks.py that passes all"),
        "hostile-rewrites-tests": Hostile(
            "02_kernel_of_truth", "max_pool2d",
            "def max_pool2d(x, size, stride=None, padding=0):\n    return x\n"
            "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n",
            "wrong max_pool2d plus an input transformer that empties the tests"),
    }


def build_sample_class(root: Path, *, all_mistakes: bool = False) -> dict[str, str]:
    """Create the demo course at ``root`` (replaced); return {student: what they did}."""
    root = Path(root).resolve()
    if root.exists():
        shutil.rmtree(root)
    create_course(root)
    key = solution_sources(root / "source" / ASSIGNMENT)
    described = {"key": "the answer key", "blank": "the release, untouched"}
    write_submission(root, "key", key)
    write_submission(root, "blank", {})
    for student, mistake in mistake_students(all_mistakes).items():
        write_submission(root, student, with_answer(key, mistake.notebook, mistake.answer, mistake.code))
        described[student] = f"{mistake.slug} in {mistake.answer}"
    hostile = _hostile(root / "gradebook.db", root / "source" / ASSIGNMENT / "01_conv_arithmetic.ipynb")
    for student, h in hostile.items():
        code = key[h.notebook][h.answer] + "\n" + h.code if h.after_solution else h.code
        write_submission(root, student, with_answer(key, h.notebook, h.answer, code))
        described[student] = h.what
    planted = root / "submitted" / "hostile-planted-checks" / ASSIGNMENT / "helpers"
    planted.mkdir(parents=True, exist_ok=True)
    (planted / "checks.py").write_text("def check(*args, **kwargs):\n    return None\n")
    return described


def run_demo(root: Path, *, workers=None, sandbox=None, fresh=True, all_mistakes=False) -> int:
    """Build the sample class, grade it, print the results table and the report's path."""
    from .grade import Options, grade_class
    from .results import print_results, write_outputs
    from .sandbox import SandboxUnavailable

    root = Path(root).resolve()
    if fresh or not (root / "gradebook.db").exists():
        print(f"building the sample class in {root} ...", flush=True)
        described = build_sample_class(root, all_mistakes=all_mistakes)
        print(f"{len(described)} students: key, blank, {sum(s.startswith('mistake-') for s in described)} "
              f"with one known mistake each, {sum(s.startswith('hostile-') for s in described)} hostile",
              flush=True)
    course = Course(root, ASSIGNMENT)
    options = Options(workers=workers, timeout=30, notebook_budget=300)
    if sandbox is not None:
        options.sandbox = sandbox
    try:
        summary = grade_class(course, options)
    except SandboxUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"graded {len(summary.graded)} students ({len(summary.skipped)} unchanged) in "
          f"{summary.seconds:.0f} s with the sandbox {'OFF' if options.sandbox.enabled is False else 'on'}\n")
    outputs = write_outputs(course)
    print_results(course)
    print()
    for label, path in outputs.items():
        print(f"{label}: {path}")
    print(f"feedback: {course.feedback_root}/<student>/{ASSIGNMENT}/*.html")
    return 0 if not summary.failed else 1
