"""Grading a class with one command: results, parallel = sequential = plain nbgrader,
resumability, feedback, CSV export, class report, CLI."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.course import Course
from autograder.grade import Options, grade_class
from tests.toy_course import ADD_SOLUTION, ASSIGNMENT, ToyCourse

pytestmark = pytest.mark.nbgrader

STUDENTS = {
    "key": {},
    "blank": {"add": None, "mul": None},
    "subtracts": {"add": "def add(a, b):\n    return a - b\n"},
    "subtracts-too": {"add": "def add(a, b):\n    return a - b\n", "mul": None},
    "crashes": {"add": "import os\nos._exit(1)\n"},
    "writes-prose": {"explain": "Because a + b = b + a."},
}


def _submit_all(toy: ToyCourse) -> None:
    for student, spec in STUDENTS.items():
        def edit(name, nb, text=spec.get("explain")):
            if text and name == "01_add":
                for cell in nb.cells:
                    if cell.metadata.get("nbgrader", {}).get("grade_id") == "explain":
                        cell.source = text
        toy.submit(student, add=spec.get("add", ADD_SOLUTION),
                   **({"mul": spec["mul"]} if "mul" in spec else {}), edit=edit)


def _build(root: Path) -> None:
    toy = ToyCourse.create(root / "course")
    _submit_all(toy)
    # the same submissions, graded one student at a time, and with plain nbgrader
    shutil.copytree(toy.root, root / "sequential" / "course")
    shutil.copytree(toy.root, root / "plain" / "course")
    first = grade_class(toy.course, Options(workers=2, sandbox=toy.sandbox(), timeout=20,
                                            progress=False))
    again = grade_class(toy.course, Options(workers=2, sandbox=toy.sandbox(), timeout=20,
                                            progress=False))
    seq = ToyCourse(root / "sequential" / "course", toy.trusted)
    grade_class(seq.course, Options(workers=1, sandbox=seq.sandbox(), timeout=20, progress=False))
    plain = ToyCourse(root / "plain" / "course", toy.trusted)
    env = dict(os.environ, PYTHONPATH=str(toy.trusted))
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--force",
                    f"--CourseDirectory.root={plain.root}",
                    f"--CourseDirectory.db_url={plain.db_url}"],
                   cwd=plain.root, env=env, capture_output=True, timeout=600)
    (root / "runs.json").write_text(json.dumps({
        "first": {"graded": first.graded, "skipped": first.skipped, "failed": first.failed},
        "again": {"graded": again.graded, "skipped": again.skipped}}))


@pytest.fixture(scope="module")
def graded(build_once):
    root = build_once("graded-class", _build)
    toy = ToyCourse(root / "course", root / "course-trusted")
    return toy, root, json.loads((root / "runs.json").read_text())


def test_every_student_is_graded_in_one_run(graded):
    toy, _, runs = graded
    assert sorted(runs["first"]["graded"]) == sorted(STUDENTS)
    assert runs["first"]["failed"] == []


def test_scores_are_what_each_submission_earns(graded):
    toy, _, _ = graded
    assert toy.all_scores() == {
        "blank": {"test_add": 0.0, "explain": 0.0, "test_mul": 0.0},
        "crashes": {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0},
        "key": {"test_add": 2.0, "explain": 0.0, "test_mul": 1.0},
        "subtracts": {"test_add": 0.0, "explain": 0.0, "test_mul": 1.0},
        "subtracts-too": {"test_add": 0.0, "explain": 0.0, "test_mul": 0.0},
        "writes-prose": {"test_add": 2.0, "explain": 0.0, "test_mul": 1.0},
    }


def test_parallel_grading_gives_exactly_the_sequential_grades(graded):
    toy, root, _ = graded
    seq = ToyCourse(root / "sequential" / "course", toy.trusted)
    assert toy.all_scores() == seq.all_scores()


def test_grades_match_plain_nbgrader_autograde_for_honest_work(graded):
    toy, root, _ = graded
    plain = ToyCourse(root / "plain" / "course", toy.trusted)
    ours, theirs = toy.all_scores(), plain.all_scores()
    for student in ("key", "blank", "subtracts", "subtracts-too", "writes-prose"):
        assert ours[student] == theirs[student], student


def test_second_run_grades_nobody_when_nothing_changed(graded):
    _, _, runs = graded
    assert runs["again"]["graded"] == []
    assert sorted(runs["again"]["skipped"]) == sorted(STUDENTS)


def test_written_answers_wait_for_manual_grading(graded):
    toy, _, _ = graded
    with Gradebook(toy.db_url) as gb:
        grade = gb.find_grade("explain", "01_add", ASSIGNMENT, "writes-prose")
        assert grade.needs_manual_grade and grade.auto_score is None
        blank = gb.find_grade("explain", "01_add", ASSIGNMENT, "blank")
        assert not blank.needs_manual_grade and blank.auto_score == 0


def test_feedback_shows_the_diagnosis_without_the_hidden_check(graded):
    toy, _, _ = graded
    html = (toy.root / "feedback" / "subtracts" / ASSIGNMENT / "01_add.html").read_text()
    assert "hidden test case" in html and "[mistake: subtracted]" in html
    assert "SECRET-TOYCHECK-MARKER" not in html
    assert "_REFERENCE" not in html and "def check" not in html


def test_feedback_never_shows_hidden_test_code(graded):
    toy, _, _ = graded
    for student in ("subtracts", "crashes", "key"):
        html = (toy.root / "feedback" / student / ASSIGNMENT / "01_add.html").read_text()
        assert "toycheck" not in html, student
        assert "HIDDEN TESTS" not in html, student


def test_feedback_is_written_for_every_student(graded):
    toy, _, _ = graded
    for student in STUDENTS:
        assert (toy.root / "feedback" / student / ASSIGNMENT / "02_mul.html").exists(), student


def test_csv_export_has_one_row_per_student_with_scores(graded, tmp_path):
    from autograder.results import export_csv

    path = export_csv(toy_course(graded), tmp_path / "grades.csv")
    rows = {r["student_id"]: r for r in csv.DictReader(path.open())}
    assert set(rows) == set(STUDENTS)
    assert float(rows["key"]["score"]) == 3.0 and float(rows["blank"]["score"]) == 0.0


def toy_course(graded) -> Course:
    return graded[0].course


def _report(graded, tmp_path) -> str:
    from autograder.report import write_report

    return write_report(toy_course(graded), tmp_path / "report.html").read_text()


def test_report_counts_each_recognised_mistake(graded, tmp_path):
    html = _report(graded, tmp_path)
    row = re.search(r"<code>subtracted</code></td><td class='num'>(\d+)</td><td class='num'>(\d+)</td>", html)
    assert row and row.groups() == ("2", "2")


def test_report_embeds_score_distributions_as_png(graded, tmp_path):
    html = _report(graded, tmp_path)
    assert html.count("src='data:image/png;base64,") >= 3  # totals + one per notebook
    assert "http://" not in html and "https://" not in html  # self-contained


def test_report_score_table_counts_written_answers_still_to_grade(graded, tmp_path):
    html = _report(graded, tmp_path)
    row = re.search(r"<td>explain</td><td>manual</td>.*?</tr>", html)
    assert row, "the manual question has a row in the score table"
    assert "<th>still to grade</th>" in html
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0))
    assert len(cells) == 7 and cells[-1].isdigit() and int(cells[-1]) > 0, cells


def test_report_keeps_autograded_points_apart_from_written_answers_to_grade(graded, tmp_path):
    summary = _report(graded, tmp_path).split("id='scores'")[1].split("<img")[0]
    assert re.search(r"Autograded:</strong> mean [\d.]+ of 3[,.]", summary)
    assert "Written answers" in summary and "still to grade" in summary


def test_report_draws_where_each_student_lost_points(graded, tmp_path):
    assert "alt='heat map of points lost per student and question'" in _report(graded, tmp_path)


def test_report_mistake_table_shows_no_knock_on_losses(graded, tmp_path):
    html = _report(graded, tmp_path)
    row = re.search(r"<code>subtracted</code>(.*?)</tr>", html).group(1)
    knock = re.findall(r"<td class='num'>([\d.]+)</td>", row)[-1]
    assert "knock-on" in html and knock == "0"


def test_report_names_crashes_with_their_reason(graded, tmp_path):
    html = _report(graded, tmp_path)
    section = html.split("id='problems'")[1].split("id='manual'")[0]
    assert "crashes" in section and "exited with status 1" in section
    assert "subtracts" not in section


def test_report_lists_manual_grading_still_to_do(graded, tmp_path):
    html = _report(graded, tmp_path)
    section = html.split("id='manual'")[1].split("id='students'")[0]
    assert "explain" in section and "writes-prose" in section and "blank" not in section


def test_cli_results_prints_the_table(graded):
    toy = graded[0]
    out = subprocess.run([sys.executable, "-m", "autograder", "results", ASSIGNMENT,
                          "--course", str(toy.root)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:3] == ["student", "01_add", "02_mul"]
    assert any(line.split()[:3] == ["key", "2.0", "1.0"] for line in lines)


def test_each_notebook_records_where_its_grading_time_went(graded):
    toy = graded[0]
    timings = toy.state()["students"]["key"]["notebooks"]["01_add"]["timings"]
    assert timings["kernel_start"] > 0 and timings["asking"] > 0
    assert set(timings["cells"]) == {"1", "2"}  # the two code cells of 01_add, by index
    assert {"RepairGradingMetadata", "SandboxedExecute", "CheckAnswers", "SaveAutoGrades"} <= set(timings["steps"])
    assert timings["total"] >= sum(timings["steps"].values())


def test_the_next_notebooks_kernel_is_started_while_one_is_graded_and_used_once(graded):
    toy = graded[0]
    runs = [toy.autograded("key", name).metadata["autograder_run"] for name in ("01_add", "02_mul")]
    assert [run["prestarted"] for run in runs] == [False, True]  # a student's first notebook starts its own


def test_cli_results_timings_prints_the_breakdown(graded):
    toy = graded[0]
    out = subprocess.run([sys.executable, "-m", "autograder", "results", ASSIGNMENT, "--timings",
                          "--course", str(toy.root)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    header = next(line for line in out.stdout.splitlines() if line.startswith("notebook"))
    assert header.split()[:4] == ["notebook", "students", "kernel", "start"]
    assert any(line.startswith("01_add") for line in out.stdout.splitlines())
    assert "(per student) feedback" in out.stdout


# -- resumability and merging, on a class of its own -------------------------------------

def _build_small(root: Path) -> None:
    toy = ToyCourse.create(root / "course")
    toy.submit("ann")
    toy.submit("bob", add="def add(a, b):\n    return a - b\n")
    grade_class(toy.course, Options(workers=2, sandbox=toy.sandbox(), progress=False, feedback=False))


@pytest.fixture
def small_class(build_once, tmp_path):
    """A graded two-student class, copied fresh for each test (graded once per run)."""
    root = build_once("small-class", _build_small)
    shutil.copytree(root / "course", tmp_path / "course")
    shutil.copytree(root / "course-trusted", tmp_path / "course-trusted")
    return ToyCourse(tmp_path / "course", tmp_path / "course-trusted")


def test_changed_submission_is_the_only_one_regraded(small_class):
    toy = small_class
    toy.submit("bob")  # bob fixes add and resubmits
    summary = grade_class(toy.course, Options(workers=2, sandbox=toy.sandbox(), progress=False,
                                              feedback=False))
    assert summary.graded == ["bob"] and summary.skipped == ["ann"]
    assert toy.scores("bob")["test_add"] == 2.0


def test_force_regrades_everyone(small_class):
    toy = small_class
    summary = grade_class(toy.course, Options(workers=2, sandbox=toy.sandbox(), progress=False,
                                              feedback=False, force=True))
    assert sorted(summary.graded) == ["ann", "bob"]


def test_regrading_keeps_a_manual_score_the_ta_entered(small_class):
    toy = small_class
    with Gradebook(toy.db_url) as gb:
        gb.find_grade("test_add", "01_add", ASSIGNMENT, "bob").manual_score = 1.5
        gb.db.commit()
    grade_class(toy.course, Options(workers=1, sandbox=toy.sandbox(), progress=False,
                                    feedback=False, force=True, students=["bob"]))
    with Gradebook(toy.db_url) as gb:
        grade = gb.find_grade("test_add", "01_add", ASSIGNMENT, "bob")
        assert grade.manual_score == 1.5 and grade.auto_score == 0.0 and grade.needs_manual_grade


def test_cli_feedback_names_a_student_whose_feedback_failed_and_writes_the_rest(small_class):
    toy = small_class
    (toy.root / "autograded" / "bob" / ASSIGNMENT / "01_add.ipynb").write_text("{not json")
    out = subprocess.run([sys.executable, "-m", "autograder", "feedback", ASSIGNMENT,
                          "--course", str(toy.root)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "no feedback for bob" in out.stderr and "ann" not in out.stderr
    assert (toy.root / "feedback" / "ann" / ASSIGNMENT / "01_add.html").exists()
