"""Shared pieces of the JupyterHub / exchange tests.

* a course directory in a temporary folder holding ``section03`` (its files from
  :mod:`autograder.coursebuild`, the builder the demo and the other tests use);
* people (a TA, students) who run nbgrader's real command-line apps as subprocesses, each with
  their own HOME and the nbgrader configuration from ``jupyterhub/`` that the hub gives them;
* notebook surgery: filling a fetched notebook's answer cells the way a student would.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from autograder.coursebuild import ANSWER_KEY, ASSIGNMENT, SOURCE, fill_answers, solution_sources

REPO = Path(__file__).resolve().parents[1]
HUB_DIR = REPO / "jupyterhub"
COURSE_ID = "dl-section03"

ARTIFACTS = REPO / "tests" / "artifacts"


# --------------------------------------------------------------------------- course + people

class Course:
    """A course directory (the TA's checkout of the course pack) in a temporary folder."""

    def __init__(self, base: Path, assignment: str = ASSIGNMENT):
        self.base = Path(base)
        self.root = self.base / "course"
        self.exchange = self.base / "exchange"
        self.homes = self.base / "home"
        self.assignment = assignment
        self.log = []  # (command, seconds) of every nbgrader run, for the timing report
        self.root.mkdir(parents=True)
        self.exchange.mkdir()
        os.chmod(self.exchange, 0o1777)
        self.homes.mkdir()
        shutil.copy(REPO / "nbgrader_config.py", self.root / "nbgrader_config.py")
        ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
        shutil.copytree(SOURCE, self.root / "source" / assignment, symlinks=False, ignore=ignore)
        # the answer key: feedback shows the handout's own pictures from it
        shutil.copytree(ANSWER_KEY, self.root / "notebooks" / assignment, symlinks=False, ignore=ignore)

    def write_roster(self, students) -> Path:
        path = self.base / "roster.csv"
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "first_name", "last_name", "email"])
            for s in students:
                w.writerow([s, s.capitalize(), "Student", f"{s}@example.org"])
        return path

    def gradebook(self):
        from nbgrader.api import Gradebook
        return Gradebook("sqlite:///" + str(self.root / "gradebook.db"), course_id=COURSE_ID)


def closed_ancestor(path: str) -> tuple[str, str] | None:
    """(the topmost folder above ``path`` that other accounts cannot pass, its child toward
    ``path``), or None if every folder above ``path`` lets them through."""
    parts = Path(path).resolve().parts
    for i in range(1, len(parts) - 1):
        folder = Path(*parts[:i + 1])
        if not os.stat(folder).st_mode & 0o001:
            return str(folder), str(Path(*parts[:i + 2]))
    return None


def in_root_visible_namespace(argv: list) -> list:
    """``argv`` in a private mount namespace (``bwrap``, as root) where other accounts can run
    this test run's Python and read the repository.

    The interpreter or the checkout may sit below a folder no other account can pass (pyenv
    under ``/root``, a CI workspace under a private home). In the namespace such a folder is
    replaced by an empty one holding, read-only, only the child on the way to what is needed:
    a bind under the closed folder itself would not do, bwrap would make the folders above
    that mount point 0700 again. Everything else is the machine as it is. Children (a hub's
    spawned servers) stay in the namespace."""
    from autograder.sandbox import python_roots
    closed: dict[str, set] = {}
    for needed in (*python_roots(sys.executable), str(REPO)):
        found = closed_ancestor(needed)
        if found:
            closed.setdefault(found[0], set()).add(found[1])
    mounts = ["--dev-bind", "/", "/"]
    for folder in sorted(closed):
        mounts += ["--tmpfs", folder]
        for child in sorted(closed[folder]):
            mounts += ["--ro-bind", child, child]
    return ["bwrap", *mounts, "--", *argv]


class UnixAccount:
    """A real login account for a test person (needs root): ``useradd`` now, ``userdel`` at the end.

    Its commands run as the account (``setpriv``) in :func:`in_root_visible_namespace`.
    ``home`` is the account's home in the password database (the folder is made by
    :class:`Person`); ``password`` is set with ``chpasswd`` so the account can log in (PAM).
    """

    def __init__(self, name: str, *, home: Path | None = None, password: str | None = None):
        self.name = name
        home_args = ["--home-dir", str(home)] if home else []
        subprocess.run(["useradd", "--no-create-home", "--user-group", "--shell",
                        "/usr/sbin/nologin", *home_args, name], check=True, capture_output=True)
        if password:
            subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True,
                           capture_output=True)
        import pwd
        entry = pwd.getpwnam(name)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid

    def remove(self) -> None:
        subprocess.run(["userdel", self.name], capture_output=True)

    def give(self, path: Path) -> None:
        """Make ``path`` (and everything in it) this account's."""
        subprocess.run(["chown", "-R", f"{self.uid}:{self.gid}", str(path)], check=True)

    def argv(self, argv: list) -> list:
        return in_root_visible_namespace(["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}",
                                          "--init-groups", *argv])


