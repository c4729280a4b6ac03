# The two commands of the README:
#   make demo   -- set up, grade the sample class end to end, show the results
#   make test   -- set up, run the whole test suite
# Both set everything up on first use: .venv (requirements.txt, the course pack editable),
# .venv-kernel (requirements/student.txt), Debian packages (.ci/system-packages), node_modules.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The student environment: what a student's server has and all a grading kernel gets.
KVENV  := .venv-kernel
KSTAMP := $(KVENV)/.installed

.PHONY: setup demo test regenerate bench clean

setup: $(STAMP) $(KSTAMP)

$(KSTAMP): requirements/student.txt
	test -x $(KVENV)/bin/python || $(PYTHON) -m venv $(KVENV)
	$(KVENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/student.txt
	touch $(KSTAMP)

$(STAMP): requirements.txt requirements/grader.txt pyproject.toml jupyterhub/package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# The course pack itself (autograder/, helpers/ and the `autograder` command), editable.
	$(PY) -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 'section03_coursepack.pth').unlink(missing_ok=True)"
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	./.ci/system-packages
	# JupyterHub's proxy (configurable-http-proxy) for the hub tests, from jupyterhub/package-lock.json.
	cd jupyterhub && npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

demo: setup
	$(PY) -m autograder demo

test: setup
	# loadfile: each test module (and its module-scoped graded course) stays on one worker.
	$(PY) -m pytest -n 2 --dist loadfile -q

regenerate: setup
	$(PY) -m autograder.build

bench: setup
	$(PY) benchmarks/bench_grade_class.py

clean:
	rm -rf $(VENV) $(KVENV) build
