"""Real `nbgrader autograde` of the catalogue of known mistakes (helpers/mistakes.py).

Every catalogued mistake is pasted into a submission's answer cell; grading must take points off
in the cell that grades it, and the feedback must name the mistake. To keep the run short,
each student carries at most one mistake per answer (mistakes of different answers share a
notebook; every mistake's code is self-contained).
"""
from collections import defaultdict

import pytest

from helpers.mistakes import CATALOGUE

pytestmark = pytest.mark.nbgrader


def _students():
    """student id -> (notebook, {answer: mistake}), at most one mistake per answer per student."""
    rounds = defaultdict(lambda: defaultdict(dict))
    for mistake in CATALOGUE:
        by_round = rounds[mistake.notebook]
        k = 0
        while mistake.answer in by_round[k]:
            k += 1
        by_round[k][mistake.answer] = mistake
    return {f"mistakes-{nb[:2]}-{k}": (nb, answers) for nb, by_round in rounds.items() for k, answers in by_round.items()}


STUDENTS = _students()
CASES = [(student, mistake) for student, (_nb, answers) in STUDENTS.items() for mistake in answers.values()]


@pytest.fixture(scope="module")
def course(section03_course):
    course = section03_course()
    for student, (notebook, answers) in STUDENTS.items():
        course.submit(student, notebook, {answer: m.code for answer, m in answers.items()})
    course.autograde()
    return course


@pytest.mark.parametrize("student, mistake", CASES, ids=[f"{m.answer}-{m.slug}" for _s, m in CASES])
def test_known_mistake_loses_points_in_the_cell_that_grades_it(course, student, mistake):
    assert course.score(student, mistake.notebook, f"test_{mistake.answer}") == 0


@pytest.mark.parametrize("student, mistake", CASES, ids=[f"{m.answer}-{m.slug}" for _s, m in CASES])
def test_feedback_names_the_known_mistake(course, student, mistake):
    assert f"[mistake: {mistake.slug}]" in course.error_text(student, mistake.notebook, f"test_{mistake.answer}")


def test_feedback_shows_no_source_of_the_hidden_checks(course):
    student, mistake = CASES[0]
    text = course.error_text(student, mistake.notebook, f"test_{mistake.answer}")
    assert "checks.py" not in text and "def " not in text
