"""The TA commands (``python -m autograder ...``): a wrong course, assignment or option is an
``error: ...`` saying what to fix and a non-zero exit, never a traceback or a silent empty
result; ``grade`` names the students whose submissions had problems."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import REPO_ROOT
from tests.toy_course import ASSIGNMENT, ToyCourse

pytestmark = pytest.mark.nbgrader


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """The real command, as a TA types it (from the repository, so --course is always given)."""
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def assert_error(out: subprocess.CompletedProcess, *phrases: str, code: int = 2) -> None:
    shown = out.stdout + out.stderr
    assert out.returncode == code, shown
    assert "Traceback" not in shown, shown
    for phrase in phrases:
        assert phrase in out.stderr, out.stderr


def release_digest(root: Path, assignment: str) -> dict[str, str]:
    folder = root / "release" / assignment
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def followed(hint_of: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """Run the command quoted in an error message, in a shell, as a TA would paste it."""
    match = re.search(r"running `([^`]+)`", hint_of.stderr)
    assert match, hint_of.stderr
    return subprocess.run(match.group(1), shell=True, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def toy_template(tmp_path_factory):
    return ToyCourse.create(tmp_path_factory.mktemp("toy") / "course")


@pytest.fixture
def toy(toy_template, tmp_path):
    """A fresh toy course (release generated, nobody graded) for this test: a copy of one
    built per module."""
    shutil.copytree(toy_template.root, tmp_path / "course", symlinks=True)
    return ToyCourse(tmp_path / "course", toy_template.trusted)


# -- 1. no gradebook yet: the hint is a command that works --------------------------------

def test_grade_without_gradebook_hints_generate_assignment_with_force(toy):
    (toy.root / "gradebook.db").unlink()
    out = run("grade", ASSIGNMENT, "--course", str(toy.root))
    assert_error(out, f"generate_assignment {ASSIGNMENT} --force", str(toy.root))


def test_following_the_gradebook_hint_lets_grade_run_and_keeps_the_release(toy):
    (toy.root / "gradebook.db").unlink()
    before = release_digest(toy.root, ASSIGNMENT)
    hint = run("grade", ASSIGNMENT, "--course", str(toy.root))
    done = followed(hint)
    assert done.returncode == 0, done.stdout + done.stderr
    assert release_digest(toy.root, ASSIGNMENT) == before
    again = run("grade", ASSIGNMENT, "--course", str(toy.root), "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("graded 0, unchanged 0, failed 0")


def test_gradebook_hint_works_for_a_course_without_its_own_config(section03_course):
    # coursebuild's section03 courses use the course pack's nbgrader_config.py
    course = section03_course("noconfig")
    assert not (course.root / "nbgrader_config.py").exists()
    (course.root / "gradebook.db").unlink()
    before = release_digest(course.root, "section03")
    done = followed(run("grade", "section03", "--course", str(course.root)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert release_digest(course.root, "section03") == before
    again = run("grade", "section03", "--course", str(course.root), "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith("graded 0, unchanged 0, failed 0")


# -- 2. --course that is not a course ---------------------------------------------------

def test_grade_names_a_course_folder_that_does_not_exist(tmp_path):
    missing = tmp_path / "no-such-course"
    out = run("grade", ASSIGNMENT, "--course", str(missing))
    assert_error(out, f"course folder {missing} does not exist")
    assert "gradebook" not in out.stderr
    assert not missing.exists()


def test_grade_says_a_folder_without_config_or_source_is_not_a_course(tmp_path):
    out = run("grade", ASSIGNMENT, "--course", str(tmp_path))
    assert_error(out, f"{tmp_path} is not an nbgrader course", "no nbgrader_config.py",
                 "no source/ folder")


def test_sandbox_check_names_a_course_folder_that_does_not_exist(tmp_path):
    out = run("sandbox-check", "--course", str(tmp_path / "nope"))
    assert_error(out, f"course folder {tmp_path / 'nope'} does not exist")


# -- 3. and 4. a wrong assignment or course in the commands that read grades ---------------

@pytest.mark.parametrize("command", ["results", "report", "export", "feedback"])
def test_unknown_assignment_is_named_with_the_ones_that_exist(toy, command):
    out = run(command, "nosuch", "--course", str(toy.root))
    assert_error(out, "no assignment 'nosuch'", f"assignments are: {ASSIGNMENT}")
    assert out.stdout == ""


@pytest.mark.parametrize("command", ["results", "report", "export", "feedback"])
def test_missing_course_folder_is_named_and_left_uncreated(tmp_path, command):
    missing = tmp_path / "no-such-course"
    out = run(command, ASSIGNMENT, "--course", str(missing))
    assert_error(out, f"course folder {missing} does not exist")
    assert not missing.exists()


@pytest.mark.parametrize("command", ["results", "report", "export", "feedback"])
def test_reading_grades_before_any_grading_says_to_grade_first(toy, command):
    gradebook = toy.root / "gradebook.db"
    gradebook.unlink()
    out = run(command, ASSIGNMENT, "--course", str(toy.root))
    assert_error(out, "nothing has been graded yet", f"autograder grade {ASSIGNMENT}")
    assert not gradebook.exists()  # the check did not create an empty gradebook
    assert not (toy.root / "reports").exists()


def test_results_of_a_course_with_an_empty_gradebook_entry_is_an_empty_table(toy):
    # the assignment is known and in the gradebook, nobody graded yet: not an error
    out = run("results", ASSIGNMENT, "--course", str(toy.root))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:3] == ["student", "01_add", "02_mul"]


# -- 5. --workers must be a positive number ---------------------------------------------

@pytest.mark.parametrize("value", ["0", "-2", "two"])
@pytest.mark.parametrize("command", [["grade", ASSIGNMENT], ["feedback", ASSIGNMENT], ["demo"]])
def test_workers_below_one_is_refused_at_parsing(tmp_path, command, value):
    out = run(*command, "--workers", value, *(["--course", str(tmp_path)] if len(command) > 1
                                                 else ["--dir", str(tmp_path / "demo")]))
    assert_error(out, "argument --workers: must be a whole number, 1 or more")
    assert not (tmp_path / "demo").exists()


def test_grade_help_states_what_the_exit_status_means():
    out = run("grade", "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    assert "1 when some student could not be graded" in text
    assert "problems in a student's own submission" in text


# -- 6. grade names the students whose submissions had problems ----------------------------

@pytest.fixture(scope="module")
def graded_with_problems(tmp_path_factory):
    """A toy class: one clean submission, one with a corrupt notebook, one missing a
    notebook; graded once with the real command."""
    toy = ToyCourse.create(tmp_path_factory.mktemp("problems") / "course")
    toy.submit("ann")
    toy.submit("corrupt-cal")
    toy.write_file("corrupt-cal", "02_mul.ipynb", "{not json")
    toy.submit("missing-max", notebooks=("01_add",))
    out = run("grade", ASSIGNMENT, "--course", str(toy.root), "--workers", "2", "--quiet",
              "--no-feedback", "--timeout", "20")
    return toy, out


def test_grade_summary_counts_students_with_problems(graded_with_problems):
    _, out = graded_with_problems
    assert out.stdout.splitlines()[0].startswith(
        "graded 3 (2 with problems: see below), unchanged 0, failed 0"), out.stdout + out.stderr


def test_grade_lists_the_corrupt_notebook_of_its_student(graded_with_problems):
    _, out = graded_with_problems
    lines = [line for line in out.stdout.splitlines() if line.startswith("  corrupt-cal: ")]
    assert lines and "02_mul.ipynb could not be read" in lines[0], out.stdout
    assert "scored zero" in lines[0]


def test_grade_lists_the_missing_notebook_of_its_student(graded_with_problems):
    _, out = graded_with_problems
    assert "  missing-max: missing notebook 02_mul.ipynb: scored zero" in out.stdout.splitlines()


def test_grade_lists_nothing_for_a_clean_submission(graded_with_problems):
    _, out = graded_with_problems
    assert not any(line.startswith("  ann") for line in out.stdout.splitlines()), out.stdout


def test_problems_in_submissions_do_not_make_grade_fail(graded_with_problems):
    toy, out = graded_with_problems
    assert out.returncode == 0, out.stdout + out.stderr
    assert toy.scores("corrupt-cal")["test_mul"] == 0.0
