"""Regenerate the student release and the answer key from ``source/``.

    python -m autograder.build            # release/section03 and notebooks/section03
    make regenerate                       # the same, after setting up the venv

Both are made by nbgrader itself: ``nbgrader generate_assignment`` (solutions replaced by
stubs, hidden tests removed, cells locked and checksummed) and ``nbgrader generate_solution``
(configured in ``nbgrader_config.py`` to drop hidden tests and solution delimiters, then
execute). The gradebook nbgrader needs while generating is a throwaway one, so regenerating
never touches a TA's grades.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ASSIGNMENT = "section03"


class BuildError(RuntimeError):
    """nbgrader failed; the message carries its log."""


def nbgrader(*args: str, root: Path, db_url: str, timeout: float = 900) -> str:
    """Run an nbgrader command for the course at ``root``; return its log, raise BuildError on failure."""
    cmd = [sys.executable, "-m", "nbgrader", *args,
           f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={db_url}"]
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    # a course with its own nbgrader_config.py is run from its folder, so nbgrader reads that
    cwd = root if (Path(root) / "nbgrader_config.py").is_file() else REPO
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise BuildError(f"`nbgrader {' '.join(args)}` failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout + proc.stderr


def build(root: Path = REPO, assignment: str = ASSIGNMENT) -> None:
    """Regenerate ``root/release/<assignment>`` and ``root/notebooks/<assignment>`` from ``root/source``."""
    source = root / "source" / assignment
    if not source.is_dir():
        raise BuildError(f"no source notebooks: {source} does not exist")
    with tempfile.TemporaryDirectory(prefix="section03-build-") as tmp:
        db_url = f"sqlite:///{tmp}/gradebook.db"
        for out in ("release", "notebooks"):
            shutil.rmtree(root / out / assignment, ignore_errors=True)
        nbgrader("generate_assignment", assignment, "--force", root=root, db_url=db_url)
        nbgrader("generate_solution", assignment, "--force", root=root, db_url=db_url)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="course directory holding source/ (default: this repository)")
    parser.add_argument("--assignment", default=ASSIGNMENT)
    args = parser.parse_args(argv)
    try:
        build(args.root.resolve(), args.assignment)
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"regenerated {args.root / 'release' / args.assignment} and {args.root / 'notebooks' / args.assignment}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
