"""Fixtures shared by the suite. Matplotlib renders headless (Agg) everywhere in the suite.

Courses come from one builder, :mod:`autograder.coursebuild` (the same one the demo and the
benchmarks use): ``section03_course`` makes a section03 course, ``toy_course`` the tiny toy
of ``tests/toy_course.py``; ``build_once`` shares a course that is expensive to grade between
pytest-xdist workers.
"""
import fcntl
import os
import shutil
from pathlib import Path

import matplotlib
import pytest

from autograder.coursebuild import BuiltCourse
from tests.toy_course import ToyCourse

matplotlib.use("Agg")

# A fixed course secret: the hidden tests' random inputs are the same in every run.
TEST_COURSE_SECRET = "section03-test-course-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def section03_course(tmp_path_factory):
    """``make(name, answer_key=True)``: a new section03 course (release generated, fixed secret)."""
    def make(name: str = "course", *, answer_key: bool = True) -> BuiltCourse:
        return BuiltCourse.create(tmp_path_factory.mktemp(name), secret=TEST_COURSE_SECRET,
                                  answer_key=answer_key)
    return make


@pytest.fixture
def toy_course(tmp_path):
    """A new toy course in this test's temporary folder."""
    return ToyCourse.create(tmp_path / "course")


@pytest.fixture(scope="session")
def build_once(tmp_path_factory):
    """``build_once(name, build) -> Path``: a folder built once per test run, even across workers.

    The first pytest-xdist worker to ask builds it (``build(path)``) under a file lock; the
    others wait and reuse it. Tests must only read it.
    """
    def shared(name: str, build) -> Path:
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
        base = tmp_path_factory.getbasetemp()
        root = (base.parent / f"{name}-{run}") if run else (base / name)
        lock_path = root.parent / f".{root.name}.lock"
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            done = root / ".built"
            if not done.exists():
                shutil.rmtree(root, ignore_errors=True)
                root.mkdir(parents=True)
                build(root)
                done.write_text("ok")
        return root
    return shared
