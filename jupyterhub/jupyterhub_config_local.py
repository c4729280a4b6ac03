"""A throw-away hub for trying the course out and for the end-to-end test: NOT for real users.

Loads jupyterhub_config.py (so the course wiring under test is the real one) and replaces only
what needs root-owned system accounts:
  * SharedPasswordAuthenticator: every user on the roster logs in with DL_HUB_PASSWORD;
  * SimpleLocalProcessSpawner: every user's server runs as the account that started the hub,
    with HOME = $DL_HUB_HOMES/<user> (no isolation at all between users);
  * the formgrader service runs as that same account.
Listens on loopback only. Example (as any user, from the repo root, after `make setup`):

    export DL_HUB_DATA=/tmp/hub DL_HUB_HOMES=/tmp/hub/home DL_COURSE_ROOT=$PWD \
           NBGRADER_EXCHANGE_ROOT=/tmp/hub/exchange DL_HUB_PASSWORD=change-me-please \
           DL_ROSTER=jupyterhub/roster.example.csv DL_GRADERS=ta1
    mkdir -p $DL_HUB_HOMES && install -d -m 1777 $NBGRADER_EXCHANGE_ROOT
    .venv/bin/jupyterhub -f jupyterhub/jupyterhub_config_local.py
"""
import os
from pathlib import Path

c = get_config()  # noqa: F821 -- injected by traitlets
HERE = Path(__file__).resolve().parent

os.environ.setdefault("DL_HUB_BIND_URL", "http://127.0.0.1:8000")
load_subconfig(str(HERE / "jupyterhub_config.py"))  # noqa: F821 -- injected by traitlets

c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["DL_HUB_PASSWORD"]

c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(
    os.environ.get("DL_HUB_HOMES", "/tmp/dl-section03-hub/home"), "{username}")

_allow_root = ["--ServerApp.allow_root=True"] if os.geteuid() == 0 else []
c.Spawner.args = _allow_root
c.Spawner.environment.update({
    # Every user is the same OS account here: collect's owner check would only warn.
    "NBGRADER_CHECK_OWNER": "0",
})

_service = c.JupyterHub.services[0]
_service.pop("user", None)
_service["command"] = _service["command"] + _allow_root
_service["environment"]["NBGRADER_CHECK_OWNER"] = "0"