REAL_ACCOUNT_TOOLS = ("useradd", "userdel", "chpasswd", "setpriv", "bwrap")


def real_accounts_unavailable() -> str:
    """Why real accounts cannot be made here ('' when they can)."""
    if os.geteuid() != 0:
        return "not root"
    missing = [t for t in REAL_ACCOUNT_TOOLS if not shutil.which(t)]
    return f"missing {', '.join(missing)}" if missing else ""


def world_reachable_base(prefix: str) -> Path:
    """A new folder other accounts can reach (pytest's tmp folder is root's alone, 0700)."""
    import tempfile
    base = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    base.chmod(0o755)
    return base


class Person:
    """Someone who runs nbgrader's apps: own HOME, own config path, a working directory.

    With an ``account`` (:class:`UnixAccount`) the person is a real user of the machine: their
    commands run as that account and nbgrader checks file owners as on a shared server.
    Without one, everyone is the account running the tests.
    """

    def __init__(self, course: Course, name: str, role: str, account: "UnixAccount | None" = None):
        self.course, self.name, self.role, self.account = course, name, role, account
        self.home = course.homes / name
        self.home.mkdir(exist_ok=True)
        if account is not None:
            self.home.chmod(0o700)
            account.give(self.home)
        self.cwd = course.root if role == "grader" else self.home

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "NBGRADER", "PYTEST_XDIST"))}
        env.update(
            HOME=str(self.home),
            USER=self.name,
            JUPYTER_CONFIG_PATH=str(HUB_DIR / self.role),
            NBGRADER_EXCHANGE_ROOT=str(self.course.exchange),
            PYTHONDONTWRITEBYTECODE="1",
        )
        if self.account is None:
            env["NBGRADER_CHECK_OWNER"] = "0"  # every test person is the same OS account
        else:
            env["LOGNAME"] = self.name
        if self.role == "student":
            env["JUPYTERHUB_USER"] = self.name  # what the hub's spawner sets
        return env

    def run(self, argv: list, *, timeout=600) -> subprocess.CompletedProcess:
        """Run ``argv`` as this person (their account, if they have one)."""
        if self.account is not None:
            argv = self.account.argv(argv)
        return subprocess.run(argv, cwd=self.cwd, env=self.env(), capture_output=True,
                              text=True, timeout=timeout)

    def python(self, code: str) -> subprocess.CompletedProcess:
        """Run a Python snippet as this person."""
        return self.run([sys.executable, "-c", code], timeout=120)

    def nbgrader(self, *args, check=True, timeout=600) -> subprocess.CompletedProcess:
        t0 = time.monotonic()
        proc = self.run([sys.executable, "-m", "nbgrader", *args], timeout=timeout)
        self.course.log.append((f"{self.name}: nbgrader {' '.join(args)}", time.monotonic() - t0))
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{self.name}: nbgrader {' '.join(args)} exited {proc.returncode}\n"
                f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
        return proc


# --------------------------------------------------------------------------- notebooks

def solution_cells(source_nb: Path) -> dict:
    """grade_id -> the instructor's solution as a student types it; an empty written answer
    gets a sentence, so it reaches the TA as something to grade."""
    source_nb = Path(source_nb)
    nb = nbformat.read(source_nb, as_version=4)
    written = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
               if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")}
    out = {}
    for gid, src in solution_sources(source_nb.parent)[source_nb.stem].items():
        src = src.strip()
        if gid in written and (not src or src == "YOUR ANSWER HERE"):
            src = "A written answer, in my own words."
        out[gid] = src
    return out


def solve(course: Course, student_dir: Path) -> None:
    """Answer every answer cell of every fetched notebook with the instructor's solution."""
    for nb_path in sorted(student_dir.glob("*.ipynb")):
        answers = solution_cells(course.root / "source" / course.assignment / nb_path.name)
        nb = nbformat.read(nb_path, as_version=4)
        fill_answers(nb, answers)
        nbformat.write(nb, nb_path)


