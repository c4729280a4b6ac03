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
3. when started as root, gives the working folder and the socket folder (both on capped
   tmpfs mounts) to the sandbox's uid and drops to it (no groups; bubblewrap sets
   no-new-privs);
4. in the sandbox, checks that no capability is left and forbids new user namespaces
   (:func:`forbid_user_namespaces`): in one, the kernel could mount a tmpfs of its own,
   without the sandbox's size caps;
5. replaces itself with ``python -m ipykernel_launcher``.

Nothing here guards the grade: the verdict is decided outside this process.
"""
import ctypes
import errno
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


CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """No capabilities left, not even ambient ones (which would survive ``exec``)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL
    if libc.capset(ctypes.byref(_CapHeader(0x20080522, 0)), (_CapData * 2)()) != 0:
        raise SystemExit(f"autograder kernel: capset: {os.strerror(ctypes.get_errno())}")
    with open("/proc/self/status") as f:
        caps = {k: int(v, 16) for k, v in (line.split(":") for line in f)
                if k in ("CapInh", "CapPrm", "CapEff", "CapAmb")}
    if any(caps.values()):
        raise SystemExit(f"autograder kernel: capabilities left: {caps}")


def _unshare(flags: int) -> int:
    """unshare(2) (os.unshare is Python 3.12+): 0, or the errno."""
    libc = ctypes.CDLL(None, use_errno=True)
    return 0 if libc.unshare(flags) == 0 else ctypes.get_errno()


def _enter_own_user_namespace(uid: int, gid: int) -> int:
    """Move into a new user namespace where ``uid``/``gid`` are themselves: 0, or the errno."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE, lost when dropping to uid: /proc/self is ours again
    err = _unshare(CLONE_NEWUSER)
    if err:
        return err
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    return 0


def _can_mount_a_tmpfs() -> bool:
    """Can a process here make a user namespace and mount a tmpfs in it? (tried in a child)"""
    uid, gid = os.getuid(), os.getgid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            if _enter_own_user_namespace(uid, gid) == 0 and _unshare(CLONE_NEWNS) == 0:
                libc = ctypes.CDLL(None, use_errno=True)
                ok = libc.mount(b"probe", b"/tmp", b"tmpfs", 0, None) == 0
        except OSError:
            pass
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def forbid_user_namespaces() -> None:
    """Make this process, and so the kernel and all it starts, unable to create user namespaces.

    Inside a user namespace of its own, any unprivileged process may mount a tmpfs, sized by
    itself: a writable place outside every cap of the sandbox. So the launcher moves into a
    new user namespace (its uid and gid map to themselves: nothing changes for the kernel)
    and sets ``user.max_user_namespaces`` to 0 there. The limit counts for every namespace
    below, and raising it needs a capability in this namespace, which the kernel, not uid 0
    in it, loses at ``exec``. (bubblewrap's ``--disable-userns`` does the same, but only with
    ``--unshare-user``, so not as root.) Then it checks: a child that tries to mount a tmpfs
    in a new namespace must fail, or the kernel does not start.
    """
    err = _enter_own_user_namespace(os.getuid(), os.getgid())
    if err == 0:
        try:
            with open("/proc/sys/user/max_user_namespaces", "w") as f:
                f.write("0")
        except OSError as exc:
            print(f"autograder kernel: could not limit user namespaces: {exc}", file=sys.stderr)
    elif err not in (errno.EPERM, errno.ENOSPC, errno.EUSERS, errno.EINVAL, errno.ENOSYS):
        print(f"autograder kernel: unshare: {os.strerror(err)}", file=sys.stderr)
    if _can_mount_a_tmpfs():
        raise SystemExit("autograder kernel: the sandbox cannot forbid new user namespaces "
                         "here, so the kernel could mount an uncapped tmpfs; not starting")


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
        for folder in settings.get("own", []):  # the folder itself (it holds read-only binds)
            os.chown(folder, uid, gid)
        drop_privileges(uid, gid)
    if settings.get("no_new_userns"):  # the sandbox: nothing privileged from here on
        drop_capabilities()
        forbid_user_namespaces()
    os.chdir(workdir)
    os.umask(0o022)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *argv[1:]])


if __name__ == "__main__":
    main(sys.argv[1:])
