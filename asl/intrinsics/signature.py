"""Declared signatures of intrinsic functions, and the argument checks they imply.

Every ``States.*`` function is one :class:`Function`: its parameter kinds are declared once
and :meth:`Function.invoke` checks the count and the kinds before the body runs. AWS checks
argument counts at run time, not when the state machine is created (recorded against AWS:
``States.MathAdd(1)`` fails with ``Invalid arguments in States.MathAdd``), so a wrong count
is an :class:`IntrinsicError` like any other bad argument.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from asl.bindings import Bindings


class IntrinsicError(Exception):
    """A function rejected its arguments; ``message`` is AWS's text after the call."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArguments(Exception):
    """Raised by a function body; becomes ``Invalid arguments in States.<Name>``."""


def is_number(value: Any) -> bool:
    """A JSON number: int or finite float, never a boolean."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


class Kind(Enum):
    """What a parameter accepts."""

    ANY = "any"
    STRING = "string"
    NUMBER = "number"
    ARRAY = "array"
    OBJECT = "object"

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is of this kind."""
        if self is Kind.ANY:
            return True
        if self is Kind.STRING:
            return isinstance(value, str)
        if self is Kind.NUMBER:
            return is_number(value)
        if self is Kind.ARRAY:
            return isinstance(value, list)
        return isinstance(value, dict)


Body = Callable[[list[Any], Bindings], Any]


@dataclass(frozen=True, slots=True)
class Function:
    """One intrinsic: name, declared parameters and body.

    ``optional`` trailing parameters may be left out; ``rest`` is the kind of any further
    arguments (``None``: no more allowed). ``ignores_arguments`` functions take whatever
    they are given and never evaluate it (AWS ignores arguments to ``States.UUID``).
    ``arity_detail`` is appended to AWS's message when the count is wrong.
    """

    name: str
    params: tuple[Kind, ...]
    body: Body
    optional: int = 0
    rest: Kind | None = None
    ignores_arguments: bool = False
    arity_detail: str = ""

    def invoke(self, args: list[Any], bindings: Bindings) -> Any:
        """Check the arguments against the signature, then run the body."""
        invalid = f"Invalid arguments in {self.name}"
        if not self.ignores_arguments:
            if not self._count_ok(len(args)):
                raise IntrinsicError(invalid + self.arity_detail)
            for index, value in enumerate(args):
                kind = self.params[index] if index < len(self.params) else self.rest
                if kind is None or not kind.accepts(value):
                    raise IntrinsicError(invalid)
        try:
            return self.body(args, bindings)
        except InvalidArguments:
            raise IntrinsicError(invalid) from None
        except RecursionError:  # nesting deeper than Python's stack; AWS's Jackson refuses too
            raise IntrinsicError(invalid) from None

    def _count_ok(self, count: int) -> bool:
        if count < len(self.params) - self.optional:
            return False
        return self.rest is not None or count <= len(self.params)


def java_round(value: int | float) -> int:
    """``Math.round``: half-way values go up, towards positive infinity (-1.5 -> -1)."""
    if isinstance(value, int):
        return value
    floor = math.floor(value)
    return floor + 1 if value - floor >= 0.5 else floor


def java_int(value: int | float) -> int:
    """A Java cast to an integer: the fraction is dropped, towards zero (-1.9 -> -1)."""
    return value if isinstance(value, int) else math.trunc(value)


INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


def int32(value: int) -> int:
    """``value`` when it fits a Java ``int``; otherwise the arguments are invalid."""
    if not INT_MIN <= value <= INT_MAX:
        raise InvalidArguments
    return value
