"""Start a student's kernel: limits, working copy, unprivileged user, then ipykernel.

Run by :class:`autograder.sandbox.SandboxKernelManager` with the *student environment's*
Python (which has numpy, matplotlib, IPython and nothing of the grader's), inside
bubblewrap unless the sandbox is off::

    python kernel_launcher.py '<json settings>' -f CONNECTION_FILE

This file is standalone (standard library only): the student environment does not have
the ``autograder`` package. It

1. applies the resource limits (address space, CPU seconds, file size, processes, open
   files, no core dumps), which ipykernel and everything it starts inherit;
2. copies the read-only submission folder into the working folder (a size-capped tmpfs
   inside the sandbox), so filling the disk fails this notebook only;
3. when started as root, gives the working folder to the sandbox's uid and drops to it
   (no groups; bubblewrap sets no-new-privs);
4. replaces itself with ``python -m ipykernel_launcher``.

Nothing here guards the grade: the verdict is decided outside this process.
"""
import json
import os
import resource
import shutil
import sys

LIMITS = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU, "fsize": resource.RLIMIT_FSIZE,
          "nproc": resource.RLIMIT_NPROC, "core": resource.RLIMIT_CORE,
          "nofile": resource.RLIMIT_NOFILE}


def set_limits(limits: dict) -> None:
    for name, value in limits.items():
        if value is None or name not in LIMITS:
            continue
        soft, hard = value if isinstance(value, (list, tuple)) else (value, value)
        resource.setrlimit(LIMITS[name], (int(soft), int(hard)))


def fill_workdir(source: str, workdir: str) -> None:
    """Copy the submission's files (regular files and folders only) into ``workdir``."""
    if not source or not os.path.isdir(source):
        return
    for dirpath, dirnames, filenames in os.walk(source):
        rel = os.path.relpath(dirpath, source)
        target = os.path.normpath(os.path.join(workdir, rel))
        os.makedirs(target, exist_ok=True)
        for name in filenames:
            src = os.path.join(dirpath, name)
            if os.path.isfile(src) and not os.path.islink(src):
                try:
                    shutil.copyfile(src, os.path.join(target, name))
                except OSError as exc:  # e.g. the tmpfs is full: the student's files are too big
                    print(f"autograder: could not copy {name}: {exc}", file=sys.stderr)


def chown_tree(path: str, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("autograder kernel: could not drop privileges")


def main(argv) -> None:
    settings = json.loads(argv[0])
    workdir = settings.get("workdir") or os.getcwd()
    set_limits(settings.get("limits", {}))
    fill_workdir(settings.get("source"), workdir)
    copies = settings.get("copy", [])  # e.g. matplotlib's prebuilt font cache
    for src, dest in copies:
        try:
            shutil.copytree(src, dest, dirs_exist_ok=True)
        except OSError:
            os.makedirs(dest, exist_ok=True)
    uid, gid = settings.get("uid"), settings.get("gid")
    if uid is not None and os.getuid() == 0:
        for folder in [workdir, *(dest for _src, dest in copies)]:
            chown_tree(folder, uid, gid)
        drop_privileges(uid, gid)
    os.chdir(workdir)
    os.umask(0o022)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *argv[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