def notebook_text(path: Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def html_text(path: Path) -> str:
    """The text a reader of an HTML page (feedback) sees: tags out, entities decoded."""
    import html
    return html.unescape(re.sub(r"<[^>]+>", "", Path(path).read_text(encoding="utf-8", errors="replace")))


def feedback_leaks(path: Path, hidden: list) -> tuple[list, list]:
    """Hidden-test lines a student can read in a feedback page, split in two:
    shown as cell source, and quoted in a traceback's context lines ("----> 3 check(...)")."""
    text = html_text(path)
    in_source, in_traceback = [], []
    for line in hidden:
        esc = re.escape(line)
        if re.search(rf"^[ \t]*{esc}[ \t]*$", text, re.M):
            in_source.append(line)
        if re.search(rf"^[ \t]*(-*>)?[ \t]*\d+[ \t]+{esc}", text, re.M):
            in_traceback.append(line)
    return in_source, in_traceback


def hidden_test_lines(source_dir: Path) -> list:
    """Lines that must never reach a student: the hidden tests and reference of the grader
    (distinctive lines of ``helpers/checks.py``, ``helpers/reference.py``, ``helpers/rules.py``
    that are not also in the notebooks),
    the code the grader sends into kernels, and any BEGIN/END HIDDEN TESTS block left in a
    source notebook of ``source_dir``."""
    notebooks = "\n".join(c.source for p in Path(source_dir).glob("*.ipynb")
                          for c in nbformat.read(p, as_version=4).cells)
    lines = []
    for module in ("checks.py", "reference.py", "rules.py"):
        for line in (REPO / "helpers" / module).read_text().splitlines():
            line = line.strip()  # lines a solution shares with the reference are no secret
            if len(line) > 30 and not line.startswith(("#", '"', "'", "import", "from")) \
                    and line not in notebooks:
                lines.append(line)
    lines += ["autograder_kernel_side", "_notebook_globals"]
    for nb_path in Path(source_dir).glob("*.ipynb"):
        for cell in nbformat.read(nb_path, as_version=4).cells:
            for block in re.findall(r"BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S):
                lines += [ln.strip() for ln in block.splitlines() if len(ln.strip()) > 12]
    return lines


def dump_json(obj) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, default=str)


# --------------------------------------------------------------------------- a real JupyterHub

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
CHP = HUB_DIR / "node_modules" / ".bin" / "configurable-http-proxy"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """A JupyterHub on loopback, in its own session.

    Without ``grader_account``: ``jupyterhub_config_local.py`` (a shared password, every server
    runs as the account running the tests). With it (real accounts, root): the production
    ``jupyterhub_config.py`` itself -- PAM logins, each student's server as their own account,
    formgrader as ``grader_account`` -- in :func:`in_root_visible_namespace`; ``password`` is
    every account's PAM password then.
    """

    def __init__(self, course: Course, students, graders, *, grader_account: "UnixAccount | None" = None,
                 password: str = "dl-section03-test-password"):
        self.course = course
        self.password = password
        self.real_accounts = grader_account is not None
        self.data = course.base / "hub"
        self.data.mkdir(exist_ok=True)
        self.log_path = self.data / "jupyterhub.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = HUB_DIR / ("jupyterhub_config.py" if self.real_accounts else "jupyterhub_config_local.py")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("JUPYTER", "NBGRADER", "PYTEST_XDIST"))}
        roster = course.write_roster(students)
        roster.chmod(0o644)
        self.env.update(
            DL_HUB_DATA=str(self.data),
            DL_COURSE_ROOT=str(course.root),
            NBGRADER_EXCHANGE_ROOT=str(course.exchange),
            DL_ROSTER=str(roster),
            DL_GRADERS=",".join(graders),
            DL_HUB_BIND_URL=self.url,
            DL_HUB_PORT=str(free_port()),
            DL_PROXY_API_PORT=str(free_port()),
            DL_FORMGRADER_PORT=str(free_port()),
            CONFIGPROXY_AUTH_TOKEN=os.urandom(16).hex(),
            PYTHONDONTWRITEBYTECODE="1",
            HOME=str(self.data),
        )
        if self.real_accounts:
            self.env["DL_GRADER_ACCOUNT"] = grader_account.name
        else:
            self.env.update(DL_HUB_HOMES=str(course.homes), DL_HUB_PASSWORD=password)
        self.proc = None

    def start(self, timeout=120):
        import urllib.request
        self._log = open(self.log_path, "wb")
        argv = [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(self.config)]
        if self.real_accounts:
            argv = in_root_visible_namespace(argv)
        self.proc = subprocess.Popen(
            argv,
            cwd=self.data, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/hub/api", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.25)  # polling a port that is not listening yet
        raise TimeoutError(f"jupyterhub did not answer in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-20000:]

    def stop(self):
        """End the hub and everything it started (proxy, service, user servers, kernels), by pid.
        Asking the hub alone is slow: it stops each server with SIGINT, then waits."""
        import psutil
        if self.proc is None:
            return
        try:
            hub = psutil.Process(self.proc.pid)
            procs = hub.children(recursive=True) + [hub]
        except psutil.NoSuchProcess:
            procs = []
        for p in procs:
            try:
                p.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(procs, timeout=20)
        for p in alive:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.wait(timeout=10)
        self._log.close()
