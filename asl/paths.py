"""JSONPath paths and reference paths.

(First version: the interface is final; the fast path for plain references and AWS's
exact error wording are still to come.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jsonpath_ng.ext import parse

from asl.bindings import Bindings


class PathNotFound(Exception):
    """A path that selects nothing; the caller words the AWS error for its field."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(detail)
        self.path = path
        self.detail = detail


class PathSyntaxError(ValueError):
    """Text that is not a valid JSONPath."""


_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_INDEFINITE = re.compile(r"[*?,:]|\.\.")  # wildcard, filter, union, slice, deep scan


@dataclass(frozen=True, slots=True)
class CompiledPath:
    """A path compiled once; ``get`` evaluates it against bindings."""

    text: str
    root: str  # "input", "context" or "variable"
    variable: str | None
    expression: Any
    definite: bool

    def get(self, bindings: Bindings) -> Any:
        """The value the path selects; raises :class:`PathNotFound` when it selects none."""
        if self.root == "context":
            base = bindings.context
        elif self.root == "variable":
            if self.variable not in bindings.variables:
                raise PathNotFound(self.text, f"Variable not found: ${self.variable}")
            base = bindings.variables[self.variable]
        else:
            base = bindings.input
        if self.expression is None:
            return base
        matches = [m.value for m in self.expression.find(base)]
        if self.definite:
            if not matches:
                raise PathNotFound(self.text, f"No results for path: {self.text}")
            return matches[0]
        return matches


def compile_path(text: str) -> CompiledPath:
    """Compile ``$...`` (input), ``$$...`` (context) or ``$name...`` (variable)."""
    if text.startswith("$$"):
        root, variable, rest = "context", None, text[2:]
    elif (m := _VARIABLE.match(text)) is not None:
        root, variable, rest = "variable", m.group(1), text[m.end() :]
    elif text.startswith("$"):
        root, variable, rest = "input", None, text[1:]
    else:
        raise PathSyntaxError(f"The value '{text}' is not a valid JSONPath")
    try:
        expression = parse("$" + rest) if rest else None
    except Exception as exc:
        raise PathSyntaxError(f"The value '{text}' is not a valid JSONPath: {exc}") from None
    return CompiledPath(text, root, variable, expression, not _INDEFINITE.search(rest))


def check_path(text: str, *, reference: bool = False) -> str | None:
    """None when ``text`` is a valid path (a reference path when asked), else why not."""
    try:
        path = compile_path(text)
    except PathSyntaxError as exc:
        return str(exc)
    if reference and not path.definite:
        return f"The value '{text}' is not a valid reference path"
    return None
