"""Bubblewrap sandbox around the kernels that run student code.

nbgrader's ``Execute`` preprocessor starts one Jupyter kernel per notebook through a
``KernelManager``. :class:`SandboxKernelManager` is that kernel manager: instead of
``python -m ipykernel_launcher -f CONN`` it launches

    bwrap <namespaces + mounts> -- python -I -m autograder.kernel -f CONN

What the kernel sees (see :func:`bwrap_argv`):

* ``/usr``, ``/etc`` and the Python installation read-only; fresh ``/proc``, ``/dev``, a
  size-limited ``/tmp`` (tmpfs);
* the trusted packages (``helpers``, ``autograder``) as a private copy made at the start of
  the run: grading-only files are ``0600 root`` and the kernel drops to an unprivileged uid
  after importing them, so student code cannot read the reference implementations;
* one writable directory: a scratch copy of this student's assignment folder;
* the directory holding the kernel's ZeroMQ sockets (``transport="ipc"``: Unix sockets,
  so the kernel needs no network at all and gets none: ``--unshare-net``);
* nothing else: not ``source/``, not the gradebook, not other students, not ``$HOME``.

Limits (applied by :mod:`autograder.kernel` before any student code): address space,
CPU seconds, file size, open files, processes (per-slot uid so parallel students do not
share the count), no core dumps; wall-clock limits are the per-cell timeout and the
per-notebook budget enforced by :class:`autograder.execute.SandboxedExecute`.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Any, Unicode

from . import guard

REPO_ROOT = Path(__file__).resolve().parent.parent


MPL_CACHE_MOUNT = "/tmp/.autograder-mplcache"


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create the namespaces it needs here."""


@dataclasses.dataclass
class SandboxConfig:
    """Everything a worker needs to start sandboxed kernels (picklable)."""

    enabled: bool = True
    bwrap: str = "bwrap"
    # Limits. See README / grade --help for why these values.
    memory_mb: int = 2048          # RLIMIT_AS: numpy + IPython need ~1 GB of address space
    cpu_seconds: int = 300         # RLIMIT_CPU for the whole notebook (SIGXCPU, then KILL)
    nproc: int = 64                # RLIMIT_NPROC for the slot's uid: threads count too
    fsize_mb: int = 64             # RLIMIT_FSIZE: one file, also the kernel's own log
    nofile: int = 512
    tmp_mb: int = 256              # size of the sandbox's /tmp
    uid_base: int = 61000          # sandbox uid = uid_base + worker slot (root only)
    # What the kernel imports before student code, and from where.
    preimport: tuple = ("numpy", "helpers", "helpers.checks")
    # grading-only modules whose functions must not be called from student code
    private_modules: tuple = ("helpers.reference",)
    trusted_packages: tuple = ((str(REPO_ROOT), "helpers"), (str(REPO_ROOT), "autograder"))
    extra_sys_path: tuple = ()     # trusted roots not on the venv's sys.path (tests)
    public_files: tuple = ()       # trusted files students may read (the release's copies)
    mpl_cache: str = ""            # prebuilt matplotlib font cache (see prepare_mpl_cache)

    @property
    def privileged(self) -> bool:
        return os.geteuid() == 0

    def limits(self, with_nproc: bool) -> dict:
        mb = 1024 * 1024
        limits = {"as": self.memory_mb * mb, "cpu": (self.cpu_seconds, self.cpu_seconds + 5),
                  "fsize": self.fsize_mb * mb, "core": 0, "nofile": self.nofile}
        if with_nproc:
            limits["nproc"] = self.nproc
        return limits


# --------------------------------------------------------------------------------------
# The private copy of the trusted packages.

