"""nbgrader configuration for the GRADERS of dl-section03 (the formgrader hub service).

Read in addition to the course's own ``nbgrader_config.py`` (which nbgrader loads from the
current directory, i.e. the course pack checkout, and which wins on conflicts): this file only
says where the shared exchange is and which course the grader account serves.
"""
import os

c = get_config()  # noqa: F821 -- injected by traitlets

c.CourseDirectory.course_id = "dl-section03"
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = False

# Students submit as their own OS accounts on a real server; on a hub where everyone runs as
# one account (tests, Kubernetes) the owner check of `nbgrader collect` would only warn.
c.ExchangeCollect.check_owner = os.environ.get("NBGRADER_CHECK_OWNER", "1") == "1"

# Feedback that hides the hidden tests (code and traceback lines) is set in the course's own
# nbgrader_config.py, so formgrader's "Generate Feedback" and the class grader agree.
