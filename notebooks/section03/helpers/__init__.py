"""Section 3 course pack helpers.

Student-safe modules (shipped in ``release/section03/helpers/``):
    ``sliding``  -- pure step-by-step maths of a sliding filter (conv and max pool)
    ``viz``      -- matplotlib pictures and animations drawn from ``sliding``

Grading-only modules (never shipped to students):
    ``reference`` -- reference implementations of every name students define
    ``mistakes``  -- the known wrong answers the checks recognise
    ``checks``    -- the hidden-test logic called from the notebooks' hidden test cells

The release carries its own ``helpers/`` folder with the student-safe modules only. Both
copies extend their ``__path__`` so that, on the grading machine, ``helpers.checks`` is found
in the course repository even though the student's folder comes first on ``sys.path``.
"""
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
