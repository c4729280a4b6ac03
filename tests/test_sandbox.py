"""The sandbox around student kernels: detection, the bwrap command line, a real kernel."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
import pytest
from nbclient import NotebookClient

from autograder.course import REPO_ROOT
from autograder.grade import Options, grade_class
from autograder.sandbox import (SOCKET_TMPFS_BYTES, SandboxKernelManager, SandboxUnavailable,
                                bwrap_argv, check_sandbox, copy_submission, foreign_site_packages,
                                kernel_env, student_python)
from tests.toy_course import ToyCourse


# -- detection -------------------------------------------------------------------------------

def test_missing_bwrap_fails_loudly_and_names_the_opt_out(tmp_path):
    with pytest.raises(SandboxUnavailable) as err:
        check_sandbox(SandboxKernelManager(bwrap=str(tmp_path / "no-such-bwrap")), tmp_path)
    assert "bubblewrap" in str(err.value) and "--no-sandbox" in str(err.value)


def test_bwrap_without_user_namespaces_fails_loudly(tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(SandboxUnavailable) as err:
        check_sandbox(SandboxKernelManager(bwrap=str(fake)), tmp_path)
    assert "user namespaces" in str(err.value) and "--no-sandbox" in str(err.value)


def test_missing_student_environment_says_how_to_build_it(tmp_path):
    with pytest.raises(SandboxUnavailable) as err:
        student_python(str(tmp_path / "no-python"))
    assert "make setup" in str(err.value)


def test_student_environment_cannot_import_the_graders_packages(tmp_path):
    check_sandbox(SandboxKernelManager(), tmp_path)  # raises if scipy is importable there


def test_disabled_sandbox_is_not_checked(tmp_path):
    check_sandbox(SandboxKernelManager(enabled=False, bwrap=str(tmp_path / "none")), tmp_path)


@pytest.mark.nbgrader
def test_grading_stops_before_touching_anyone_when_the_sandbox_cannot_work(tmp_path):
    toy = ToyCourse.create(tmp_path / "course")
    toy.submit("ann")
    course = toy.course
    course.config.SandboxKernelManager.bwrap = str(tmp_path / "no-such-bwrap")
    with pytest.raises(SandboxUnavailable):
        grade_class(course, Options(workers=1, progress=False))
    assert not (toy.root / "autograded").exists()
    assert toy.all_scores() == {}


# -- the command line -----------------------------------------------------------------------

def _argv(tmp_path) -> list[str]:
    sock = tmp_path / "sock"
    sock.mkdir()
    binds = [("--ro-bind", str(tmp_path / "in"), "/opt/submission"),
             ("--empty", "", "/usr/lib/python3/dist-packages"),
             ("--tmpfs", SOCKET_TMPFS_BYTES, str(sock)),
             ("--ro-bind", str(sock / "connection.json"), str(sock / "connection.json"))]
    return bwrap_argv("bwrap", privileged=True, tmp_bytes=1 << 20, shm_bytes=1 << 16, binds=binds,
                      env=kernel_env(student_python(), "/tmp"))


def test_sandbox_has_no_network_and_its_own_process_tree(tmp_path):
    argv = _argv(tmp_path)
    assert {"--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent"} <= set(argv)
    assert "--share-net" not in argv


def test_no_host_folder_is_bound_writable(tmp_path):
    argv = _argv(tmp_path)
    assert not {"--bind", "--bind-try", "--dev-bind", "--dev-bind-try"} & set(argv)
    with pytest.raises(ValueError):
        bwrap_argv("bwrap", privileged=True, tmp_bytes=1 << 20, shm_bytes=1 << 16,
                   binds=[("--bind", str(tmp_path), str(tmp_path))], env={})


def test_every_tmpfs_has_a_size_and_the_rest_is_remounted_read_only(tmp_path):
    argv = _argv(tmp_path)
    mounted = {argv[i + 1]: int(argv[i - 1]) for i, a in enumerate(argv)
               if a == "--tmpfs" and argv[i - 2] == "--size"}
    assert len(mounted) == argv.count("--tmpfs")  # each one sized
    assert mounted["/tmp"] == 1 << 20 and mounted["/dev/shm"] == 1 << 16
    assert mounted[str(tmp_path / "sock")] == SOCKET_TMPFS_BYTES
    readonly = {argv[i + 1] for i, a in enumerate(argv) if a == "--remount-ro"}
    assert {"/", "/dev", "/usr/lib/python3/dist-packages"} <= readonly
    last_mount = max(i for i, a in enumerate(argv) if a in ("--tmpfs", "--ro-bind", "--dir",
                                                            "--symlink", "--proc", "--dev"))
    assert min(i for i, a in enumerate(argv) if a == "--remount-ro") > last_mount


def test_environment_is_cleared_and_holds_nothing_of_the_graders(tmp_path):
    argv = _argv(tmp_path)
    assert "--clearenv" in argv
    env = {argv[i + 1]: argv[i + 2] for i, a in enumerate(argv) if a == "--setenv"}
    assert "JPY_PARENT_PID" not in env and "NBGRADER_DB_URL" not in env
    assert str(REPO_ROOT / ".venv" / "bin") not in env["PATH"]


def test_submission_copy_takes_regular_files_only(tmp_path):
    src = tmp_path / "src"
    (src / "helpers").mkdir(parents=True)
    (src / "helpers" / "viz.py").write_text("x = 1\n")
    (src / "01.ipynb").write_text("{}")
    os.mkfifo(src / "pipe")
    (src / "link").symlink_to("/etc/passwd")
    skipped = copy_submission(str(src), str(tmp_path / "in"))
    assert sorted(p.name for p in (tmp_path / "in").rglob("*")) == ["helpers", "viz.py"]
    assert any("pipe" in s for s in skipped) and any("link" in s for s in skipped)


# -- a real sandboxed kernel ------------------------------------------------------------------

def _run_cells(tmp_path, cells: list[str], seal=False, **traits) -> list[str]:
    source = tmp_path / "submission"
    (source / "helpers").mkdir(parents=True)
    (source / "helpers" / "__init__.py").write_text("")
    (source / "helpers" / "public.py").write_text("NAME = 'public helper'\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    km = SandboxKernelManager(source_dir=str(source), **traits)
    hooks = {"on_notebook_start": lambda notebook: km.seal_sockets()} if seal else {}
    try:
        NotebookClient(nb, km=km, timeout=60, allow_errors=True,
                       resources={"metadata": {"path": str(scratch)}}, **hooks).execute()
    finally:  # a client given its kernel manager leaves the kernel to its owner
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    return ["".join(o.get("text", "") or str(o.get("data", {}).get("text/plain", ""))
                    or f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs) for cell in nb.cells]


@pytest.mark.nbgrader
def test_kernel_runs_unprivileged_in_a_copy_of_the_students_folder(tmp_path):
    out = _run_cells(tmp_path, ["import os; print(os.getuid(), os.getcwd())",
                                "import helpers.public; print(helpers.public.NAME)"])
    uid, cwd = out[0].split()
    assert int(uid) != 0 and cwd == "/tmp/work"
    assert out[1].strip() == "public helper"


@pytest.mark.nbgrader
def test_kernel_has_the_student_environment_only(tmp_path):
    hidden = list(foreign_site_packages(student_python()))
    out = _run_cells(tmp_path, ["import sys; print(sys.prefix)",
                                f"import sys; sys.path += {hidden!r}\nimport scipy", "import nbgrader",
                                f"open({str(REPO_ROOT / 'helpers' / 'reference.py')!r})"])
    assert out[0].strip().endswith(".venv-kernel")
    assert out[1].startswith("ModuleNotFoundError") and out[2].startswith("ModuleNotFoundError")
    assert out[3].startswith("FileNotFoundError")


@pytest.mark.nbgrader
def test_writing_past_the_tmpfs_size_fails_in_the_kernel(tmp_path):
    out = _run_cells(tmp_path, ["open('big', 'wb').write(b'x' * 3_000_000)"], tmp_mb=2)
    assert "No space left on device" in out[0]


@pytest.mark.nbgrader
def test_kernel_cannot_write_into_the_socket_folder_once_sealed(tmp_path):
    out = _run_cells(tmp_path, seal=True, cells=["import os, sys\n"
                                "folder = os.path.dirname(sys.argv[sys.argv.index('-f') + 1])\n"
                                "open(os.path.join(folder, 'fill'), 'wb').write(b'x')"])
    assert "PermissionError" in out[0] or os.geteuid() != 0


@pytest.mark.nbgrader
def test_multiprocessing_locks_work_in_the_capped_dev_shm(tmp_path):
    out = _run_cells(tmp_path, ["import multiprocessing\nlock = multiprocessing.Lock()\n"
                                "with lock:\n    print('locked')"])
    assert out[0].strip() == "locked"


# -- nothing is writable beyond its cap, as root and as another account ----------------------
#
# A kernel looks for every place it can write: each directory (it tries to create a file in
# it), each existing regular file (it tries to open it for writing), each mount it could make
# in a user namespace of its own. Then it writes up to 300 MB into each writable mount: the
# socket folder (unsealed: the worst case), /dev/shm, /tmp, and anything else it found. The
# grader, meanwhile, looks at the host: the socket folder there, /dev/shm, /tmp.

FILL_TARGET = 300 * 1024 * 1024
FILL_TMP_MB, FILL_SHM_MB = 8, 4
SLACK = 4096  # tmpfs counts whole pages

FILL_CELL = r'''
import ctypes, json, os, stat, sys
MARK, TARGET = {mark!r}, {target}
report = {{"uid": os.getuid(), "sockets": os.path.dirname(sys.argv[sys.argv.index("-f") + 1]),
          "caps": {{k: int(v, 16) for k, v in (line.split(":") for line in open("/proc/self/status"))
                   if k.startswith("Cap") and k != "CapBnd"}}}}

def unescape(field):
    return field.encode().decode("unicode_escape")

mounts = {{}}
for line in open("/proc/self/mountinfo"):
    left, right = line.split(" - ")
    fields = left.split()
    fstype, _source, superopts = right.split()
    mounts[unescape(fields[4])] = {{"options": fields[5], "fstype": fstype, "super": superopts}}
report["mounts"] = mounts

writable_dirs, writable_files, visited = [], [], set()
for top in ["/", *mounts]:  # the mounts again, in case a folder above one cannot be listed
    for dirpath, dirnames, filenames in os.walk(top):
        if dirpath in visited or dirpath in ("/proc", "/sys") or dirpath.startswith(("/proc/", "/sys/")):
            dirnames[:] = []
            continue
        visited.add(dirpath)
        probe = os.path.join(dirpath, MARK + "-probe")
        try:
            os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            os.unlink(probe)
            writable_dirs.append(dirpath)
        except OSError:
            pass
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    continue
                os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK))
                writable_files.append(path)
            except OSError:
                pass
report["writable_dirs"] = sorted(set(writable_dirs))
report["writable_files"] = sorted(set(writable_files))

# A mount of its own: a user namespace, then a tmpfs (tried in a child).
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    ok = libc.unshare(0x10000000 | 0x00020000) == 0 and libc.mount(b"x", b"/tmp", b"tmpfs", 0, None) == 0
    os._exit(0 if ok else 1)
report["own_mount"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
try:
    open("/proc/sys/user/max_user_namespaces", "w").write("100")
    report["raised_userns_limit"] = True
except OSError:
    report["raised_userns_limit"] = False

# Fill each writable mount (the first writable folder found on it) with up to TARGET bytes.
chunk = b"x" * (1 << 20)
wrote, seen = {{}}, set()
for folder in report["writable_dirs"]:
    dev = os.stat(folder).st_dev
    if dev in seen:
        continue
    seen.add(dev)
    total, index = 0, 0
    while total < TARGET:
        index += 1
        try:
            fd = os.open(os.path.join(folder, f"{{MARK}}-{{index}}"), os.O_CREAT | os.O_WRONLY, 0o600)
        except OSError:
            break
        try:
            while total < TARGET:
                total += os.write(fd, chunk)
        except OSError as exc:  # the tmpfs is full (ENOSPC), or RLIMIT_FSIZE: next file
            if exc.errno != 27:  # EFBIG
                break
        finally:
            os.close(fd)
    wrote[folder] = total
report["wrote"] = wrote
print("FILL-REPORT", json.dumps(report))
'''


def _marked(folder: str, mark: str) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        found += [os.path.join(dirpath, n) for n in dirnames + filenames if mark in n]
    return found


def fill_report(base: str) -> dict:
    """Run FILL_CELL in a sandboxed kernel; with the kernel still up, look at the host side."""
    mark = "fill-" + secrets.token_hex(4)
    source, scratch = Path(base) / "submission", Path(base) / "scratch"
    source.mkdir()
    scratch.mkdir()
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(FILL_CELL.format(mark=mark, target=FILL_TARGET))])
    km = SandboxKernelManager(source_dir=str(source), tmp_mb=FILL_TMP_MB, shm_mb=FILL_SHM_MB)
    client = NotebookClient(nb, km=km, timeout=600, allow_errors=True,
                            resources={"metadata": {"path": str(scratch)}})
    report = {}
    try:
        with client.setup_kernel():
            client.execute_cell(nb.cells[0], 0)
            hostdir = km._sockdir
            report["host"] = {
                "sockdir": hostdir,
                "sockdir_bytes": sum(os.lstat(os.path.join(d, n)).st_size
                                     for d, _, names in os.walk(hostdir) for n in names),
                "sockdir_entries": sorted(os.listdir(hostdir)),
                # the kernel's files, wherever on the host they could have landed
                "marked": [p for folder in ("/dev/shm", hostdir, str(scratch))
                           for p in _marked(folder, mark)]
                          + [os.path.join("/tmp", n) for n in os.listdir("/tmp") if mark in n],
            }
    finally:
        if km.has_kernel:
            # after a kernel that died at start, this fails too (and would hide why)
            with contextlib.suppress(Exception):
                run_sync(km.shutdown_kernel)(now=True)
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.get("output_type") == "stream")
    lines = [line for line in text.splitlines() if line.startswith("FILL-REPORT ")]
    errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in nb.cells[0].outputs
              if o.get("output_type") == "error"]
    assert lines, f"the fill cell did not report: {errors or text[-2000:]}"
    report["kernel"] = json.loads(lines[-1][len("FILL-REPORT "):])
    return report


def _fill_as_another_account(tmp_path) -> dict:
    """fill_report as a throwaway non-root account (made with useradd, removed after)."""
    from tests.hub_fixtures import UnixAccount, real_accounts_unavailable, world_reachable_base

    why = real_accounts_unavailable()
    if why:
        pytest.skip(f"a non-root grader account needs {why}")
    base = world_reachable_base("dl-sandbox-fill-")
    account = UnixAccount(f"dlsbx{secrets.token_hex(3)}")
    try:
        account.give(base)
        code = ("import json, sys\nfrom tests.test_sandbox import fill_report\n"
                f"print('RESULT', json.dumps(fill_report({str(base)!r})))")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(base), "LANG": "C.UTF-8",
               "JUPYTER_RUNTIME_DIR": str(base / "runtime")}
        proc = subprocess.run(account.argv([sys.executable, "-c", code]), cwd=str(REPO_ROOT),
                              env=env, capture_output=True, text=True, timeout=900)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        assert proc.returncode == 0 and lines, f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        report = json.loads(lines[-1][len("RESULT "):])
        assert report["kernel"]["uid"] == account.uid  # the kernel ran as that account
        return report
    finally:
        account.remove()
        subprocess.run(["rm", "-rf", str(base)], check=False)


def _mount_of(path: str, mounts) -> str:
    """The mount point a path is on (the longest mount point above it)."""
    best = "/"
    for point in mounts:
        if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
            best = point
    return best


@pytest.mark.nbgrader
@pytest.mark.parametrize("grader", ["root", "non-root"])
def test_nothing_in_the_sandbox_is_writable_beyond_its_cap(tmp_path, grader):
    if grader == "root":
        if os.geteuid() != 0:
            pytest.skip("grading as root needs root")
        report = fill_report(str(tmp_path))
    else:
        report = fill_report(str(tmp_path)) if os.geteuid() != 0 else _fill_as_another_account(tmp_path)
    kernel, host = report["kernel"], report["host"]
    sockets = kernel["sockets"]
    caps = {"/tmp": FILL_TMP_MB << 20, "/dev/shm": FILL_SHM_MB << 20, sockets: SOCKET_TMPFS_BYTES}
    mounts = kernel["mounts"]
    assert _mount_of(sockets, mounts) == sockets  # the socket folder is a mount of its own

    # Writable: folders on the three capped tmpfs mounts, nothing else.
    on = {d: _mount_of(d, mounts) for d in kernel["writable_dirs"]}
    assert set(on.values()) == set(caps), on
    assert {_mount_of(f, mounts) for f in kernel["writable_files"]} <= set(caps)
    for point, cap in caps.items():
        assert mounts[point]["fstype"] == "tmpfs" and f"size={cap >> 10}k" in mounts[point]["super"]
    assert not kernel["own_mount"] and not kernel["raised_userns_limit"]
    assert not any(kernel["caps"].values()), kernel["caps"]

    # Each was filled up to its cap, never past it.
    per_mount = {}
    for folder, count in kernel["wrote"].items():
        per_mount[on[folder]] = per_mount.get(on[folder], 0) + count
    assert set(per_mount) == set(caps)
    for point, cap in caps.items():
        assert cap // 2 <= per_mount[point] <= cap + SLACK, (point, per_mount[point], cap)

    # The host saw none of it: its socket folder holds the connection file only.
    assert host["sockdir_entries"] == ["connection.json"] and host["sockdir_bytes"] <= SLACK
    assert host["marked"] == []
