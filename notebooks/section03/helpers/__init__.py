"""Section 3 course pack helpers.

Student-safe modules (shipped in ``release/section03/helpers/`` and imported by the
notebooks' locked cells):
    ``sliding``  -- pure step-by-step maths of a sliding filter (conv and max pool)
    ``viz``      -- matplotlib pictures and animations drawn from ``sliding``
    ``speed``    -- the timing cell of problem 3

Grading-only modules (used by the trusted grader, never shipped to students and never
imported in a student's kernel):
    ``reference`` -- reference implementations of every name students define
    ``mistakes``  -- the known wrong answers the checks recognise
    ``checks``    -- the hidden tests: plan the inputs, judge the kernel's plain-data reply
    ``rules``     -- the source rules (loops, numpy only, plain code), read from the notebook
"""
