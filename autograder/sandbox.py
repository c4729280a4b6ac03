"""Bubblewrap sandbox around the kernels that run student code.

nbgrader's ``Execute`` preprocessor starts one Jupyter kernel per notebook through a
``KernelManager``. :class:`SandboxKernelManager` is that kernel manager (configured in
``nbgrader_config.py`` and used by :class:`autograder.execute.SandboxedExecute`). Instead
of ``python -m ipykernel_launcher -f CONN`` it launches

    bwrap <namespaces + mounts> -- STUDENT_PYTHON kernel_launcher.py SETTINGS -f CONN

What the kernel sees (see :func:`bwrap_argv`):

* ``/usr``, ``/etc`` and the *student environment* (a virtual environment holding numpy,
  matplotlib, IPython, ipykernel and ipywidgets: what a student's server has) read-only.
  The grader's own environment -- nbgrader, scipy, the reference, the checks -- is not
  mounted, so it cannot be imported;
* a read-only copy of the student's folder (made by the grader: regular files only, no
  notebooks), which the launcher copies into ``/tmp/work``, the working folder, inside a
  size-capped tmpfs ``/tmp``: filling it fails this notebook only;
* the folder of the kernel's ZeroMQ sockets (``transport="ipc"``: Unix sockets, so the
  kernel needs no network and gets none: ``--unshare-net``), a tiny tmpfs of its own inside
  the sandbox that the grader reaches through ``/proc/<sandbox pid>/root``;
* nothing else: not ``source/``, not the gradebook, not other students, not ``$HOME``.

What the kernel can write holds by construction, as root and as any other account: every
mount in the sandbox is read-only except three tmpfs mounts, each made by bubblewrap with a
size (``--size``): ``/tmp`` (``tmp_mb``), ``/dev/shm`` (``shm_mb``) and the socket folder
(:data:`SOCKET_TMPFS_BYTES`). ``/`` and ``/dev`` (tmpfs mounts bubblewrap makes without a
size, owned by the grader's uid when it is not root) are remounted read-only once set up;
no host folder is bound writable (:func:`bwrap_argv` refuses ``--bind``); and the launcher
forbids new user namespaces, so the kernel cannot mount a tmpfs of its own either. (Not
bounded by this: kernel memory that no file size counts -- ``memfd_create``, System V shared
memory, the inodes of many empty files on a tmpfs; bubblewrap has no ``nr_inodes``, and only
a memory cgroup would bound them.)

Limits (applied by :mod:`autograder.kernel_launcher` before ipykernel starts): address
space, CPU seconds, file size, open files, processes (per-slot uid, so parallel students
do not share the count), no core dumps. Wall-clock limits are the per-cell timeout and the
per-notebook budget of :class:`autograder.execute.SandboxedExecute`.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, Unicode

from .fstree import remove_tree, walk

REPO_ROOT = Path(__file__).resolve().parent.parent
LAUNCHER = Path(__file__).with_name("kernel_launcher.py")
DEFAULT_STUDENT_PYTHON = REPO_ROOT / ".venv-kernel" / "bin" / "python"

# Paths inside the sandbox
LAUNCHER_MOUNT = "/opt/autograder/kernel_launcher.py"
SUBMISSION_MOUNT = "/opt/submission"
MPL_CACHE_MOUNT = "/opt/mplcache"
WORKDIR = "/tmp/work"

#: the socket folder's tmpfs: sockets take no space, and the connection file is a read-only
#: bind on it, so this only bounds what a kernel can put there itself
SOCKET_TMPFS_BYTES = 64 * 1024

#: what of a student's folder the kernel gets: at most this deep, this many bytes
COPY_MAX_DEPTH = 16
COPY_MAX_BYTES = 200 * 1024 * 1024


class SandboxUnavailable(RuntimeError):
    """bubblewrap or the student environment is missing, or the sandbox cannot be made here."""


@dataclasses.dataclass
class SandboxConfig:
    """Command-line overrides of :class:`SandboxKernelManager`'s settings (None: keep config)."""

    enabled: bool | None = None
    memory_mb: int | None = None
    cpu_seconds: int | None = None
    nproc: int | None = None

    def apply(self, cfg) -> None:
        """Write the overrides into a traitlets ``Config``."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                setattr(cfg.SandboxKernelManager, field.name, value)


# --------------------------------------------------------------------------------------
# The student environment

_PROBE = """
import glob, json, os, sys, sysconfig
base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
site = {sysconfig.get_paths(scheme="posix_prefix", vars=base)[k] for k in ("purelib", "platlib")}
site |= set(glob.glob("/usr/lib/python3*/dist-packages") + glob.glob("/usr/local/lib/python3*/*-packages"))
print(json.dumps({"roots": [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                            os.path.dirname(os.path.realpath(sys.executable))],
                  "own": [os.path.realpath(p) for p in sys.path if p.endswith("-packages")],
                  "other_sites": sorted(os.path.realpath(p) for p in site if os.path.isdir(p))}))
