"""Where a course's files are and how nbgrader is configured for it."""
from __future__ import annotations

import dataclasses
import os
import shlex
import sys
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import fstree

REPO_ROOT = Path(__file__).resolve().parent.parent
IGNORED_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store", ".git"}


class CourseError(RuntimeError):
    """The course folder or the assignment asked for is not there (the TA's to fix)."""


def load_config(root: Path) -> Config:
    """The course's nbgrader configuration, with ``CourseDirectory.root`` set to ``root``.

    A course directory with its own ``nbgrader_config.py`` uses it. Otherwise the course
    pack's config (repository root) is used with the root and the SQLite gradebook moved
    to ``root`` -- the same as running nbgrader from the repository with
    ``--CourseDirectory.root=ROOT``.
    """
    root = Path(root).resolve()
    own = root / "nbgrader_config.py"
    path = own if own.exists() else REPO_ROOT / "nbgrader_config.py"
    cfg = PyFileConfigLoader(path.name, path=str(path.parent)).load_config()
    if path != own:
        cfg.CourseDirectory.db_url = os.environ.get("NBGRADER_DB_URL",
                                                    f"sqlite:///{root}/gradebook.db")
        # the grader's own files (course secret, font cache) live with the course
        cfg.SandboxKernelManager.mpl_cache = str(root / ".autograder" / "mplcache")
    cfg.CourseDirectory.root = str(root)
    return cfg


@dataclasses.dataclass
class Course:
    root: Path
    assignment: str | None  # None: the course only (sandbox-check)
    config: Config = None

    def __post_init__(self):
        self.root = Path(self.root).resolve()
        if self.config is None:
            self.config = load_config(self.root)

    @property
    def db_url(self) -> str:
        return self.config.CourseDirectory.db_url

    @property
    def sqlite_path(self) -> Path | None:
        url = self.db_url
        return Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None

    def _dir(self, name: str, default: str) -> Path:
        value = self.config.CourseDirectory.get(name, default)
        return self.root / value

    @property
    def source_dir(self) -> Path:
        return self._dir("source_directory", "source") / self.assignment

    @property
    def release_dir(self) -> Path:
        return self._dir("release_directory", "release") / self.assignment

    @property
    def submitted_root(self) -> Path:
        return self._dir("submitted_directory", "submitted")

    @property
    def autograded_root(self) -> Path:
        return self._dir("autograded_directory", "autograded")

    @property
    def feedback_root(self) -> Path:
        return self._dir("feedback_directory", "feedback")

    @property
    def state_dir(self) -> Path:
        """The grader's own files: resume state, staging, scratch, logs (dot-dir: nbgrader ignores it)."""
        return self.root / ".autograder" / self.assignment

    def has_own_config(self) -> bool:
        return (self.root / "nbgrader_config.py").is_file()

    def nbgrader_command(self, *args: str) -> str:
        """The shell command that runs ``nbgrader ARGS`` on this course with this configuration.

        A course with its own ``nbgrader_config.py`` is run from its folder; one without uses
        the course pack's config, so it runs from the repository with the root and gradebook
        given (what :func:`load_config` does here).
        """
        words = [sys.executable, "-m", "nbgrader", *args]
        if self.has_own_config():
            return f"cd {shlex.quote(str(self.root))} && {shlex.join(words)}"
        words += [f"--CourseDirectory.root={self.root}", f"--CourseDirectory.db_url={self.db_url}"]
        return f"cd {shlex.quote(str(REPO_ROOT))} && {shlex.join(words)}"

    def gradebook_assignments(self) -> list[str] | None:
        """Assignments in the gradebook, sorted; None when there is no gradebook yet.

        Never creates the gradebook (opening a missing SQLite file would).
        """
        from nbgrader.api import Gradebook

        if self.sqlite_path is not None and not self.sqlite_path.is_file():
            return None
        with Gradebook(self.db_url) as gb:
            return sorted(a.name for a in gb.assignments)

    def assignments(self) -> list[str]:
        """Assignments of this course: folders of source/ and release/, and the gradebook's."""
        names = set()
        for kind, default in (("source_directory", "source"), ("release_directory", "release")):
            folder = self._dir(kind, default)
            if folder.is_dir():
                names.update(p.name for p in folder.iterdir()
                             if p.is_dir() and not p.name.startswith(".")
                             and p.name not in IGNORED_NAMES)
        try:
            names.update(self.gradebook_assignments() or [])
        except Exception:  # noqa: BLE001 -- an unreadable gradebook only shortens the list
            pass
        return sorted(names)

    def validate(self, *, graded: bool = False) -> "Course":
        """Raise :class:`CourseError` saying what to fix unless the course and assignment exist.

        The root must be a folder holding ``nbgrader_config.py`` or the source folder, and the
        assignment one of :meth:`assignments`. With ``graded``, the assignment must also be in
        the gradebook (the commands that read grades: results, report, export, feedback).
        Returns the course.
        """
        root, name = self.root, self.assignment
        if not root.exists():
            raise CourseError(f"course folder {root} does not exist (give the course's folder "
                              f"with --course DIR)")
        if not root.is_dir():
            raise CourseError(f"course folder {root} is not a folder (give the course's folder "
                              f"with --course DIR)")
        source_root = self._dir("source_directory", "source")
        if not self.has_own_config() and not source_root.is_dir():
            raise CourseError(f"{root} is not an nbgrader course: it has no nbgrader_config.py "
                              f"and no {source_root.name}/ folder (give the course's folder with "
                              f"--course DIR)")
        if name is None:
            return self
        known = self.assignments()
        if name not in known:
            which = (f"its assignments are: {', '.join(known)}" if known else
                     f"it has none (no folder in {source_root.name}/, no assignment in the "
                     f"gradebook)")
            raise CourseError(f"no assignment {name!r} in the course {root}: {which}")
        if graded and name not in (self.gradebook_assignments() or []):
            raise CourseError(
                f"assignment {name!r} is not in the gradebook {self.db_url}: nothing has been "
                f"graded yet; grade it first with `{sys.executable} -m autograder grade {name} "
                f"--course {shlex.quote(str(root))}`")
        return self

    def submission_dir(self, student: str) -> Path:
        return self.submitted_root / student / self.assignment

    def students(self) -> list[str]:
        """Students with a collected submission of this assignment, sorted."""
        if not self.submitted_root.is_dir():
            return []
        return sorted(p.name for p in self.submitted_root.iterdir()
                      if (p / self.assignment).is_dir() and not p.name.startswith("."))


def tree_hash(path: Path, *, skip_hidden: bool = True) -> str:
    """sha256 of the tree under ``path`` (see :func:`autograder.fstree.tree_hash`).

    Leaves out ``IGNORED_NAMES`` and, with ``skip_hidden``, every name starting with a dot,
    as intake does. Never follows a symlink, never opens anything but a regular file, never
    recurses; a missing ``path`` hashes like an empty folder.
    """
    def skip(name: str) -> bool:
        return name in IGNORED_NAMES or (skip_hidden and name.startswith("."))

    return fstree.tree_hash(path, skip=skip)
