"""Hit counts graded for a heat map: how often each state, transition and Retrier of a
workflow was hit, over any number of executions, in a few steps of colour.

The steps follow the logarithm of the hits: a loop's state entered a thousand times does
not wash out those entered once or twice, and the most hit is always the darkest.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass

from visualizer.styles import HEAT_STEPS
from visualizer.trace import Trace

__all__ = ["HeatScale"]


@dataclass(frozen=True, slots=True)
class HeatScale:
    """Hits 1 .. ``most`` in ``len(HEAT_STEPS)`` steps (0 is never hit, no step)."""

    most: int

    @classmethod
    def of(cls, trace: Trace) -> HeatScale:
        """The scale of a (merged) trace: up to its most entered state, most taken
        transition or busiest Retrier."""
        counts = [len(s.visits) for s in trace.states.values()]
        counts += [n for s in trace.states.values() for n in s.retriers.values()]
        counts += [*trace.edges.values(), *trace.starts.values(), *trace.ends.values()]
        return cls(max(counts, default=1))

    def step(self, hits: int) -> int | None:
        """The step of a number of hits, or None for none."""
        if hits <= 0:
            return None
        share = math.log(min(hits, self.most) + 1) / math.log(self.most + 1)
        return max(math.ceil(len(HEAT_STEPS) * share - 1e-9) - 1, 0)

    def ranges(self) -> list[tuple[int, int, int]]:
        """``(step, fewest, most)`` hits of each step that some count can fall in."""
        counts = range(1, self.most + 1)
        out = []
        for step in range(len(HEAT_STEPS)):
            low = bisect_left(counts, step, key=lambda n: self.step(n) or 0) + 1
            high = bisect_left(counts, step + 1, key=lambda n: self.step(n) or 0)
            if low <= high:
                out.append((step, low, high))
        return out
