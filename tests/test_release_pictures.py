"""The student release teaches with worked examples; the answer key animates the questions.

Pictures of the handout's own sizes (1(b), 1(c)) and of its own `I` and `F` (2(a)-(c)) would
show the graded answers (an output grid of 28×28, "INVALID", the filled output matrix), so
the release draws other examples and only the answer key draws the questions.
"""
from __future__ import annotations

import ast

import nbformat
import pytest

from autograder.build import REPO

GRADED_TILINGS = {(32, 5), (227, 11)}   # (input side, filter side) of questions 1(b) and 1(c)
HANDOUT_MATRICES = {"I", "F"}           # problem 2's input and filter
DRAWERS = {"draw_tiling", "animate_conv", "animate_pool", "draw_conv_step", "draw_pool_step"}


def _picture_calls(folder: str, notebook: str):
    """(function name, positional args as AST nodes) of every picture a locked cell draws."""
    nb = nbformat.read(REPO / folder / "section03" / f"{notebook}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("locked"):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in DRAWERS:
                yield node.func.id, node.args


def _shows_a_graded_answer(name, args) -> bool:
    if name == "draw_tiling":
        sides = tuple(a.value for a in args[:2] if isinstance(a, ast.Constant))
        return sides in GRADED_TILINGS
    first = args[0] if args else None
    names = {n.id for n in ast.walk(first) if isinstance(n, ast.Name)} if first is not None else set()
    return bool(names & HANDOUT_MATRICES)


@pytest.mark.parametrize("notebook", ["01_conv_arithmetic", "02_kernel_of_truth"])
def test_release_pictures_use_worked_examples_not_the_graded_questions(notebook):
    calls = list(_picture_calls("release", notebook))
    assert calls, "the release should still teach with pictures"
    assert [name for name, args in calls if _shows_a_graded_answer(name, args)] == []


@pytest.mark.parametrize("notebook", ["01_conv_arithmetic", "02_kernel_of_truth"])
def test_answer_key_animates_the_graded_questions_themselves(notebook):
    assert any(_shows_a_graded_answer(name, args) for name, args in _picture_calls("notebooks", notebook))


def test_release_has_no_outputs_that_could_show_an_answer():
    for path in (REPO / "release" / "section03").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert not [c for c in nb.cells if c.cell_type == "code" and c.outputs], path.name
