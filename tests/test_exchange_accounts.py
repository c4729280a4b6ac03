"""The exchange between real accounts, as on a shared JupyterHub server.

Two students and a TA are real Unix accounts (made with ``useradd`` for this module, removed
after). The TA owns the course and releases; the students fetch and submit as themselves;
nbgrader checks file owners (``NBGRADER_CHECK_OWNER`` stays on). Then each promise of
nbgrader's shared-server set-up (docs/jupyterhub.md) is tried as the other student would:
the inbound folder cannot be listed, a release cannot be changed, the feedback folder cannot
be listed, and each student's fetched feedback is their own.

Needs root (to make accounts), ``useradd``, ``setpriv`` and ``bwrap``; skipped without them
on a developer machine, an error under ``CI=true``.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.hub_fixtures import (
    COURSE_ID, Course, Person, UnixAccount, html_text, real_accounts_unavailable, solve,
    world_reachable_base,
)

pytestmark = pytest.mark.nbgrader

@dataclass
class Exchange:
    course: Course
    ta: Person
    alice: Person
    bob: Person
    collected: list = field(default_factory=list)
    collect_log: str = ""

    @property
    def aid(self) -> str:
        return self.course.assignment

    @property
    def course_exchange(self) -> Path:
        return self.course.exchange / COURSE_ID

    def feedback_pages(self, person: Person) -> list[Path]:
        return sorted((person.home / self.aid / "feedback").glob("*/*.html"))


def _need_accounts():
    why = real_accounts_unavailable()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"real-account exchange test cannot run ({why}); CI runs as root with "
                        "util-linux, passwd and bubblewrap installed")
        pytest.skip(f"real accounts need root, useradd, setpriv and bwrap ({why})")


@pytest.fixture(scope="module")
def exchange():
    _need_accounts()
    base = world_reachable_base("dl-accounts-")
    token = secrets.token_hex(3)
    accounts = []
    try:
        for role in ("ta", "alice", "bob"):
            accounts.append(UnixAccount(f"dl{token}{role}"))
        ta_account, alice_account, bob_account = accounts
        course = Course(base)
        ta_account.give(course.root)
        ta = Person(course, ta_account.name, "grader", ta_account)
        alice = Person(course, alice_account.name, "student", alice_account)
        bob = Person(course, bob_account.name, "student", bob_account)
        ex = Exchange(course, ta, alice, bob)
        aid = course.assignment

        roster = course.write_roster([alice.name, bob.name])
        roster.chmod(0o644)
        ta.nbgrader("db", "student", "import", str(roster))
        ta.nbgrader("generate_assignment", aid)
        ta.nbgrader("release_assignment", aid)
        for student in (alice, bob):
            student.nbgrader("fetch_assignment", aid)
        solve(course, alice.home / aid)  # alice answers everything; bob hands in the stubs
        alice_account.give(alice.home)
        alice.nbgrader("submit", aid)
        bob.nbgrader("submit", aid)

        out = ta.nbgrader("collect", aid)
        ex.collect_log = out.stdout + out.stderr
        ex.collected = sorted(p.name for p in (course.root / "submitted").iterdir())
        # Grading itself is tested elsewhere; here the kernel runs unsandboxed as the TA.
        ta.nbgrader("autograde", aid, "--SandboxKernelManager.enabled=False", timeout=1800)
        ta.nbgrader("generate_feedback", aid, timeout=900)
        ta.nbgrader("release_feedback", aid)
        for student in (alice, bob):
            student.nbgrader("fetch_feedback", aid)
        yield ex
    finally:
        for account in accounts:
            account.remove()
        shutil.rmtree(base, ignore_errors=True)


def _denied(result) -> bool:
    return result.returncode != 0 and "PermissionError" in result.stderr


def test_the_ta_collects_every_students_submission_with_owners_checked(exchange):
    assert exchange.collected == sorted([exchange.alice.name, exchange.bob.name])
    assert "owner" not in exchange.collect_log.lower()  # nbgrader warns on a foreign owner


def test_a_student_cannot_list_the_inbound_submissions(exchange):
    inbound = exchange.course_exchange / "inbound"
    assert _denied(exchange.bob.python(f"import os; print(os.listdir({str(inbound)!r}))"))


def test_a_student_cannot_change_a_released_notebook(exchange):
    release = sorted((exchange.course_exchange / "outbound" / exchange.aid).glob("*.ipynb"))[0]
    assert _denied(exchange.bob.python(f"open({str(release)!r}, 'a').write('x')"))


def test_a_student_cannot_add_a_file_to_a_release(exchange):
    outbound = exchange.course_exchange / "outbound" / exchange.aid
    assert _denied(exchange.bob.python(f"open({str(outbound / 'extra.ipynb')!r}, 'w')"))


def test_a_student_cannot_read_another_students_home(exchange):
    alice_copy = sorted((exchange.alice.home / exchange.aid).glob("*.ipynb"))[0]
    assert _denied(exchange.bob.python(f"open({str(alice_copy)!r}).read()"))


def test_a_student_cannot_list_the_released_feedback(exchange):
    feedback = exchange.course_exchange / "feedback"
    assert _denied(exchange.bob.python(f"import os; print(os.listdir({str(feedback)!r}))"))


def test_each_student_fetches_their_own_feedback_only(exchange):
    def totals(person):
        return [re.search(r"Score: ([\d.]+) / ([\d.]+)", html_text(p)).groups()
                for p in exchange.feedback_pages(person)]

    alice, bob = totals(exchange.alice), totals(exchange.bob)
    assert len(alice) == len(bob) == 4
    assert all(float(got) > 0 for got, _ in alice)       # alice's solved notebooks
    assert all(float(got) == 0 for got, _ in bob)        # bob's stubs


def test_fetched_feedback_belongs_to_the_student_who_fetched_it(exchange):
    for person in (exchange.alice, exchange.bob):
        pages = exchange.feedback_pages(person)
        assert pages and all(p.stat().st_uid == person.account.uid for p in pages)
