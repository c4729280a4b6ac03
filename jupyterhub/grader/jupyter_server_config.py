"""Jupyter server settings for the graders' service (found through JUPYTER_CONFIG_PATH).
Which nbgrader server extensions run is in jupyter_server_config.d/, which lab plugins show
in labconfig/page_config.json."""
c = get_config()  # noqa: F821 -- injected by traitlets

# JupyterHub's single-user server forbids being framed ("frame-ancestors 'none'"), but the
# Formgrader panel of nbgrader's JupyterLab extension is an iframe of this same server: without
# this the panel stays blank. 'self' still forbids framing by any other site.
c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}

c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
