"""The steps of a heat map: hit counts on a logarithmic scale, the most always darkest."""

from __future__ import annotations

from itertools import pairwise

import pytest

from visualizer.heat import HeatScale
from visualizer.styles import HEAT_STEPS


@pytest.mark.parametrize("most", [1, 2, 3, 7, 100, 12345])
def test_every_count_has_one_step_and_the_legend_covers_them_in_order(most: int) -> None:
    scale = HeatScale(most)
    assert scale.step(0) is None
    assert scale.step(most) == len(HEAT_STEPS) - 1
    ranges = scale.ranges()
    assert ranges[0][1] == 1 and ranges[-1][2] == most
    for (step, _, high), (next_step, low, _) in pairwise(ranges):
        assert next_step > step and low == high + 1
    for step, low, high in ranges:
        assert scale.step(low) == scale.step(high) == step


def test_a_loop_does_not_wash_out_the_rare_counts() -> None:
    scale = HeatScale(1000)
    assert [scale.step(n) for n in (1, 10, 100, 1000)] == [0, 1, 3, 4]
