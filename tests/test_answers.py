"""autograder.answers: the course secret and the seeds of the hidden tests' inputs."""
import os
import stat

from traitlets.config import Config

from autograder.answers import PrepareChecks, read_secret, seed_for


def test_course_secret_is_created_once_readable_by_the_grader_only(tmp_path):
    path = tmp_path / ".autograder" / "course_secret"
    first = read_secret(str(path))
    assert read_secret(str(path)) == first and len(first) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_workers_creating_the_secret_at_once_agree_and_never_read_it_half_written(tmp_path, monkeypatch):
    """A second worker asks for the secret while the first is still writing it (the demo's
    two workers on a new course): both get one and the same whole secret."""
    import secrets

    path = str(tmp_path / ".autograder" / "course_secret")
    token_hex, seen_by_other, calls = secrets.token_hex, [], []

    def token_while_another_worker_reads(n):
        calls.append(n)
        if len(calls) == 1:  # the first worker, mid-write; the other worker then writes its own
            seen_by_other.append(read_secret(path))
        return token_hex(n)

    monkeypatch.setattr(secrets, "token_hex", token_while_another_worker_reads)
    assert read_secret(path) == seen_by_other[0]
    assert os.listdir(tmp_path / ".autograder") == ["course_secret"]  # no draft left behind


def test_secret_file_follows_the_course_root_being_graded(tmp_path):
    cfg = Config()
    cfg.CourseDirectory.root = str(tmp_path)
    cfg.PrepareChecks.secret_file = ".autograder/course_secret"
    assert PrepareChecks(config=cfg).secret_path() == str(tmp_path / ".autograder" / "course_secret")


def test_seeds_are_stable_per_student_and_answer_and_differ_between_them():
    secret = b"s" * 32
    assert seed_for(secret, "ann", "01", "q1e") == seed_for(secret, "ann", "01", "q1e")
    assert len({seed_for(secret, "ann", "01", "q1e"), seed_for(secret, "bob", "01", "q1e"),
                seed_for(secret, "ann", "01", "q1f"), seed_for(b"t" * 32, "ann", "01", "q1e")}) == 4
