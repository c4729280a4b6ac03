"""TA tooling for the Section 3 course pack.

``python -m autograder grade section03``   grade every collected submission (parallel, sandboxed)
``python -m autograder report section03``  the class report (one self-contained HTML file)
``python -m autograder export section03``  grades as CSV
``python -m autograder demo``              build a sample class, grade it, print the results
``python -m autograder build``             regenerate release/ and notebooks/ (autograder.build)
"""
