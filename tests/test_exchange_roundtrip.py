"""The whole exchange round trip with nbgrader's real apps, several students, one course.

TA releases -> students list and fetch -> alice submits, bob submits a stub then resubmits
(the latest counts) -> the due date is set -> carol submits late -> dave fetches and never
submits, erin submits the untouched stubs -> TA collects, autogrades, grades the written
answers, generates and releases feedback -> the students fetch their feedback -> grades export.

Every command is `python -m nbgrader ...` in a subprocess, as the person who runs it: own HOME,
the nbgrader configuration from jupyterhub/ (student or grader), the exchange in a tmp dir.
The ``journey`` fixture walks the round trip once per module and keeps what each step showed;
each test checks one promise against it, so a failure names the step that broke.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import nbformat
import pytest
from nbgrader.api import MissingEntry

from tests.hub_fixtures import (
    COURSE_ID, HUB_DIR, Course, Person, feedback_leaks, hidden_test_lines, notebook_text, solve,
)

pytestmark = pytest.mark.nbgrader

STUDENTS = ["alice", "bob", "carol", "dave", "erin"]
SOLVERS = ["alice", "bob", "carol"]


@dataclass
class Journey:
    """What the round trip showed at each step (filled in by the ``journey`` fixture)."""

    course: Course
    people: dict
    released: list = field(default_factory=list)
    outbound: list = field(default_factory=list)
    inbound_mode: int = 0
    student_listing: str = ""
    refetch: subprocess.CompletedProcess = None
    validate_out: str = ""
    validated: int = 0
    ta_inbound: str = ""
    bob_listing: str = ""
    collected: list = field(default_factory=list)
    manual_cells: list = field(default_factory=list)
    grades: dict = field(default_factory=dict)
    csv_rows: dict = field(default_factory=dict)

    @property
    def aid(self) -> str:
        return self.course.assignment

    def fetched(self, student: str) -> list:
        return sorted((self.people[student].home / self.aid).glob("*.ipynb"))

    def feedback(self, student: str) -> list:
        return sorted((self.people[student].home / self.aid / "feedback").glob("*/*.html"))


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("roundtrip"))
    aid = course.assignment
    ta = Person(course, "ta", "grader")
    people = {s: Person(course, s, "student") for s in STUDENTS}
    alice, bob, carol, dave, erin = people.values()
    j = Journey(course, people)
    pool = ThreadPoolExecutor(2)

    # TA: roster, generate, release
    ta.nbgrader("db", "student", "import", str(course.write_roster(STUDENTS)))
    ta.nbgrader("generate_assignment", aid)
    j.released = sorted(p.name for p in (course.root / "release" / aid).glob("*.ipynb"))
    ta.nbgrader("release_assignment", aid)
    j.outbound = sorted(p.name for p in (course.exchange / COURSE_ID / "outbound" / aid).glob("*.ipynb"))
    j.inbound_mode = (course.exchange / COURSE_ID / "inbound").stat().st_mode & 0o777

    # students: list, fetch, and a second fetch that must not overwrite
    listing = alice.nbgrader("list")
    j.student_listing = listing.stdout + listing.stderr
    list(pool.map(lambda s: s.nbgrader("fetch_assignment", aid), people.values()))
    j.refetch = alice.nbgrader("fetch_assignment", aid, check=False)

    # alice solves, validates, submits; bob submits stubs then his solution; erin the stubs
    solve(course, alice.home / aid)
    notebooks = j.fetched("alice")
    j.validate_out = alice.nbgrader("validate", *map(str, notebooks), timeout=900).stdout
    j.validated = len(notebooks)
    alice.nbgrader("submit", aid)
    bob.nbgrader("submit", aid)
    solve(course, bob.home / aid)
    bob.nbgrader("submit", aid)
    erin.nbgrader("submit", aid)

    # the due date passes; carol submits late; dave never submits
    due = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    ta.nbgrader("db", "assignment", "add", aid, f"--duedate={due.isoformat()} UTC")
    solve(course, carol.home / aid)
    carol.nbgrader("submit", aid)
    inbound = ta.nbgrader("list", "--inbound")
    j.ta_inbound = inbound.stdout + inbound.stderr
    mine = bob.nbgrader("list", "--cached")
    j.bob_listing = mine.stdout + mine.stderr

    # TA: collect, autograde, grade the written answers as formgrader would
    ta.nbgrader("collect", aid)
    j.collected = sorted(p.name for p in (course.root / "submitted").iterdir())
    ta.nbgrader("autograde", aid, timeout=1800)
    with course.gradebook() as gb:
        for nb in gb.find_submission(aid, "alice").notebooks:
            j.manual_cells += [(nb.name, g.name) for g in nb.grades
                               if g.cell.cell_type == "markdown" and g.max_score > 0]
        for s in SOLVERS:
            for nb_name, grade_id in j.manual_cells:
                g = gb.find_grade(grade_id, nb_name, aid, s)
                g.manual_score, g.needs_manual_grade = g.max_score, False
                gb.find_comment(grade_id, nb_name, aid, s).manual_comment = f"Well argued, {s}."
        gb.db.commit()
        j.grades["max_code"] = gb.find_assignment(aid).max_code_score
        for s in ("alice", "bob", "carol", "erin"):
            sub = gb.find_submission(aid, s)
            j.grades[s] = dict(code=sub.code_score, late=sub.total_seconds_late,
                               needs_manual=sub.needs_manual_grade)

    # TA: feedback out; everyone fetches it (dave has none)
    ta.nbgrader("generate_feedback", aid, timeout=900)
    ta.nbgrader("release_feedback", aid)
    for s in people.values():
        s.nbgrader("fetch_feedback", aid)

    # TA: export
    ta.nbgrader("export", "--to", str(course.base / "grades.csv"))
    with open(course.base / "grades.csv") as f:
        j.csv_rows = {r["student_id"]: r for r in csv.DictReader(f)}
    yield j
    print(f"\nnbgrader commands of the round trip ({aid}):")
    for cmd, secs in course.log:
        print(f"  {secs:6.1f}s  {cmd}")


# --------------------------------------------------------------------------- release and fetch
def test_release_puts_every_notebook_in_the_outbound_exchange(journey):
    assert journey.released and journey.outbound == journey.released


def test_inbound_is_write_only_for_students(journey):
    """0733: students can drop submissions in, nobody can list the others'."""
    assert journey.inbound_mode == 0o733


