"""Feedback without the hidden tests: nbgrader's pipeline plus one preprocessor.

``GenerateFeedback`` (nbgrader) renders the autograded notebook. Its default keeps the test
cells' hidden regions as code, and IPython tracebacks quote the lines around a failure --
hidden test lines included -- and name the frames of the grading-only modules. The
feedback the class grader writes uses

    GetGrades -> HideHiddenTestTraces -> ClearHiddenTests -> CSSHTMLHeaderPreprocessor

``HideHiddenTestTraces`` removes, from the error outputs of graded cells, every traceback
line that quotes a line of the cell's hidden region and every frame in a grading-only
file, so what remains is the student's own code and the diagnosis
(``CheckFailed: ... [mistake: slug] ...``). ``ClearHiddenTests`` then clears the hidden
regions from the cells' code. Scores come from the gradebook (``GetGrades``), so none of
this changes a grade.
"""
from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List, Unicode

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CODE_LINE = re.compile(r"^\s*(?:-*>\s*)?\d+\s(.*)$")
FRAME_FILE = re.compile(r"(?:File|file)\s+(\S+?\.py)")

FEEDBACK_PREPROCESSORS = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.feedback.HideHiddenTestTraces",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

PRIVATE_FILES = ("helpers/checks.py", "helpers/reference.py", "helpers/mistakes.py")


def private_suffixes(trusted_packages, public_files) -> list[str]:
    """``package/file.py`` of every trusted file that students do not get."""
    from pathlib import Path

    public = {str(Path(p)) for p in public_files}
    out = set(PRIVATE_FILES)
    for root, package in trusted_packages:
        folder = Path(root) / package
        if folder.is_dir():
            for path in folder.rglob("*.py"):
                rel = str(Path(package) / path.relative_to(folder))
                if rel not in public and not rel.endswith("__init__.py"):
                    out.add(rel)
    return sorted(out)


def configure(cfg, trusted_packages=None, public_files=()) -> None:
    """Make ``cfg`` (a traitlets Config) use the feedback pipeline above."""
    from .sandbox import SandboxConfig

    cfg.GenerateFeedback.preprocessors = list(FEEDBACK_PREPROCESSORS)
    packages = trusted_packages if trusted_packages is not None else SandboxConfig().trusted_packages
    cfg.HideHiddenTestTraces.private_files = private_suffixes(packages, public_files)


class HideHiddenTestTraces(NbGraderPreprocessor):
    """Drop traceback lines that quote hidden test code or grading-only frames."""

    begin = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end = Unicode("END HIDDEN TESTS").tag(config=True)
    private_files = List(list(PRIVATE_FILES), help="path suffixes of grading-only files").tag(config=True)

    def _hidden_lines(self, source: str) -> set[str]:
        hidden, inside = set(), False
        for line in source.splitlines():
            if self.begin in line:
                inside = True
                continue
            if self.end in line:
                inside = False
                continue
            if inside and line.strip():
                hidden.add(line.strip())
        return hidden

    def _clean_frame(self, frame: str, hidden: set[str]) -> str | None:
        plain = ANSI.sub("", frame)
        match = FRAME_FILE.search(plain)
        if match and match.group(1).endswith(tuple(self.private_files)):
            return None
        kept = []
        for raw, text in zip(frame.split("\n"), plain.split("\n")):
            code = CODE_LINE.match(text)
            stripped = text.strip()
            if (code and code.group(1).strip() in hidden) or stripped in hidden \
                    or self.begin in text or self.end in text:
                continue
            kept.append(raw)
        return "\n".join(kept)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or self.begin not in cell.source:
            return cell, resources
        hidden = self._hidden_lines(cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            frames = []
            for frame in output.get("traceback", []):
                cleaned = self._clean_frame(frame, hidden)
                if cleaned is not None:
                    frames.append(cleaned)
            output["traceback"] = frames
        return cell, resources
