"""Where a course's files are and how nbgrader is configured for it."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import fstree

REPO_ROOT = Path(__file__).resolve().parent.parent
IGNORED_NAMES = {".ipynb_checkpoints", "__pycache__", ".DS_Store", ".git"}


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
    assignment: str
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