def prepare_trusted_tree(config: SandboxConfig, dest: Path) -> list[tuple[str, str]]:
    """Copy the trusted packages to ``dest``; return (copy, mount point) pairs.

    Files are 0600 (root) except ``public_files`` (relative paths such as
    ``helpers/sliding.py``) which stay 0644; directories stay listable (0755), because
    Python's import system lists a package directory to find its modules -- file names are
    no secret, their contents are. The copy is made
    once per grading run so every student is graded with the same checks even if
    someone edits ``helpers/`` meanwhile.
    """
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    os.chmod(dest, 0o755)
    public = {str(Path(p)) for p in config.public_files} | {"helpers/__init__.py",
                                                              "autograder/__init__.py"}
    pairs = []
    for index, (root, package) in enumerate(config.trusted_packages):
        src = Path(root) / package
        if not src.is_dir():
            continue
        copy = dest / str(index) / package
        shutil.copytree(src, copy, ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", ".*", "*.egg-info"))
        os.chmod(copy.parent, 0o755)
        for dirpath, dirnames, filenames in os.walk(copy):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                path = Path(dirpath) / name
                rel = str(Path(package) / path.relative_to(copy))
                os.chmod(path, 0o644 if rel in public else 0o600)
        pairs.append((str(copy), str(src)))
    return pairs


# --------------------------------------------------------------------------------------
# The bwrap command line.

def prepare_mpl_cache(dest: Path) -> str:
    """Build matplotlib's font cache once, for every kernel of the run to copy."""
    dest.mkdir(parents=True, exist_ok=True)
    if not any(dest.glob("fontlist-*.json")):
        env = dict(os.environ, MPLCONFIGDIR=str(dest), MPLBACKEND="Agg")
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env,
                       capture_output=True, timeout=300)
    os.chmod(dest, 0o755)
    for path in dest.iterdir():
        if path.is_file():
            os.chmod(path, 0o644)
    return str(dest)


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


def _python_roots() -> list[str]:
    roots = []
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              os.path.dirname(os.path.realpath(sys.executable))):
        p = os.path.realpath(p)
        if p.startswith("/usr/") or p == "/usr":
            continue
        if os.path.isdir(p) and not any(p == r or p.startswith(r + os.sep) for r in roots):
            roots = [r for r in roots if not r.startswith(p + os.sep)] + [p]
    return roots


def bwrap_argv(config: SandboxConfig, *, workdir: str, sockdir: str,
               trusted: list[tuple[str, str]], env: dict[str, str]) -> list[str]:
    """The bwrap prefix for one kernel (the command follows after ``--``)."""
    argv = [config.bwrap, "--die-with-parent", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if not config.privileged:
        argv.append("--unshare-user")
    argv += _system_binds()
    argv += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(config.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    binds: list[tuple[str, str, str]] = []  # (flag, src, dest)
    for root in _python_roots():
        binds.append(("--ro-bind", root, root))
    for copy, mount in trusted:
        binds.append(("--ro-bind", copy, mount))
    if config.mpl_cache and os.path.isdir(config.mpl_cache):
        binds.append(("--ro-bind", config.mpl_cache, MPL_CACHE_MOUNT))
    binds.append(("--bind", workdir, workdir))
    binds.append(("--bind", sockdir, sockdir))
    made = {"/", "/usr", "/etc", "/proc", "/dev", "/tmp"}
    for flag, src, dest in binds:
        parents = []
        parent = os.path.dirname(dest)
        while parent not in made and parent != "/":
            parents.append(parent)
            parent = os.path.dirname(parent)
        for p in reversed(parents):
            argv += ["--perms", "0755", "--dir", p]
            made.add(p)
        argv += [flag, src, dest]
        made.add(dest)
    argv += ["--chdir", workdir, "--clearenv"]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    return argv + ["--"]


def sandbox_env(config: SandboxConfig, extra: dict[str, str]) -> dict[str, str]:
    env = {
        "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "MPLCONFIGDIR": "/tmp/matplotlib", "IPYTHONDIR": "/tmp/.ipython",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1", "NBGRADER_EXECUTION": "autograde",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    if sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = sys.prefix
    env.update(extra)
    return env


def check_sandbox(config: SandboxConfig, scratch_parent: Path) -> None:
    """Fail loudly, with what to do, when bubblewrap cannot work on this machine."""
    if not config.enabled:
        return
    exe = shutil.which(config.bwrap)
    if exe is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so student code cannot be sandboxed.\n"
            "Install it (Debian/Ubuntu: `apt-get install bubblewrap`, or run "
            "./.ci/system-packages), or pass --no-sandbox to grade without a sandbox "
            "(student code then runs with your privileges).")
    scratch_parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="check-", dir=scratch_parent))
    sock = Path(tempfile.mkdtemp(prefix="agk-"))
    try:
        argv = bwrap_argv(config, workdir=str(work), sockdir=str(sock), trusted=[],
                          env=sandbox_env(config, {}))
        code = ("import socket,os;"
                "s=socket.socket();\n"
                "try:\n s.connect(('1.1.1.1',53)); print('NET')\n"
                "except OSError: print('NONET')\n"
                "open('probe','w').write('ok')")
        proc = subprocess.run(argv + [sys.executable, "-I", "-c", code],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 or "NONET" not in proc.stdout:
            raise SandboxUnavailable(
                "bubblewrap is installed but cannot create the sandbox on this machine "
                f"(exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}\n"
                "Usually this means unprivileged user namespaces are disabled: enable them "
                "(sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces>0), "
                "run the grader as root, or pass --no-sandbox to grade without a sandbox "
                "(student code then runs with your privileges).")
        if (work / "probe").read_text() != "ok":
            raise SandboxUnavailable("bubblewrap ran but the working directory was not "
                                     "writable inside the sandbox")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(sock, ignore_errors=True)


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            try:
                os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)
            except OSError:
                pass


