"""The kernel the autograder runs student notebooks in: ``python -I -m autograder.kernel -f CONN``.

Started by :class:`autograder.sandbox.SandboxKernelManager` (inside bubblewrap unless the
sandbox is switched off). Before any student code can run it

1. applies the resource limits (address space, CPU seconds, file size, processes, no core
   dumps);
2. reads the guard's signing key from a pipe and closes it;
3. imports the trusted modules (``helpers.checks`` ...) with the student's folder *not*
   on ``sys.path``, and checks where they came from, so files planted in a submission
   cannot stand in for them;
4. starts ipykernel, snapshots the protected objects (:mod:`autograder.guard`), and, when
   started as root inside the sandbox, drops to the sandbox's unprivileged uid so that the
   grading-only files (mode 0600) cannot be read from student code;
5. serves the notebook.

Configuration comes from the ``AUTOGRADER_KERNEL`` environment variable (JSON), set by the
trusted grader; ``-I`` keeps the working directory and ``PYTHON*`` variables out of the
import path, so this module itself cannot be shadowed by a submission.
"""
from __future__ import annotations

import json
import os
import sys


def _set_limits(limits: dict) -> None:
    import resource

    names = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU,
             "fsize": resource.RLIMIT_FSIZE, "nproc": resource.RLIMIT_NPROC,
             "core": resource.RLIMIT_CORE, "nofile": resource.RLIMIT_NOFILE}
    for name, value in limits.items():
        if value is None or name not in names:
            continue
        soft, hard = (value, value) if not isinstance(value, (list, tuple)) else value
        resource.setrlimit(names[name], (int(soft), int(hard)))


def _read_key(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def _trusted_import(modules: list[str], trusted_paths: list[str]) -> list[str]:
    """Import ``modules`` from trusted locations only; return problems found."""
    import importlib

    problems = []
    saved = list(sys.path)
    cwd = os.path.realpath(os.getcwd())
    sys.path[:] = list(trusted_paths) + [
        p for p in saved if p and os.path.realpath(p) != cwd and not
        os.path.realpath(p).startswith(cwd + os.sep)]
    try:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception as exc:  # reported to the grader, never to the student
                problems.append(f"could not import trusted module {name}: "
                                f"{type(exc).__name__}: {exc}")
    finally:
        sys.path[:] = saved
    for name, module in list(sys.modules.items()):
        top = name.split(".")[0]
        if top not in {m.split(".")[0] for m in modules}:
            continue
        origin = getattr(module, "__file__", None)
        if origin and os.path.realpath(origin).startswith(cwd + os.sep):
            problems.append(f"trusted module {name} was loaded from the submission ({origin})")
    return problems


def _trusted_file_hashes(modules: list[str]) -> dict[str, str]:
    """sha256 of every .py file in the directories of the trusted packages (read as root)."""
    import hashlib

    dirs = set()
    for name in modules:
        top = sys.modules.get(name.split(".")[0])
        for path in getattr(top, "__path__", []) or []:
            dirs.add(os.path.realpath(path))
    dirs.discard(os.path.realpath(os.getcwd()))
    out = {}
    for folder in dirs:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as fh:
                        out[os.path.realpath(path)] = hashlib.sha256(fh.read()).hexdigest()
                except OSError:
                    pass
    return out


def _library_roots() -> tuple[str, ...]:
    import sysconfig

    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                           sys.base_exec_prefix)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path))
    return tuple(sorted(roots))