def test_a_student_lists_the_released_assignment(journey):
    assert f"{COURSE_ID} {journey.aid}" in journey.student_listing


def test_every_student_fetches_every_notebook(journey):
    for s in STUDENTS:
        assert [p.name for p in journey.fetched(s)] == journey.released, s


def test_fetched_notebooks_hold_no_hidden_tests(journey):
    hidden = hidden_test_lines(journey.course.root / "source" / journey.aid)
    for s in STUDENTS:
        for path in journey.fetched(s):
            sources = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
            leaked = [line for line in hidden if line in sources]
            assert not leaked, f"{s}'s {path.name}: {leaked[:2]}"


def test_a_second_fetch_refuses_to_overwrite_the_students_work(journey):
    out = journey.refetch
    assert out.returncode != 0 and "already have a copy" in out.stdout + out.stderr


def test_the_solution_validates(journey):
    assert journey.validate_out.count("Success! Your notebook passes all the tests.") == journey.validated


# --------------------------------------------------------------------------- submit and collect
def test_the_ta_sees_both_of_bobs_submissions_and_nothing_from_dave(journey):
    text, aid = journey.ta_inbound, journey.aid
    assert len(re.findall(rf"{COURSE_ID} bob {aid} ", text)) == 2, text
    assert f"{COURSE_ID} alice {aid}" in text and f"{COURSE_ID} carol {aid}" in text
    assert "dave" not in text


def test_a_student_lists_only_their_own_submissions(journey):
    assert "bob" in journey.bob_listing and "alice" not in journey.bob_listing


def test_collect_takes_everyone_who_submitted(journey):
    assert journey.collected == ["alice", "bob", "carol", "erin"]


def test_collect_keeps_bobs_latest_submission(journey):
    aid = journey.aid
    stamp = (journey.course.root / "submitted" / "bob" / aid / "timestamp.txt").read_text().strip()
    stamps = sorted(re.findall(rf"{COURSE_ID} bob {aid} (\S+ \S+)", journey.ta_inbound))
    assert stamp.startswith(stamps[-1][:19]), (stamp, stamps)