# --------------------------------------------------------------------------------------
# The kernel manager.

class SandboxKernelManager(AsyncKernelManager):
    """Starts ``autograder.kernel`` inside bubblewrap (or bare, with the guard only)."""

    settings = Any(None, help="a dict: SandboxConfig fields plus slot, trusted, log_path")
    log_path = Unicode("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._channel_r = None
        self._channel_data = bytearray()
        self._channel_overflow = False
        self._key = guard.new_key()
        self._sockdir = None
        self._workdir = None
        self._log = None
        self.exit_reason = None

    # -- configuration --------------------------------------------------------------
    @property
    def sandbox(self) -> SandboxConfig:
        fields = {f.name for f in dataclasses.fields(SandboxConfig)}
        return SandboxConfig(**{k: v for k, v in (self.settings or {}).items() if k in fields})

    @property
    def key(self) -> bytes:
        return self._key

    def _setup_transport(self) -> None:
        if self.sandbox.enabled and self._sockdir is None:
            # Unix sockets need short paths (108 bytes): a private dir in /tmp.
            self._sockdir = tempfile.mkdtemp(prefix="agk-", dir="/tmp")
            os.chmod(self._sockdir, 0o700)
            self.transport = "ipc"
            self.ip = os.path.join(self._sockdir, "k")
            self.connection_file = os.path.join(self._sockdir, "connection.json")

    async def _async_pre_start_kernel(self, **kw):
        self._setup_transport()
        return await super()._async_pre_start_kernel(**kw)

    # -- launching -------------------------------------------------------------------
    async def _async_launch_kernel(self, kernel_cmd, **kw):
        cfg = self.sandbox
        settings = self.settings or {}
        slot = int(settings.get("slot", 0))
        workdir = os.path.realpath(kw.get("cwd") or os.getcwd())
        self._workdir = workdir
        extra_args = [a for a in kernel_cmd if a.startswith("--") and "=" in a]
        cmd = [sys.executable, "-I", "-m", "autograder.kernel", "-f", self.connection_file,
               *extra_args]

        key_r, key_w = os.pipe()
        os.write(key_w, self._key)
        os.close(key_w)
        chan_r, chan_w = os.pipe()
        os.set_blocking(chan_r, False)
        self._channel_r = chan_r
        uid = gid = None
        privileged = cfg.enabled and cfg.privileged
        if privileged:
            uid = gid = cfg.uid_base + slot
            _chown_tree(Path(workdir), uid, gid)
        kernel_cfg = {
            "key_fd": key_r, "channel_fd": chan_w, "preimport": list(cfg.preimport),
            "private_modules": list(cfg.private_modules),
            "trusted_paths": list(cfg.extra_sys_path), "uid": uid, "gid": gid,
            "limits": cfg.limits(with_nproc=privileged),
            "mpl_cache": (MPL_CACHE_MOUNT if cfg.enabled else cfg.mpl_cache) or None,
        }
        env_extra = {"AUTOGRADER_KERNEL": json.dumps(kernel_cfg)}
        if cfg.enabled:
            env = sandbox_env(cfg, env_extra)
            trusted = [tuple(p) for p in settings.get("trusted", [])]
            cmd = bwrap_argv(cfg, workdir=workdir, sockdir=self._sockdir, trusted=trusted,
                             env=env) + cmd
            kw["env"] = {"PATH": env["PATH"], "LANG": "C.UTF-8"}
        else:
            env = dict(kw.get("env") or os.environ)
            env.pop("JPY_PARENT_PID", None)
            env.update(env_extra)
            env.setdefault("OPENBLAS_NUM_THREADS", "1")
            env["NBGRADER_EXECUTION"] = "autograde"
            kw["env"] = env
        kw["close_fds"] = True
        kw["pass_fds"] = (key_r, chan_w)
        if self.log_path:
            self._log = open(self.log_path, "ab")
            kw["stdout"] = self._log
            kw["stderr"] = self._log
        try:
            return await super()._async_launch_kernel(cmd, **kw)
        finally:
            os.close(key_r)
            os.close(chan_w)

    async def _async_interrupt_kernel(self) -> None:
        """Interrupt by message: ipykernel then signals itself.

        A SIGINT to the kernel's process group (jupyter_client's default) would also hit
        bubblewrap, which dies of it and takes the kernel with it.
        """
        if self.sandbox.enabled and self.has_kernel:
            msg = self.session.msg("interrupt_request", content={})
            self._connect_control_socket()
            self.session.send(self._control_socket, msg)
            return
        await super()._async_interrupt_kernel()

    interrupt_kernel = _async_interrupt_kernel

    # -- the guard's channel ---------------------------------------------------------
    def drain_channel(self) -> None:
        if self._channel_r is None:
            return
        while True:
            try:
                chunk = os.read(self._channel_r, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not chunk:
                return
            if len(self._channel_data) < 4 * 1024 * 1024:
                self._channel_data += chunk
            else:
                self._channel_overflow = True

    def guard_records(self) -> tuple[list[dict], int]:
        self.drain_channel()
        records, bad = guard.parse_records(bytes(self._channel_data), self._key)
        return records, bad + (1 if self._channel_overflow else 0)

    def exit_status(self):
        proc = getattr(self.provisioner, "process", None) if self.provisioner else None
        if proc is None:
            return None
        return proc.poll()

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        self.drain_channel()
        await super()._async_cleanup_resources(restart=restart)
        if self._channel_r is not None:
            os.close(self._channel_r)
            self._channel_r = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._sockdir:
            shutil.rmtree(self._sockdir, ignore_errors=True)
            self._sockdir = None

    cleanup_resources = _async_cleanup_resources


def restore_owner(path: str) -> None:
    """Give a scratch dir back to the grader after the sandboxed kernel used it."""
    if os.geteuid() == 0 and os.path.isdir(path):
        _chown_tree(Path(path), 0, 0)


def is_world_unreadable(path: str) -> bool:
    return not (os.stat(path).st_mode & (stat.S_IROTH | stat.S_IRGRP))
