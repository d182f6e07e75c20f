"""The numeric ``States.*`` functions: MathAdd, MathRandom and ArrayRange.

AWS evaluates these in Java on ``int`` values, and the recordings show two conversions:
``States.MathAdd`` rounds each operand with ``Math.round`` (1.5 -> 2, -1.5 -> -1; recorded
against AWS in localstack's test_math_operations snapshot) and fails outside the 32-bit
range, while ``States.MathRandom`` and ``States.ArrayRange`` drop the fraction (observed on
AWS: ``MathRandom(1.6, 5.4)`` returned 1). A seeded ``States.MathRandom`` is
``start + new java.util.Random(seed).nextInt(end - start)``: that formula reproduces every
seeded value recorded against AWS (seed 42 over [1, 100) gives 63).
"""

from __future__ import annotations

from typing import Any

from asl.bindings import Bindings
from asl.intrinsics.signature import (
    INT_MAX,
    Function,
    InvalidArguments,
    Kind,
    int32,
    java_int,
    java_round,
)

NUMBER = Kind.NUMBER

#: ``States.ArrayRange`` builds at most this many items.
MAX_RANGE_ITEMS = 1000

_MULTIPLIER = 0x5DEECE66D
_MASK = (1 << 48) - 1


class JavaRandom:
    """``java.util.Random``: the 48-bit linear congruential generator, seeded the same way."""

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ _MULTIPLIER) & _MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * _MULTIPLIER + 0xB) & _MASK
        return self._seed >> (48 - bits)

    def next_int(self, bound: int) -> int:
        """A value in [0, bound), exactly as ``Random.nextInt(int bound)`` draws it."""
        if bound & (bound - 1) == 0:
            return (bound * self._next(31)) >> 31
        while True:
            bits = self._next(31)
            value = bits % bound
            if bits - value + (bound - 1) <= INT_MAX:  # Java's int-overflow rejection test
                return value


def _java_long(value: int) -> int:
    return ((value + 2**63) % 2**64) - 2**63


def _math_add(args: list[Any], bindings: Bindings) -> int:
    first, second = (int32(java_round(value)) for value in args)
    return int32(first + second)


def _math_random(args: list[Any], bindings: Bindings) -> int:
    start, end = int32(java_int(args[0])), int32(java_int(args[1]))
    bound = end - start
    if bound <= 0 or bound > INT_MAX:
        raise InvalidArguments
    if len(args) == 3:
        return start + JavaRandom(_java_long(java_int(args[2]))).next_int(bound)
    return start + min(int(bindings.entropy.random() * bound), bound - 1)


def _array_range(args: list[Any], bindings: Bindings) -> list[int]:
    start, end, step = (java_int(value) for value in args)
    if step == 0:
        raise InvalidArguments
    span = end - start if step > 0 else start - end
    count = span // abs(step) + 1 if span >= 0 else 0
    if count > MAX_RANGE_ITEMS:
        raise InvalidArguments
    return [start + i * step for i in range(count)]


FUNCTIONS: tuple[Function, ...] = (
    Function("States.MathAdd", (NUMBER, NUMBER), _math_add),
    Function("States.MathRandom", (NUMBER, NUMBER, NUMBER), _math_random, optional=1),
    Function("States.ArrayRange", (NUMBER, NUMBER, NUMBER), _array_range),
)
