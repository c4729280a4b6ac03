"""Grade one shard of the class: the students of submitted/ whose position is INDEX mod COUNT.

    python jupyterhub/k8s/grade_shard.py section03 --course /srv/course/dl-section03 \
        --index $JOB_COMPLETION_INDEX --count 8 [--dry-run] [-- extra args for the grader]

Runs the class grading command (``python -m autograder grade ASSIGNMENT --student S ...``)
for the shard's students only. Students are sorted by id, so every shard computes the same
split without talking to the others; a shard with no students exits 0. Used by
grading-job.yaml (a Kubernetes Indexed Job), equally usable on a few plain machines that
mount the same course directory.

Concurrent shards write the same gradebook: point NBGRADER_DB_URL at PostgreSQL (the course's
nbgrader_config.py reads it), never several writers on one SQLite file over NFS.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path


def shard(students: list[str], index: int, count: int) -> list[str]:
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"shard index {index} is not in 0..{count - 1}")
    return sorted(students)[index::count]


def submitted_students(course: Path, assignment: str) -> list[str]:
    root = course / "submitted"
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob(f"*/{assignment}") if p.is_dir())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("assignment")
    ap.add_argument("--course", default=os.getcwd())
    ap.add_argument("--index", type=int, default=int(os.environ.get("JOB_COMPLETION_INDEX", 0)))
    ap.add_argument("--count", type=int, default=int(os.environ.get("SHARD_COUNT", 1)))
    ap.add_argument("--dry-run", action="store_true", help="print the command, run nothing")
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []  # passed to the grader
    args = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    course = Path(args.course).resolve()
    mine = shard(submitted_students(course, args.assignment), args.index, args.count)
    cmd = [sys.executable, "-m", "autograder", "grade", args.assignment, "--course", str(course)]
    for s in mine:
        cmd += ["--student", s]
    cmd += extra
    print(f"shard {args.index}/{args.count}: {len(mine)} student(s): {' '.join(mine) or '-'}",
          flush=True)
    if args.dry_run or not mine:
        print(" ".join(cmd))
        return 0
    return subprocess.call(cmd, cwd=course)


if __name__ == "__main__":
    sys.exit(main())
