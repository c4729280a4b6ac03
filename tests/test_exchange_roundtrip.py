"""The whole exchange round trip with nbgrader's real apps, several students, one course.

TA releases -> students list and fetch -> alice submits, bob submits a stub then resubmits
(the latest counts) -> the due date is set -> carol submits late -> dave fetches and never
submits -> TA collects, autogrades, grades the written answer, generates and releases
feedback -> the students fetch their feedback -> grades export with dave at zero.

Every command is `python -m nbgrader ...` in a subprocess, as the person who runs it: own HOME,
the nbgrader configuration from jupyterhub/ (student or grader), the exchange in a tmp dir.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from nbgrader.api import MissingEntry

from tests.hub_fixtures import (
    COURSE_ID, Course, Person, feedback_leaks, hidden_test_lines,
    notebook_text, solve,
)

pytestmark = pytest.mark.nbgrader

STUDENTS = ["alice", "bob", "carol", "dave", "erin"]  # erin submits the untouched stubs


def assert_no_hidden_tests(course, text, where):
    for line in hidden_test_lines(course.root / "source" / course.assignment):
        assert line not in text, f"hidden test line leaked into {where}: {line!r}"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    assignment = choose_assignment()
    course = Course(tmp_path_factory.mktemp("roundtrip"), assignment)
    yield course
    print(f"\nnbgrader commands of the round trip ({assignment}):")
    for cmd, secs in course.log:
        print(f"  {secs:6.1f}s  {cmd}")


def test_release_submit_collect_grade_feedback(course):
    aid = course.assignment
    ta = Person(course, "ta", "grader")
    alice, bob, carol, dave, erin = (Person(course, s, "student") for s in STUDENTS)
    pool = ThreadPoolExecutor(2)

    # --- TA: roster, generate, release --------------------------------------------------
    ta.nbgrader("db", "student", "import", str(course.write_roster(STUDENTS)))
    ta.nbgrader("generate_assignment", aid)
    released = sorted(p.name for p in (course.root / "release" / aid).glob("*.ipynb"))
    assert released
    ta.nbgrader("release_assignment", aid)
    outbound = course.exchange / COURSE_ID / "outbound" / aid
    assert sorted(p.name for p in outbound.glob("*.ipynb")) == released
    # inbound is write-only for students: nobody can list other students' submissions
    assert (course.exchange / COURSE_ID / "inbound").stat().st_mode & 0o777 == 0o733

    # --- students: list + fetch ------------------------------------------------------------
    listing = alice.nbgrader("list")
    assert f"{COURSE_ID} {aid}" in listing.stdout + listing.stderr
    list(pool.map(lambda s: s.nbgrader("fetch_assignment", aid), [alice, bob, carol, dave, erin]))
    for s in (alice, bob, carol, dave, erin):
        fetched = sorted(p.name for p in (s.home / aid).glob("*.ipynb"))
        assert fetched == released, s.name
        for nb in (s.home / aid).glob("*.ipynb"):
            sources = "\n".join(c.source for c in nbformat.read(nb, as_version=4).cells)
            assert_no_hidden_tests(course, sources, f"{s.name}'s fetched {nb.name}")

    # a second fetch must not overwrite a student's work
    again = alice.nbgrader("fetch_assignment", aid, check=False)
    assert again.returncode != 0 and "already have a copy" in (again.stdout + again.stderr)

    # --- alice: solves, validates, submits ---------------------------------------------
    solve(course, alice.home / aid)
    notebooks = sorted((alice.home / aid).glob("*.ipynb"))
    out = alice.nbgrader("validate", *map(str, notebooks), timeout=900)
    assert out.stdout.count("Success! Your notebook passes all the tests.") == len(notebooks), out.stdout
    alice.nbgrader("submit", aid)

    # --- bob: submits the untouched stubs, then solves and resubmits ----------------------
    bob.nbgrader("submit", aid)
    solve(course, bob.home / aid)
    bob.nbgrader("submit", aid)
    erin.nbgrader("submit", aid)

    # --- the due date passes; carol submits late; dave never submits ---------------------
    due = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    ta.nbgrader("db", "assignment", "add", aid, f"--duedate={due.isoformat()} UTC")
    solve(course, carol.home / aid)
    carol.nbgrader("submit", aid)

    inbound = ta.nbgrader("list", "--inbound")
    text = inbound.stdout + inbound.stderr
    assert len(re.findall(rf"{COURSE_ID} bob {aid} ", text)) == 2, text
    assert f"{COURSE_ID} alice {aid}" in text and f"{COURSE_ID} carol {aid}" in text
    assert "dave" not in text
    # a student sees only their own submissions
    mine = bob.nbgrader("list", "--cached")
    assert "alice" not in mine.stdout + mine.stderr

    # --- TA: collect -------------------------------------------------------------------
    ta.nbgrader("collect", aid)
    submitted = course.root / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["alice", "bob", "carol", "erin"]
    bob_stamp = (submitted / "bob" / aid / "timestamp.txt").read_text().strip()
    bob_stamps = sorted(re.findall(rf"{COURSE_ID} bob {aid} (\S+ \S+)", text))
    assert bob_stamp.startswith(bob_stamps[-1][:19]), (bob_stamp, bob_stamps)

    # --- TA: autograde ------------------------------------------------------------------
    ta.nbgrader("autograde", aid, timeout=1800)
    gb = course.gradebook()
    try:
        assignment = gb.find_assignment(aid)
        max_code = assignment.max_code_score
        assert max_code > 0
        scores = {}
        for s in ("alice", "bob", "carol"):
            sub = gb.find_submission(aid, s)
            scores[s] = sub.code_score
            assert sub.code_score == pytest.approx(max_code), (s, sub.code_score, max_code)
        assert gb.find_submission(aid, "alice").total_seconds_late == 0
        assert gb.find_submission(aid, "bob").total_seconds_late == 0
        assert gb.find_submission(aid, "erin").code_score == 0  # stubs score zero, no crash
        assert gb.find_submission(aid, "carol").total_seconds_late > 0
        with pytest.raises(MissingEntry):
            gb.find_submission(aid, "dave")

        # --- TA: the written answers (what formgrader does, straight into the gradebook)
        manual = []
        for nb in gb.find_submission(aid, "alice").notebooks:
            for grade in nb.grades:
                if grade.cell.cell_type == "markdown" and grade.max_score > 0:
                    manual.append((nb.name, grade.name))
        for s in ("alice", "bob", "carol"):
            for nb_name, grade_id in manual:
                g = gb.find_grade(grade_id, nb_name, aid, s)
                g.manual_score = g.max_score
                g.needs_manual_grade = False
                c = gb.find_comment(grade_id, nb_name, aid, s)
                c.manual_comment = f"Well argued, {s}."
        gb.db.commit()
        needs_grading = sum(gb.find_submission(aid, s).needs_manual_grade for s in ("alice", "bob", "carol"))
        assert needs_grading == 0
    finally:
        gb.close()

    # --- TA: feedback --------------------------------------------------------------------
    ta.nbgrader("generate_feedback", aid, timeout=900)
    ta.nbgrader("release_feedback", aid)
    hidden = hidden_test_lines(course.root / "source" / aid)
    for s in (alice, bob, carol, erin):
        s.nbgrader("fetch_feedback", aid)
        htmls = sorted((s.home / aid / "feedback").glob("*/*.html"))
        assert sorted(h.stem + ".ipynb" for h in htmls) == released, (s.name, htmls)
        for h in htmls:
            in_source, _ = feedback_leaks(h, hidden)
            assert not in_source, f"hidden tests shown in {s.name}'s feedback {h.name}: {in_source}"
            if manual and s is not erin:
                assert f"Well argued, {s.name}." in "".join(notebook_text(x) for x in htmls)
    dave.nbgrader("fetch_feedback", aid)
    assert not (dave.home / aid / "feedback").exists()

    # --- TA: export -----------------------------------------------------------------------
    ta.nbgrader("export", "--to", str(course.base / "grades.csv"))
    with open(course.base / "grades.csv") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert set(rows) == set(STUDENTS)
    assert float(rows["dave"]["score"]) == 0
    assert float(rows["erin"]["score"]) == 0
    assert float(rows["alice"]["score"]) == float(rows["alice"]["max_score"])
    assert float(rows["carol"]["late_submission_penalty"]) == 0  # late is recorded, not penalised
    assert rows["carol"]["timestamp"] > rows["alice"]["timestamp"]


def test_feedback_tracebacks_do_not_quote_hidden_tests(course):
    """No traceback in feedback quotes grading-only code: the hidden tests run in the grader,
    outside the notebook, so a failure shows the grader's verdict, not the checks' source.

    Runs after the round trip above (same module-scoped course): reads every student's
    fetched feedback."""
    feedback = sorted(course.homes.glob(f"*/{course.assignment}/feedback/*/*.html"))
    assert feedback, "the round trip did not get as far as feedback"
    hidden = hidden_test_lines(course.root / "source" / course.assignment)
    leaks = {}
    for h in feedback:
        _, in_traceback = feedback_leaks(h, hidden)
        if in_traceback:
            leaks[str(h.relative_to(course.homes))] = in_traceback[:2]
    assert not leaks, f"feedback tracebacks quote hidden-test lines: {dict(list(leaks.items())[:3])}"


def test_grade_shards_cover_the_class(tmp_path):
    """jupyterhub/k8s/grade_shard.py splits the collected class into disjoint shards."""
    import subprocess
    import sys
    from tests.hub_fixtures import HUB_DIR
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
