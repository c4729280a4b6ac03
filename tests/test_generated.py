"""release/ and notebooks/ are exactly what a fresh generate gives, and leak nothing.

Compared: each notebook's cells (type, source, metadata without execution timestamps) and the
notebook metadata that does not depend on the machine; every other file byte for byte.
Outputs are not compared: execution counts, timings and animation ids vary from run to run.
"""
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.build import REPO, build

GENERATED = ("release", "notebooks")
ASSIGNMENT = "section03"
VOLATILE_CELL_METADATA = {"execution", "collapsed", "scrolled"}


def _notebook_fingerprint(path: Path):
    nb = nbformat.read(path, as_version=4)
    cells = [(c.cell_type, c.source, {k: v for k, v in c.metadata.items() if k not in VOLATILE_CELL_METADATA})
             for c in nb.cells]
    return nb.metadata.get("kernelspec"), cells


def _files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A course built from scratch out of the committed source/."""
    root = tmp_path_factory.mktemp("fresh")
    shutil.copytree(REPO / "source", root / "source", symlinks=False)
    build(root)
    return root


@pytest.mark.nbgrader
@pytest.mark.parametrize("kind", GENERATED)
def test_generated_folder_has_the_same_files_as_a_fresh_generate(fresh, kind):
    assert set(_files(REPO / kind / ASSIGNMENT)) == set(_files(fresh / kind / ASSIGNMENT))


@pytest.mark.nbgrader
@pytest.mark.parametrize("kind", GENERATED)
def test_generated_notebooks_match_a_fresh_generate(fresh, kind):
    committed, regenerated = _files(REPO / kind / ASSIGNMENT), _files(fresh / kind / ASSIGNMENT)
    stale = [name for name in committed if name.endswith(".ipynb") and name in regenerated
             and _notebook_fingerprint(committed[name]) != _notebook_fingerprint(regenerated[name])]
    assert not stale, f"{stale} are stale: run `make regenerate` and commit the result"


@pytest.mark.nbgrader
@pytest.mark.parametrize("kind", GENERATED)
def test_generated_support_files_match_a_fresh_generate(fresh, kind):
    committed, regenerated = _files(REPO / kind / ASSIGNMENT), _files(fresh / kind / ASSIGNMENT)
    stale = [name for name in committed if not name.endswith(".ipynb") and name in regenerated
             and committed[name].read_bytes() != regenerated[name].read_bytes()]
    assert not stale, f"{stale} are stale: run `make regenerate` and commit the result"


# ------------------------------------------------------------------ what students receive

FORBIDDEN_TEXT = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "BEGIN SOLUTION", "END SOLUTION",
                  "helpers.checks", "helpers.reference", "helpers.mistakes", "from helpers import checks",
                  "from helpers import reference", "from helpers import mistakes", "check(\"")
GRADING_ONLY_MODULES = ("checks.py", "reference.py", "mistakes.py")


@pytest.mark.parametrize("kind", GENERATED)
def test_generated_notebooks_contain_no_hidden_tests_or_reference(kind):
    for path in (REPO / kind / ASSIGNMENT).glob("*.ipynb"):
        text = path.read_text()
        found = [t for t in FORBIDDEN_TEXT if t in text]
        assert not found, f"{path.name} contains {found}"


@pytest.mark.parametrize("kind", GENERATED)
def test_generated_folders_ship_no_grading_module(kind):
    shipped = {p.name for p in (REPO / kind / ASSIGNMENT).rglob("*.py")}
    assert not shipped & set(GRADING_ONLY_MODULES)


def test_release_contains_no_solution_code():
    """No line written between BEGIN and END SOLUTION in source/ appears in the student release."""
    import re

    for source in (REPO / "source" / ASSIGNMENT).glob("*.ipynb"):
        release = (REPO / "release" / ASSIGNMENT / source.name).read_text()
        for cell in nbformat.read(source, as_version=4).cells:
            for region in re.findall(r"BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S):
                lines = [ln.strip() for ln in region.splitlines() if len(ln.strip()) > 12]
                leaked = [ln for ln in lines if ln in release]
                assert not leaked, f"{source.name}: solution lines in the release: {leaked}"


def test_release_contains_no_model_answer_of_a_written_question():
    for source in (REPO / "source" / ASSIGNMENT).glob("*.ipynb"):
        release = nbformat.read(REPO / "release" / ASSIGNMENT / source.name, as_version=4)
        answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells
                   if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")}
        for cell in nbformat.read(source, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "markdown" and meta.get("solution"):
                assert answers[meta["grade_id"]] == "YOUR ANSWER HERE", f"{source.name}:{meta['grade_id']}"


def test_release_stubs_every_answer_cell():
    from autograder.coursebuild import NOTEBOOKS, solution_sources

    for notebook in NOTEBOOKS:
        nb = nbformat.read(REPO / "release" / ASSIGNMENT / f"{notebook}.ipynb", as_version=4)
        stubs = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
        assert set(stubs) == set(solution_sources(code_only=True)[notebook])
        assert all("raise NotImplementedError()" in src for src in stubs.values())