# --------------------------------------------------------------------------- grades
def test_every_solver_gets_full_autograded_marks(journey):
    assert journey.grades["max_code"] > 0
    for s in SOLVERS:
        assert journey.grades[s]["code"] == pytest.approx(journey.grades["max_code"]), s


def test_untouched_stubs_score_zero(journey):
    assert journey.grades["erin"]["code"] == 0


def test_only_the_late_submission_is_recorded_late(journey):
    assert journey.grades["carol"]["late"] > 0
    assert journey.grades["alice"]["late"] == journey.grades["bob"]["late"] == 0


def test_a_student_who_never_submitted_has_no_submission(journey):
    with journey.course.gradebook() as gb, pytest.raises(MissingEntry):
        gb.find_submission(journey.aid, "dave")


def test_graded_written_answers_leave_nothing_to_grade_by_hand(journey):
    assert journey.manual_cells
    assert not any(journey.grades[s]["needs_manual"] for s in SOLVERS)


# --------------------------------------------------------------------------- feedback
def test_every_submitter_fetches_feedback_for_every_notebook(journey):
    for s in ("alice", "bob", "carol", "erin"):
        assert [h.stem + ".ipynb" for h in journey.feedback(s)] == journey.released, s


def test_each_student_fetches_only_their_own_feedback(journey):
    for s in SOLVERS:
        text = "".join(notebook_text(h) for h in journey.feedback(s))
        assert f"Well argued, {s}." in text
        assert not any(f"Well argued, {other}." in text for other in SOLVERS if other != s)


def test_a_student_who_never_submitted_gets_no_feedback(journey):
    assert not (journey.people["dave"].home / journey.aid / "feedback").exists()


def test_feedback_shows_no_hidden_test_source(journey):
    hidden = hidden_test_lines(journey.course.root / "source" / journey.aid)
    for s in ("alice", "bob", "carol", "erin"):
        for h in journey.feedback(s):
            in_source, _ = feedback_leaks(h, hidden)
            assert not in_source, f"{s}'s {h.name}: {in_source[:2]}"


def test_feedback_tracebacks_do_not_quote_hidden_tests(journey):
    """The hidden tests run in the grader, outside the notebook, so a failure (erin's stubs)
    shows the grader's verdict, never the checks' source."""
    hidden = hidden_test_lines(journey.course.root / "source" / journey.aid)
    leaks = {}
    for s in ("alice", "bob", "carol", "erin"):
        for h in journey.feedback(s):
            _, in_traceback = feedback_leaks(h, hidden)
            if in_traceback:
                leaks[f"{s}/{h.name}"] = in_traceback[:2]
    assert not leaks


# --------------------------------------------------------------------------- export
def test_export_lists_every_student_on_the_roster(journey):
    assert set(journey.csv_rows) == set(STUDENTS)


def test_export_gives_zero_to_no_submission_and_to_stubs(journey):
    assert float(journey.csv_rows["dave"]["score"]) == 0
    assert float(journey.csv_rows["erin"]["score"]) == 0


def test_export_gives_the_solver_full_marks(journey):
    row = journey.csv_rows["alice"]
    assert float(row["score"]) == float(row["max_score"])


def test_export_records_late_work_without_a_penalty(journey):
    rows = journey.csv_rows
    assert float(rows["carol"]["late_submission_penalty"]) == 0
    assert rows["carol"]["timestamp"] > rows["alice"]["timestamp"]


# --------------------------------------------------------------------------- sharding
def test_grade_shards_cover_the_class(tmp_path):
    """jupyterhub/k8s/grade_shard.py splits the collected class into disjoint shards."""
    students = sorted(f"student{i:02d}" for i in range(7))
    for student in students:
        (tmp_path / "submitted" / student / "section03").mkdir(parents=True)
    seen = []
    for index in range(3):
        out = subprocess.run(
            [sys.executable, str(HUB_DIR / "k8s" / "grade_shard.py"), "section03",
             "--course", str(tmp_path), "--index", str(index), "--count", "3", "--dry-run",
             "--", "--quiet"], capture_output=True, text=True, check=True).stdout
        cmd = out.splitlines()[-1].split()
        assert cmd[1:5] == ["-m", "autograder", "grade", "section03"] and cmd[-1] == "--quiet"
        seen += [cmd[i + 1] for i, a in enumerate(cmd) if a == "--student"]
    assert sorted(seen) == students  # every student once, in exactly one shard