def _guard_private_functions(private: list[str]) -> None:
    """Make calls into grading-only modules (``helpers.reference``) from student code visible.

    Each function of a private module is replaced by a wrapper that looks at who is
    calling: walking up the stack past library frames (numpy, the standard library), the
    first frame must belong to the trusted packages (the checks calling the reference).
    If it belongs to anything else -- a notebook cell, the student's function -- the
    student's answer is using the reference implementation, and the guard records it as
    tampering. The hidden checks look the functions up as module attributes, so they call
    the wrappers too, which costs a stack walk per call.
    """
    import functools
    import types as _types

    libraries = _library_roots()
    trusted_dirs = []
    for name in private:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None):
            trusted_dirs.append(os.path.dirname(os.path.realpath(module.__file__)))
    trusted_dirs = tuple(sorted(set(trusted_dirs)))
    getframe, audit, realpath = sys._getframe, sys.audit, os.path.realpath
    seen: dict[str, str] = {}

    def origin(filename: str) -> str:
        kind = seen.get(filename)
        if kind is None:
            path = realpath(filename) if filename.startswith("/") else filename
            if path.startswith(trusted_dirs) and trusted_dirs:
                kind = "trusted"
            elif filename.startswith("<frozen") or (path.startswith(libraries)
                                                     and "/ipykernel_" not in path):
                kind = "library"
            else:
                kind = "student"
            seen[filename] = kind
        return kind

    def wrap(qualname, fn):
        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            frame = getframe(1)
            while frame is not None:
                kind = origin(frame.f_code.co_filename)
                if kind == "trusted":
                    break
                if kind == "student":
                    audit("autograder.private",
                          f"student code called the grading-only {qualname}")
                    break
                frame = frame.f_back
            del frame
            return fn(*args, **kwargs)
        del guarded.__wrapped__  # functools.wraps would hand out the unguarded function
        return guarded

    for name in private:
        module = sys.modules.get(name)
        if module is None:
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, _types.FunctionType) and value.__module__ == name:
                setattr(module, attr, wrap(f"{name}.{attr}", value))


def _seed_matplotlib_cache(src: str | None, uid, gid) -> None:
    """Copy the grader's prebuilt font cache so importing matplotlib is fast and quiet."""
    dest = os.environ.get("MPLCONFIGDIR")
    if not src or not dest or not os.path.isdir(src):
        return
    import shutil

    try:
        shutil.copytree(src, dest, dirs_exist_ok=True)
        if uid is not None and os.getuid() == 0:
            for dirpath, dirnames, filenames in os.walk(dest):
                os.chown(dirpath, uid, gid)
                for name in filenames:
                    os.chown(os.path.join(dirpath, name), uid, gid)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    cfg = json.loads(os.environ.pop("AUTOGRADER_KERNEL", "{}") or "{}")
    _set_limits(cfg.get("limits", {}))
    key = _read_key(cfg["key_fd"]) if cfg.get("key_fd") is not None else b""
    channel = cfg.get("channel_fd")

    from autograder import guard

    if channel is not None:
        os.set_blocking(channel, False)
    problems = _trusted_import(cfg.get("preimport", []), cfg.get("trusted_paths", []))
    _guard_private_functions(cfg.get("private_modules", []))

    from ipykernel import kernelapp

    app = kernelapp.IPKernelApp.instance()
    app.initialize(argv)
    kernel = app.kernel
    shell = getattr(kernel, "shell", None)
    instances = {"kernel": kernel, "shell": shell, "session": getattr(kernel, "session", None),
                 "displayhook": getattr(shell, "displayhook", None),
                 "display_pub": getattr(shell, "display_pub", None)}

    if channel is not None:
        guard.install(key, channel, lambda: guard.take_snapshot(instances),
                      trusted_files=_trusted_file_hashes(cfg.get("preimport", [])))
        del key
        guard.arm()
        if problems:
            # A planted module loaded instead of the trusted one is tampering; a missing
            # trusted module is the course's problem and shows up as failing hidden tests.
            for text in problems:
                if "loaded from the submission" in text:
                    sys.audit("autograder.planted", text)
    uid, gid = cfg.get("uid"), cfg.get("gid")
    _seed_matplotlib_cache(cfg.get("mpl_cache"), uid, gid)
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        if os.getuid() != uid or os.geteuid() != uid:
            raise SystemExit("autograder kernel: could not drop privileges")
    os.umask(0o022)
    app.start()


if __name__ == "__main__":
    main()
