"""Intrinsic functions (``States.Format(...)`` and the other 17) of JSONPath states.

``compile_call`` parses a field value once (:mod:`asl.intrinsics.parser`), checks every
function name against the registry (:mod:`asl.intrinsics.registry`) and returns a callable
evaluating the tree against :class:`asl.bindings.Bindings`. Evaluation raises only
:class:`asl.errors.StatesError`; as on AWS, argument counts and types are checked then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asl.bindings import Bindings
from asl.intrinsics.parser import IntrinsicSyntaxError, parse

__all__ = ["IntrinsicSyntaxError", "check_call", "compile_call", "is_intrinsic_call"]


def is_intrinsic_call(text: str) -> bool:
    """True when a ``.$`` value is written as an intrinsic call (``States.Name(...)``)."""
    return text.startswith("States.")


def compile_call(text: str) -> Callable[[Bindings], Any]:
    """Parse ``text`` once into a callable; raises :class:`IntrinsicSyntaxError`.

    Syntax errors, unknown function names and more than ten calls in one field are caught
    here. Wrong argument counts are not: AWS accepts them when the state machine is created
    and fails the execution (``States.Runtime``) when the call is evaluated.
    """
    # Imported here: the evaluators' size limits are JSONata exceptions (asl.limits), and
    # importing the JSONata library raises the interpreter's recursion limit, which
    # validating a definition that calls no intrinsic need not pay for.
    from asl.intrinsics.compiler import build

    return build(text, parse(text))


def check_call(text: str) -> str | None:
    """None when ``text`` compiles as an intrinsic call, else what is wrong with it."""
    try:
        compile_call(text)
    except IntrinsicSyntaxError as exc:
        return str(exc)
    return None