"""


@functools.lru_cache(maxsize=8)
def _interpreter(python: str) -> dict:
    out = subprocess.run([python, "-I", "-c", _PROBE], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout)


def python_roots(python: str) -> tuple[str, ...]:
    """Folders an interpreter needs (its venv and its base installation), outside /usr."""
    roots: list[str] = []
    for p in _interpreter(python)["roots"]:
        p = os.path.realpath(p)
        if p == "/usr" or p.startswith("/usr/") or not os.path.isdir(p):
            continue
        if not any(p == r or p.startswith(r + os.sep) for r in roots):
            roots = [r for r in roots if not r.startswith(p + os.sep)] + [p]
    return tuple(roots)


def foreign_site_packages(python: str) -> tuple[str, ...]:
    """Package folders visible in the sandbox that are not the student environment's own:
    the base interpreter's and the system's. They are hidden under empty tmpfs mounts, so
    packages installed there (scipy, say) cannot be imported with a sys.path edit."""
    info = _interpreter(python)
    own = set(info["own"])
    return tuple(p for p in info["other_sites"] if p not in own)


def student_python(configured: str = "") -> str:
    """The student environment's interpreter, or :class:`SandboxUnavailable` saying how to make it."""
    path = configured or str(DEFAULT_STUDENT_PYTHON)
    if not os.access(path, os.X_OK):
        raise SandboxUnavailable(
            f"the student environment's Python ({path}) is missing. `make setup` builds it "
            "(.venv-kernel from requirements/student.txt), or set "
            "SandboxKernelManager.student_python to a Python that has the student packages.")
    return path


def prepare_mpl_cache(dest: Path, python: str) -> str:
    """Build matplotlib's font cache once with the student Python, for every kernel to copy."""
    dest.mkdir(parents=True, exist_ok=True)
    if not any(dest.glob("fontlist-*.json")):
        env = dict(os.environ, MPLCONFIGDIR=str(dest), MPLBACKEND="Agg")
        subprocess.run([python, "-c", "import matplotlib.font_manager"], env=env,
                       capture_output=True, timeout=300)
    os.chmod(dest, 0o755)
    for path in dest.iterdir():
        if path.is_file():
            os.chmod(path, 0o644)
    return str(dest)


