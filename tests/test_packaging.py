"""`pip install .` gives the TA their command: the wheel built from pyproject.toml holds the
course pack's packages, the feedback template and the `autograder` console command, and
nothing of the tests. Built from a copy of the files the build reads (not the checkout, which
a build would litter with build/ and *.egg-info)."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for package in ("autograder", "helpers"):
        shutil.copytree(REPO / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                           "--disable-pip-version-check", "-w", str(out), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_installs_the_autograder_command(wheel):
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[console_scripts]" in text and "autograder = autograder.__main__:main" in text


def test_the_wheel_ships_the_packages_and_the_feedback_template(wheel):
    names = set(wheel.namelist())
    assert {"autograder/__main__.py", "autograder/mathml.py", "helpers/checks.py",
            "helpers/viz.py", "autograder/templates/feedback/mathjax.html.j2"} <= names


def test_the_wheel_holds_no_tests(wheel):
    assert not [n for n in wheel.namelist() if n.startswith("tests/")]
