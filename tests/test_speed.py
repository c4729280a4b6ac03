"""helpers.speed: the ungraded timing cell of problem 3 (no timing is asserted here)."""
import numpy as np
import pytest

from helpers.speed import SIZES, plot_speedup, speed_inputs, time_versions


def test_speed_inputs_are_seeded_uint8_images_of_the_cells_sizes():
    a, b = speed_inputs()
    assert a.shape == (SIZES[0], SIZES[2]) and b.shape == (SIZES[1], SIZES[2])
    assert a.dtype == np.uint8 and np.array_equal(a, speed_inputs()[0])


def test_chart_measures_speed_ups_against_two_loops_even_when_it_is_not_the_slowest():
    fig = plot_speedup({"two loops": 0.2, "one loop": 0.004, "no loops": 0.5})
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels[0].startswith("1.0x") and labels[1].startswith("50.0x") and labels[2].startswith("0.4x")
    assert "two loops" in fig.axes[0].get_xlabel()


def test_unwritten_versions_are_left_out_with_a_note(capsys):
    def stub(a, b):
        raise NotImplementedError

    times = time_versions({"two loops": stub, "no loops": lambda a, b: a}, *speed_inputs(2, 3, 4))
    assert list(times) == ["no loops"] and "not written yet" in capsys.readouterr().out


def test_chart_without_any_timing_says_so():
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_speedup({})
