"""JupyterHub for one course, dl-section03, on one machine (docs/jupyterhub.md).

* students: real system accounts, PAM passwords, one JupyterLab each (LocalProcessSpawner);
  they fetch, validate and submit in the Assignments tab; enrolment = JupyterHub group
  ``nbgrader-dl-section03`` (from the roster);
* graders (TAs): group ``formgrade-dl-section03``; they share ONE JupyterLab, the hub service
  ``dl-section03`` that runs as the grader account ``grader-dl-section03`` in the course pack
  checkout, with formgrader (``/services/dl-section03/``);
* the exchange: one world-writable sticky directory both sides see.

Everything site-specific can be set by environment variables (defaults in brackets):
  DL_COURSE_ROOT          the course pack checkout the graders work in
                          [/home/grader-dl-section03/dl-section03]
  DL_GRADER_ACCOUNT       system account that owns it and runs formgrader [grader-dl-section03]
  DL_STUDENT_CONFIG_DIR   jupyterhub/student/, which every student must be able to read
                          [next to this file: install this folder world-readable]
  DL_GRADER_CONFIG_DIR    jupyterhub/grader/ [next to this file]
  DL_ROSTER               students: CSV with an ``id`` column, nbgrader's import format
                          [roster.csv next to this file]
  DL_GRADERS              grader user names, comma-separated [read from graders.txt next to this file]
  DL_HUB_ADMINS           hub admins, comma-separated [none]
  DL_HUB_DATA             hub state: sqlite db, cookie secret [/srv/jupyterhub]
  DL_HUB_BIND_URL         public URL the proxy listens on [http://:8000]
  DL_HUB_PORT / DL_PROXY_API_PORT / DL_FORMGRADER_PORT   loopback ports [8081 / 8001 / 9999]
  NBGRADER_EXCHANGE_ROOT  the exchange [/srv/nbgrader/exchange]

``jupyterhub_config_local.py`` loads this file and swaps in a throw-away authenticator and a
spawner that needs no system users; the end-to-end test (tests/test_hub_browser.py) runs that.
"""
import csv
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 -- injected by traitlets

HERE = Path(__file__).resolve().parent
COURSE_ID = "dl-section03"
STUDENT_GROUP = f"nbgrader-{COURSE_ID}"
GRADER_GROUP = f"formgrade-{COURSE_ID}"

env = os.environ.get
GRADER_ACCOUNT = env("DL_GRADER_ACCOUNT", f"grader-{COURSE_ID}")
COURSE_ROOT = env("DL_COURSE_ROOT", f"/home/{GRADER_ACCOUNT}/{COURSE_ID}")
EXCHANGE = env("NBGRADER_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
STUDENT_CONFIG_DIR = env("DL_STUDENT_CONFIG_DIR", str(HERE / "student"))
GRADER_CONFIG_DIR = env("DL_GRADER_CONFIG_DIR", str(HERE / "grader"))
HUB_DATA = Path(env("DL_HUB_DATA", "/srv/jupyterhub"))
FORMGRADER_PORT = int(env("DL_FORMGRADER_PORT", "9999"))
BIN = Path(sys.executable).parent  # the environment JupyterHub runs from has nbgrader too


def _names(value):
    return [n.strip() for n in value.replace("\n", ",").split(",") if n.strip() and not n.startswith("#")]


def read_students(path):
    if not Path(path).exists():
        return []
    with open(path, newline="") as f:
        return [row["id"].strip() for row in csv.DictReader(f) if row.get("id", "").strip()]


def read_graders():
    if env("DL_GRADERS") is not None:
        return _names(env("DL_GRADERS"))
    path = HERE / "graders.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    return _names(",".join(ln for ln in lines if not ln.lstrip().startswith("#")))


STUDENTS = read_students(env("DL_ROSTER", str(HERE / "roster.csv")))
GRADERS = read_graders()
ADMINS = set(_names(env("DL_HUB_ADMINS", "")))

# ---------------------------------------------------------------------------- the hub itself
c.JupyterHub.bind_url = env("DL_HUB_BIND_URL", "http://:8000")
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("DL_HUB_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{int(env('DL_PROXY_API_PORT', '8001'))}"
_chp = HERE / "node_modules" / ".bin" / "configurable-http-proxy"  # `make setup` installs it
if _chp.exists():
    c.ConfigurableHTTPProxy.command = [str(_chp)]
c.ConfigurableHTTPProxy.pid_file = str(HUB_DATA / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{HUB_DATA / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(HUB_DATA / "jupyterhub_cookie_secret")

# ---------------------------------------------------------------------------- who may log in
c.Authenticator.allowed_users = set(STUDENTS) | set(GRADERS) | ADMINS
c.Authenticator.admin_users = ADMINS
# The roster is the truth: users removed from it lose their group membership on restart.
c.JupyterHub.load_groups = {
    STUDENT_GROUP: {"users": STUDENTS},
    GRADER_GROUP: {"users": GRADERS},
}

c.JupyterHub.load_roles = [
    # Graders reach the shared formgrader JupyterLab, and the course list can find it.
    {
        "name": GRADER_GROUP,
        "groups": [GRADER_GROUP],
        "scopes": [
            f"access:services!service={COURSE_ID}",
            "list:services",
            f"read:services!service={COURSE_ID}",
        ],
    },
    # The token of every user's server. nbgrader's JupyterHubAuthPlugin (student config) asks
    # the hub which groups the user is in, to know which courses they are enrolled in; the
    # server token can only do what its owner can do (the intersection), never more.
    {
        "name": "server",
        "scopes": [
            "users:activity!user",
            "access:servers!server",
            "read:users:name!user",
            "read:users:groups!user",
            "list:services",
            "read:services",
        ],
    },
]

# ---------------------------------------------------------------------------- students' servers
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {
    # jupyterhub/student/: nbgrader config (exchange, course id), which extensions students get
    "JUPYTER_CONFIG_PATH": STUDENT_CONFIG_DIR,
    "NBGRADER_EXCHANGE_ROOT": EXCHANGE,
}
c.Spawner.mem_limit = env("DL_STUDENT_MEM_LIMIT", "2G")  # advisory for LocalProcessSpawner
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120

# ---------------------------------------------------------------------------- the graders' service
# The service's name must be the course id: nbgrader's course list looks it up by that name.
# Its JupyterLab runs in the course pack checkout, so formgrader's course root (the checkout's
# nbgrader_config.py) is inside the server's root directory, as formgrader requires.
FORMGRADER_SERVICE = {
    "name": COURSE_ID,
    "url": f"http://127.0.0.1:{FORMGRADER_PORT}",
    "command": [str(BIN / "jupyterhub-singleuser"), f"--ServerApp.root_dir={COURSE_ROOT}"],
    "user": GRADER_ACCOUNT,
    "cwd": COURSE_ROOT,
    "oauth_no_confirm": True,
    "environment": {
        "JUPYTERHUB_DEFAULT_URL": "/lab",
        "JUPYTER_CONFIG_PATH": GRADER_CONFIG_DIR,
        "NBGRADER_EXCHANGE_ROOT": EXCHANGE,
        # autograde's kernels import the hidden-test checks (helpers.checks) from the checkout;
        # the students' environment must NOT have it on its path.
        "PYTHONPATH": COURSE_ROOT,
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
    },
}
c.JupyterHub.services = [FORMGRADER_SERVICE]