def copy_submission(source: str, dest: str) -> list[str]:
    """Copy the regular files of a student's folder (no notebooks, no dot-files) to ``dest``.

    Never follows links or opens anything but regular files; stops at ``COPY_MAX_DEPTH``
    and ``COPY_MAX_BYTES``. Returns what was left out, for the TA.
    """
    skipped, total = [], 0
    os.makedirs(dest, exist_ok=True)
    for rel, kind in walk(source):
        parts = Path(rel).parts
        if any(p.startswith(".") for p in parts) or rel.endswith(".ipynb"):
            continue
        if len(parts) > COPY_MAX_DEPTH:
            skipped.append(f"{rel} (too deep)")
            continue
        target = os.path.join(dest, rel)
        if kind == "dir":
            os.makedirs(target, exist_ok=True)
        elif kind == "file":
            size = os.lstat(os.path.join(source, rel)).st_size
            if total + size > COPY_MAX_BYTES:
                skipped.append(f"{rel} (over the size limit)")
                continue
            total += size
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd = os.open(os.path.join(source, rel), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
        else:
            skipped.append(f"{rel} ({kind})")
    return skipped


# --------------------------------------------------------------------------------------
# The bwrap command line

def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--ro-bind", "/etc", "/etc"]
    return args


#: what ``binds`` of :func:`bwrap_argv` may hold; there is no writable host folder on purpose
BIND_KINDS = ("--ro-bind", "--empty", "--tmpfs")


def bwrap_argv(bwrap: str, *, privileged: bool, tmp_bytes: int, shm_bytes: int,
               binds: list[tuple[str, object, str]], env: dict[str, str], chdir: str = "/tmp",
               info_fd: int | None = None) -> list[str]:
    """The bwrap prefix for one kernel (the command follows after ``--``).

    ``binds`` are ``(kind, source, sandbox path)``: ``("--ro-bind", host path, dest)``;
    ``("--empty", "", dest)``, an empty read-only folder over what is there; or
    ``("--tmpfs", size in bytes, dest)``, a writable tmpfs of that size (mode 0700; as root
    the launcher gives it to the sandbox uid). A writable host folder (``--bind``) is refused:
    what the kernel writes must land on a tmpfs with a size.

    Everything else the kernel could write is made read-only here: ``/`` and ``/dev`` are
    tmpfs mounts bubblewrap makes *without* a size (half the machine's RAM), owned by the
    grader's uid when it is not root, so they are remounted read-only after the last mount;
    ``/dev/shm`` and ``/tmp`` get their own size-capped tmpfs. ``--info-fd``: bubblewrap
    writes the sandbox's pid there (JSON ``child-pid``).
    """
    argv = [bwrap, "--die-with-parent", "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox", "--new-session"]
    if not privileged:
        argv.append("--unshare-user")
    if info_fd is not None:
        argv += ["--info-fd", str(info_fd)]
    argv += _system_binds()
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(int(shm_bytes)), "--tmpfs", "/dev/shm",
             "--perms", "1777", "--size", str(int(tmp_bytes)), "--tmpfs", "/tmp"]
    made = {"/", "/usr", "/etc", "/proc", "/dev", "/dev/shm", "/tmp"}
    readonly = ["/dev"]
    for kind, src, dest in binds:
        if kind not in BIND_KINDS:
            raise ValueError(f"{kind} {src} {dest}: the sandbox binds host folders read-only only")
        parents = []
        parent = os.path.dirname(dest)
        while parent not in made and parent != "/":
            parents.append(parent)
            parent = os.path.dirname(parent)
        for p in reversed(parents):
            argv += ["--perms", "0755", "--dir", p]  # on the root tmpfs, read-only below
            made.add(p)
        if kind == "--empty":
            argv += ["--perms", "0755", "--size", "4096", "--tmpfs", dest]
            readonly.append(dest)
        elif kind == "--tmpfs":
            argv += ["--perms", "0700", "--size", str(int(src)), "--tmpfs", dest]
        else:
            argv += [kind, str(src), dest]
        made.add(dest)
    for dest in readonly + ["/"]:  # after every mount (their mount points are made first)
        argv += ["--remount-ro", dest]
    argv += ["--chdir", chdir, "--clearenv"]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    return argv + ["--"]


