"""nbgrader configuration for STUDENTS of dl-section03 on JupyterHub.

Installed where every student's server reads it (docs/jupyterhub.md): on one machine the hub
points the spawner's ``JUPYTER_CONFIG_PATH`` at a world-readable copy of this folder; on
Kubernetes it is written to /etc/jupyter/nbgrader_config.py by ``singleuser.extraFiles``.

Nothing here is secret and nothing here may be: a student can read it.
"""
import os

c = get_config()  # noqa: F821 -- injected by traitlets

c.CourseDirectory.course_id = "dl-section03"

# The shared exchange: the TA releases into it, students fetch from it and submit into it.
# It must exist, be world-writable and sticky (chmod 1777), see docs/jupyterhub.md.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE_ROOT", "/srv/nbgrader/exchange")

# Fetched assignments land in ~/section03 (not ~/dl-section03/section03): one course per hub.
c.Exchange.path_includes_course = False

# Whose submission is it? nbgrader takes the OS account name, which on a real hub with
# LocalProcessSpawner *is* the hub user name, and on Kubernetes ('jovyan') it already falls
# back to JUPYTERHUB_USER. Setting it explicitly from the hub makes the two agree in every
# deployment, including the test hub whose users all run as one OS account.
_hub_user = os.environ.get("JUPYTERHUB_USER")
if _hub_user:
    c.CourseDirectory.student_id = _hub_user

# On the hub, enrolment is JupyterHub group membership: only members of the group
# nbgrader-dl-section03 see and submit the course. Off the hub (a laptop, the tests'
# command-line round trip) there is no hub to ask, so every course in the exchange is visible.
if _hub_user and os.environ.get("JUPYTERHUB_API_TOKEN") and os.environ.get("JUPYTERHUB_API_URL"):
    c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
