"""Jupyter server settings for students' servers (found through JUPYTER_CONFIG_PATH).
Which nbgrader server extensions run is in jupyter_server_config.d/, which lab plugins show
in labconfig/page_config.json."""
c = get_config()  # noqa: F821 -- injected by traitlets

# No phoning home from a course server (and nothing to reach in a closed network).
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
