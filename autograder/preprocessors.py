"""nbgrader preprocessors of the course pack: one preprocessor, one job."""
import re

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

_DELIMITER = re.compile(r"^[ \t]*(###|#|<!--)?[ \t]*(BEGIN|END) SOLUTION[ \t]*(-->)?[ \t]*\n?", re.MULTILINE)


class StripSolutionDelimiters(NbGraderPreprocessor):
    """Remove nbgrader's ``### BEGIN/END SOLUTION`` lines, keeping the solution code.

    Used for the answer key (``notebooks/``): it shows solutions as a student would write them,
    without the authoring markup.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type in ("code", "markdown") and "SOLUTION" in cell.source:
            cell.source = _DELIMITER.sub("", cell.source)
        return cell, resources


class DropCellsForOtherAudience(NbGraderPreprocessor):
    """Remove the cells meant for the other audience: release vs answer key.

    A cell tagged ``answer-key-only`` (the handout's own sizes and matrices, animated: they
    show the answers) is removed from the student release; a cell tagged ``release-only``
    (the same pictures on a worked example that is not a graded question) is removed from
    the answer key. ``nbgrader_config.py`` lists the subclass each converter needs.
    """

    drop_tag = Unicode("answer-key-only", help="cells with this tag are removed").tag(config=True)

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if self.drop_tag not in c.metadata.get("tags", [])]
        return nb, resources


class DropAnswerKeyOnlyCells(DropCellsForOtherAudience):
    """For ``generate_assignment``: the release gets no cell tagged ``answer-key-only``."""

    drop_tag = Unicode("answer-key-only").tag(config=True)


class DropReleaseOnlyCells(DropCellsForOtherAudience):
    """For ``generate_solution``: the answer key gets no cell tagged ``release-only``."""

    drop_tag = Unicode("release-only").tag(config=True)
