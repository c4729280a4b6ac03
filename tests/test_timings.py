"""autograder.timings: the breakdown of a notebook's grading time (no kernel)."""
from autograder.timings import COLUMNS, breakdown, notebook_parts

TIMINGS = {"kernel_start": 1.0, "kernel_stop": 0.25, "cells": {"2": 0.5, "5": 1.5}, "asking": 0.25,
           "steps": {"SandboxedExecute": 3.75, "PrepareChecks": 0.1, "CheckAnswers": 0.15,
                     "RepairGradingMetadata": 0.05, "SaveAutoGrades": 0.2},
           "total": 5.0}


def test_notebook_parts_group_the_pipeline_steps():
    parts = notebook_parts(TIMINGS)
    assert parts["kernel start"] == 1.25 and parts["cells"] == 2.0 and parts["asking"] == 0.25
    assert parts["checking"] == 0.25 and parts["sanitising"] == 0.05 and parts["saving"] == 0.2


def test_other_is_what_no_part_names():
    parts = notebook_parts(TIMINGS)
    assert abs(parts["other"] - (5.0 - 4.0)) < 1e-9
    assert parts["total"] == 5.0


def test_breakdown_averages_over_students_and_lists_the_slowest_cells():
    state = {"students": {
        "a": {"timings": {"intake": 0.1, "feedback": 1.0}, "notebooks": {"nb": {"timings": TIMINGS}}},
        "b": {"timings": {"intake": 0.3, "feedback": 3.0},
              "notebooks": {"nb": {"timings": dict(TIMINGS, total=7.0)}}},
    }}
    header, rows = breakdown(state)
    assert header == ["notebook", "students", *COLUMNS]
    assert rows[0][:2] == ["nb", 2] and rows[0][-1] == 6.0
    assert ["(per student) feedback", 2] == rows[2][:2] and rows[2][-1] == 2.0
    assert rows[3][0] == "(slow cell) nb #5"


def test_a_class_graded_before_timings_has_an_empty_breakdown():
    assert breakdown({"students": {"a": {"notebooks": {"nb": {"status": "graded"}}}}})[1] == []