def kernel_env(python: str, home: str) -> dict[str, str]:
    """The kernel's environment variables: nothing of the grader's."""
    prefix = os.path.dirname(os.path.dirname(python))
    return {
        "PATH": os.path.dirname(python) + ":/usr/local/bin:/usr/bin:/bin",
        "VIRTUAL_ENV": prefix, "HOME": home, "TMPDIR": "/tmp", "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8", "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
        "IPYTHONDIR": os.path.join(home, ".ipython"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1", "NBGRADER_EXECUTION": "autograde",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }


def _read_sandbox_pid(fd: int, timeout: float = 60) -> int:
    """The sandbox's pid from bubblewrap's ``--info-fd`` (JSON written right after the clone)."""
    import select

    data = b""
    while True:
        try:
            return int(json.loads(data)["child-pid"])
        except ValueError:  # incomplete (JSONDecodeError is a ValueError)
            pass
        ready, _, _ = select.select([fd], [], [], timeout)
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            raise SandboxUnavailable(f"bubblewrap did not start the sandbox (it said {data!r}; "
                                     "see the kernel log)")
        data += chunk


# --------------------------------------------------------------------------------------
# The kernel manager

class SandboxKernelManager(AsyncKernelManager):
    """Starts the student environment's ipykernel inside bubblewrap, with limits."""

    enabled = Bool(True, help="run kernels inside bubblewrap; False runs them bare "
                              "(student code gets the grader's privileges)").tag(config=True)
    bwrap = Unicode("bwrap", help="the bubblewrap executable").tag(config=True)
    student_python = Unicode("", help="Python of the student environment (default: "
                                      ".venv-kernel/bin/python of the course pack)").tag(config=True)
    memory_mb = Integer(2048, help="address-space limit (numpy + IPython need ~1 GB)").tag(config=True)
    cpu_seconds = Integer(300, help="CPU seconds for the whole notebook (then SIGXCPU)").tag(config=True)
    nproc = Integer(64, help="processes and threads of the sandbox uid (root only)").tag(config=True)
    fsize_mb = Integer(64, help="largest file the kernel may write").tag(config=True)
    nofile = Integer(512, help="open files").tag(config=True)
    tmp_mb = Integer(256, help="size of the tmpfs holding /tmp and the working folder").tag(config=True)
    shm_mb = Integer(16, help="size of the tmpfs at /dev/shm (POSIX shared memory: "
                              "multiprocessing's locks need a page each)").tag(config=True)
    uid_base = Integer(61000, help="sandbox uid = uid_base + slot (root only)").tag(config=True)
    slot = Integer(0, help="this worker's slot (parallel grading)").tag(config=True)
    mpl_cache = Unicode("", help="prebuilt matplotlib font cache to copy in").tag(config=True)
    log_path = Unicode("", help="file for the kernel's stdout and stderr")
    source_dir = Unicode("", help="the student's folder, copied in (regular files only)")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._sockdir = None
        self._sandbox_pid = None
        self._log = None

    @property
    def privileged(self) -> bool:
        return self.enabled and os.geteuid() == 0

    def limits(self) -> dict:
        mb = 1024 * 1024
        limits = {"as": self.memory_mb * mb, "cpu": (self.cpu_seconds, self.cpu_seconds + 5),
                  "fsize": self.fsize_mb * mb, "core": 0, "nofile": self.nofile}
        if self.privileged:
            limits["nproc"] = self.nproc
        return limits

    # The socket folder. The kernel binds its sockets in a folder it must be able to write,
    # so that folder is not on the host: it is a tmpfs of SOCKET_TMPFS_BYTES inside the
    # sandbox, at the path of a private, grader-only host folder of the same name that holds
    # just the connection file (bound read-only into the tmpfs). The grader connects through
    # /proc/<sandbox pid>/root/<that path>. Whatever the kernel writes there is capped by
    # construction and vanishes with the sandbox; the host folder is never writable by it.
    # Before bubblewrap has built the sandbox, /proc/<pid>/root is still the host's root, so
    # the path resolves to the host folder, which holds no socket: ZeroMQ just retries.

    def _setup_transport(self) -> None:
        if self.enabled and self._sockdir is None:
            # Unix sockets need short paths (108 bytes): a private dir in /tmp.
            self._sockdir = tempfile.mkdtemp(prefix="agk-", dir="/tmp")
            os.chmod(self._sockdir, 0o700)
            self.transport = "ipc"
            self.connection_file = os.path.join(self._sockdir, "connection.json")
        if self._sockdir is not None:
            self.ip = os.path.join(self._sockdir, "k")  # as the kernel sees it

    async def _async_pre_start_kernel(self, **kw):
        self._setup_transport()
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        python = student_python(self.student_python)
        scratch = os.path.realpath(kw.get("cwd") or os.getcwd())
        incoming = os.path.join(scratch, "in")
        if self.source_dir:
            copy_submission(self.source_dir, incoming)
        os.makedirs(incoming, exist_ok=True)
        extra_args = [a for a in kernel_cmd if a.startswith("--") and "=" in a]
        uid = gid = self.uid_base + self.slot if self.privileged else None
        info_read = info_write = None
        if self.enabled:
            os.chmod(self.connection_file, 0o644)  # readable by the sandbox uid; its folder is 0700
            settings = {"source": SUBMISSION_MOUNT, "workdir": WORKDIR, "uid": uid, "gid": gid,
                        "limits": self.limits(), "own": [self._sockdir], "no_new_userns": True,
                        "copy": [[MPL_CACHE_MOUNT, "/tmp/.matplotlib"]] if self.mpl_cache else []}
            binds = [("--ro-bind", root, root) for root in python_roots(python)]
            binds += [("--empty", "", site) for site in foreign_site_packages(python)]
            binds += [("--ro-bind", str(LAUNCHER), LAUNCHER_MOUNT),
                      ("--ro-bind", incoming, SUBMISSION_MOUNT),
                      ("--tmpfs", SOCKET_TMPFS_BYTES, self._sockdir),
                      ("--ro-bind", self.connection_file, self.connection_file)]
            if self.mpl_cache and os.path.isdir(self.mpl_cache):
                binds.append(("--ro-bind", self.mpl_cache, MPL_CACHE_MOUNT))
            env = kernel_env(python, "/tmp")
            info_read, info_write = os.pipe()
            cmd = bwrap_argv(self.bwrap, privileged=self.privileged,
                             tmp_bytes=self.tmp_mb * 1024 * 1024,
                             shm_bytes=self.shm_mb * 1024 * 1024, binds=binds, env=env,
                             info_fd=info_write)
            cmd += [python, LAUNCHER_MOUNT, json.dumps(settings), "-f", self.connection_file,
                    *extra_args]
            kw["env"] = {"PATH": env["PATH"], "LANG": "C.UTF-8"}
            kw["pass_fds"] = (info_write,)
        else:
            home = os.path.join(scratch, "home")
            os.makedirs(home, exist_ok=True)
            settings = {"source": incoming, "workdir": os.path.join(scratch, "work"),
                        "limits": self.limits(),
                        "copy": [[self.mpl_cache, os.path.join(home, ".matplotlib")]] if self.mpl_cache else []}
            os.makedirs(settings["workdir"], exist_ok=True)
            cmd = [python, str(LAUNCHER), json.dumps(settings), "-f", self.connection_file, *extra_args]
            kw["env"] = kernel_env(python, home)
        kw["close_fds"] = True
        if self.log_path:
            self._log = open(self.log_path, "ab")
            kw["stdout"] = self._log
            kw["stderr"] = self._log
        try:
            try:
                result = await super()._async_launch_kernel(cmd, **kw)
            finally:
                if info_write is not None:
                    os.close(info_write)  # bubblewrap has its copy: EOF if it dies
            if info_read is not None:
                self._sandbox_pid = _read_sandbox_pid(info_read)
                # From now on the grader reaches the sockets inside the sandbox.
                self.ip = f"/proc/{self._sandbox_pid}/root{self.ip}"
        finally:
            if info_read is not None:
                os.close(info_read)
        return result

    def seal_sockets(self) -> None:
        """Once the kernel has bound its sockets: as root, take its write access to their folder.

        The folder is a capped tmpfs inside the sandbox, so this is not about space: it keeps
        student code from replacing the sockets the grader connects to (the sandbox uid then
        owns nothing in the folder's path). Without root the kernel runs as the grader's own
        uid, which no permission can tell apart; the folder stays capped. Connecting needs no
        write access to the folder.
        """
        if not (self.privileged and self._sockdir and self._sandbox_pid):
            return
        try:
            fd = os.open(f"/proc/{self._sandbox_pid}/root{self._sockdir}",
                         os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except (FileNotFoundError, ProcessLookupError):
            return  # the sandbox is gone: so is the kernel, which the caller finds out
        try:
            os.fchown(fd, 0, 0)
            os.fchmod(fd, 0o755)
        finally:
            os.close(fd)

    async def _async_interrupt_kernel(self) -> None:
        """Interrupt by message: ipykernel then signals itself.

        A SIGINT to the kernel's process group (jupyter_client's default) would also hit
        bubblewrap, which dies of it and takes the kernel with it.
        """
        if self.enabled and self.has_kernel:
            msg = self.session.msg("interrupt_request", content={})
            self._connect_control_socket()
            self.session.send(self._control_socket, msg)
            return
        await super()._async_interrupt_kernel()

    interrupt_kernel = _async_interrupt_kernel

    def exit_status(self):
        proc = getattr(self.provisioner, "process", None) if self.provisioner else None
        if proc is None:
            return None
        return proc.poll()

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._sockdir:
            remove_tree(self._sockdir)
            self._sockdir = None
        self._sandbox_pid = None

    cleanup_resources = _async_cleanup_resources


def check_sandbox(manager: SandboxKernelManager, scratch_parent: Path) -> None:
    """Fail loudly, with what to do, when the sandbox cannot work on this machine."""
    python = student_python(manager.student_python)
    if not manager.enabled:
        return
    exe = shutil.which(manager.bwrap)
    if exe is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so student code cannot be sandboxed.\n"
            "Install it (Debian/Ubuntu: `apt-get install bubblewrap`, or run "
            "./.ci/system-packages), or pass --no-sandbox to grade without a sandbox "
            "(student code then runs with your privileges).")
    scratch_parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="check-", dir=scratch_parent))
    try:
        binds = [("--ro-bind", root, root) for root in python_roots(python)]
        binds += [("--empty", "", site) for site in foreign_site_packages(python)]
        argv = bwrap_argv(manager.bwrap, privileged=manager.privileged,
                          tmp_bytes=manager.tmp_mb * 1024 * 1024,
                          shm_bytes=manager.shm_mb * 1024 * 1024, binds=binds,
                          env=kernel_env(python, "/tmp"))
        code = ("import socket\n"
                "s = socket.socket()\n"
                "try:\n s.connect(('1.1.1.1', 53)); print('NET')\n"
                "except OSError: print('NONET')\n"
                "import sys\n"
                f"sys.path += {list(foreign_site_packages(python))!r}\n"
                "try:\n import scipy; print('GRADER-PACKAGES')\n"
                "except ImportError: pass\n"
                "import numpy, matplotlib, ipykernel\n"
                "open('/tmp/probe', 'w').write('ok')")
        proc = subprocess.run(argv + [python, "-c", code], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 or "NONET" not in proc.stdout:
            raise SandboxUnavailable(
                "bubblewrap is installed but cannot create the sandbox on this machine "
                f"(exit {proc.returncode}): {proc.stderr.strip()[-800:] or proc.stdout.strip()}\n"
                "Usually this means unprivileged user namespaces are disabled: enable them "
                "(sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces>0), "
                "run the grader as root, or pass --no-sandbox to grade without a sandbox "
                "(student code then runs with your privileges).")
        if "GRADER-PACKAGES" in proc.stdout:
            raise SandboxUnavailable(
                f"the student environment ({python}) can import scipy: it must hold only what "
                "students may use (requirements/student.txt).")
    finally:
        remove_tree(str(work))
