"""Fast checks of the JupyterHub configuration (no hub started): what the real-server config
and the Kubernetes values promise, and that the copies of the student config agree."""
from __future__ import annotations

import json
import os

import pytest
import yaml
from traitlets.config import Config, PyFileConfigLoader

from tests.hub_fixtures import COURSE_ID, HUB_DIR


def load_hub_config(monkeypatch, tmp_path, name="jupyterhub_config.py", **env):
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\nalice,A,S,a@x\nbob,B,S,b@x\n")
    for k in [k for k in os.environ if k.startswith("DL_")]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("DL_ROSTER", str(roster))
    monkeypatch.setenv("DL_GRADERS", "ta1, ta2")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    loader = PyFileConfigLoader(name, path=str(HUB_DIR))
    return loader.load_config()


def test_real_server_config(monkeypatch, tmp_path):
    c = load_hub_config(monkeypatch, tmp_path)
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.LocalProcessSpawner"
    assert "authenticator_class" not in c.JupyterHub  # PAM, JupyterHub's default
    assert c.Authenticator.allowed_users == {"alice", "bob", "ta1", "ta2"}
    assert c.JupyterHub.load_groups == {
        f"nbgrader-{COURSE_ID}": {"users": ["alice", "bob"]},
        f"formgrade-{COURSE_ID}": {"users": ["ta1", "ta2"]},
    }
    (service,) = c.JupyterHub.services
    assert service["name"] == COURSE_ID  # nbgrader's course list finds the service by name
    assert service["user"] == f"grader-{COURSE_ID}"
    assert service["cwd"] == f"/home/grader-{COURSE_ID}/{COURSE_ID}"
    assert service["url"].startswith("http://127.0.0.1:")
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert f"access:services!service={COURSE_ID}" in roles[f"formgrade-{COURSE_ID}"]["scopes"]
    assert roles[f"formgrade-{COURSE_ID}"]["groups"] == [f"formgrade-{COURSE_ID}"]
    assert "read:users:groups!user" in roles["server"]["scopes"]
    env = c.Spawner.environment
    assert env["JUPYTER_CONFIG_PATH"] == str(HUB_DIR / "student")
    assert env["NBGRADER_EXCHANGE_ROOT"] == "/srv/nbgrader/exchange"
    assert "PYTHONPATH" not in env  # the hidden-test checks stay off the students' path
    assert service["environment"]["PYTHONPATH"] == service["cwd"]


def test_local_config_needs_no_system_users(monkeypatch, tmp_path):
    c = load_hub_config(monkeypatch, tmp_path, "jupyterhub_config_local.py",
                        DL_HUB_PASSWORD="x" * 16)
    assert c.JupyterHub.spawner_class == "jupyterhub.spawner.SimpleLocalProcessSpawner"
    assert c.JupyterHub.authenticator_class == "shared-password"
    assert "user" not in c.JupyterHub.services[0]
    assert c.JupyterHub.bind_url.startswith("http://127.0.0.1:")


def _exec_nbgrader_config(source: str, env: dict) -> Config:
    c = Config()
    old = dict(os.environ)
    os.environ.update(env)
    try:
        exec(compile(source, "nbgrader_config.py", "exec"), {"get_config": lambda: c})
    finally:
        os.environ.clear()
        os.environ.update(old)
    return c


@pytest.mark.parametrize("env", [
    {},
    {"JUPYTERHUB_USER": "alice"},
    {"JUPYTERHUB_USER": "alice", "JUPYTERHUB_API_TOKEN": "t", "JUPYTERHUB_API_URL": "http://h/hub/api"},
])
def test_kubernetes_student_files_match_jupyterhub_student(env):
    values = yaml.safe_load((HUB_DIR / "k8s" / "values.yaml").read_text())
    files = values["singleuser"]["extraFiles"]
    student = HUB_DIR / "student"
    k8s_cfg = _exec_nbgrader_config(files["nbgrader-config"]["stringData"], env)
    our_cfg = _exec_nbgrader_config((student / "nbgrader_config.py").read_text(), env)
    assert k8s_cfg == our_cfg
    ext = json.loads((student / "jupyter_server_config.d" / "dl-section03-student.json").read_text())
    assert files["nbgrader-student-extensions"]["data"]["ServerApp"] == ext["ServerApp"]
    page = json.loads((student / "labconfig" / "page_config.json").read_text())
    assert files["nbgrader-student-lab"]["data"] == page


def test_kubernetes_manifests_parse():
    for name in ("values.yaml", "exchange-pvc.yaml", "formgrader.yaml", "grading-job.yaml"):
        docs = [d for d in yaml.safe_load_all((HUB_DIR / "k8s" / name).read_text()) if d]
        assert docs, name
    values = yaml.safe_load((HUB_DIR / "k8s" / "values.yaml").read_text())
    assert set(values["hub"]["loadGroups"]) == {f"nbgrader-{COURSE_ID}", f"formgrade-{COURSE_ID}"}
    mounts = values["singleuser"]["storage"]["extraVolumeMounts"]
    assert {"name": "nbgrader-exchange", "mountPath": "/srv/nbgrader/exchange"} in mounts
