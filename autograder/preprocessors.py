"""nbgrader preprocessors of the course pack: one preprocessor, one job."""
import re

from nbgrader.preprocessors import NbGraderPreprocessor

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
