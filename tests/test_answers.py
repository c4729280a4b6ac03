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
