"""Intrinsic call text -> a small immutable syntax tree.

Grammar (whitespace allowed around arguments, nowhere else)::

    call     := "States." NAME "(" [ argument ( "," argument )* ] ")"
    argument := string | number | "true" | "false" | "null" | path | call
    string   := "'" ( char | "\\" ( "'" | "{" | "}" | "\\" ) )* "'"
    number   := JSON number (integer, decimal, exponent; negative too)
    path     := "$" ... up to a "," or ")" or space outside brackets (compiled by asl.paths)

At most :data:`MAX_CALLS` calls per field, the outer one included (AWS documents ten and
counts its nine-call example as "nine nested intrinsic functions").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, NoReturn

from asl.intrinsics.template import Template, split_template
from asl.paths import CompiledPath, PathSyntaxError, compile_path

MAX_CALLS = 10

_NAME = re.compile(r"States\.([A-Za-z0-9]+)\(")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_KEYWORDS = {"true": True, "false": False, "null": None}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPABLE = "'{}\\"
_SPACE = " \t\n\r"


class IntrinsicSyntaxError(ValueError):
    """Text that is not a well-formed call of a known intrinsic function."""


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant argument; a string literal also carries its ``States.Format`` template."""

    value: Any
    template: Template | None = None


@dataclass(frozen=True, slots=True)
class PathArg:
    """A path argument (``$``, ``$$`` or ``$variable`` rooted), compiled once."""

    text: str
    path: CompiledPath


@dataclass(frozen=True, slots=True)
class Call:
    """A call of a ``States.*`` function."""

    name: str
    args: tuple[Literal | PathArg | Call, ...]


Node = Literal | PathArg | Call


def parse(text: str) -> Call:
    """Parse a whole field value; raises :class:`IntrinsicSyntaxError`."""
    parser = _Parser(text)
    call = parser.call()
    if parser.pos != len(text):
        parser.fail("unexpected text after the call")
    if parser.calls > MAX_CALLS:
        raise IntrinsicSyntaxError(
            f"'{text}' nests {parser.calls} intrinsic functions; at most {MAX_CALLS} are allowed"
        )
    return call


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.calls = 0

    def fail(self, reason: str) -> NoReturn:
        raise IntrinsicSyntaxError(
            f"'{self.text}' is not a valid intrinsic function call: {reason} at position {self.pos}"
        )

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.peek() and self.peek() in _SPACE:
            self.pos += 1

    def call(self) -> Call:
        match = _NAME.match(self.text, self.pos)
        if match is None:
            self.fail("expected States.<Name>(")
        self.calls += 1
        if self.calls > MAX_CALLS:
            self.fail(f"more than {MAX_CALLS} nested intrinsic functions")
        self.pos = match.end()
        return Call(f"States.{match.group(1)}", self.arguments())

    def arguments(self) -> tuple[Node, ...]:
        args: list[Node] = []
        self.skip_space()
        if self.peek() == ")":
            self.pos += 1
            return ()
        while True:
            self.skip_space()
            args.append(self.argument())
            self.skip_space()
            if self.peek() == ")":
                self.pos += 1
                return tuple(args)
            if self.peek() != ",":
                self.fail("expected ',' or ')'")
            self.pos += 1

    def argument(self) -> Node:
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if char == "-" or char.isdigit():
            return self.number()
        if self.text.startswith("States.", self.pos):
            return self.call()
        word = _WORD.match(self.text, self.pos)
        if word is not None and word.group() in _KEYWORDS:
            self.pos = word.end()
            return Literal(_KEYWORDS[word.group()])
        self.fail("expected an argument")

    def string(self) -> Literal:
        self.pos += 1
        chars: list[tuple[str, bool]] = []
        while True:
            char = self.peek()
            if not char:
                self.fail("unterminated string")
            self.pos += 1
            if char == "'":
                break
            if char == "\\":
                escaped = self.peek()
                if not escaped or escaped not in _ESCAPABLE:
                    self.fail("a backslash may only escape ' { } or \\")
                self.pos += 1
                chars.append((escaped, True))
            else:
                chars.append((char, False))
        return Literal("".join(c for c, _ in chars), split_template(chars))

    def number(self) -> Literal:
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            self.fail("malformed number")
        self.pos = match.end()
        token = match.group()
        if token.lstrip("-").isdigit():
            return Literal(int(token))
        value = float(token)
        if not math.isfinite(value):
            self.fail("number out of range")
        return Literal(value)

    def path(self) -> PathArg:
        start, depth, quote = self.pos, 0, ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"" and depth > 0:
                quote = char
            elif char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
            elif depth <= 0 and (char in ",)" or char in _SPACE):
                break
            self.pos += 1
        text = self.text[start : self.pos]
        try:
            return PathArg(text, compile_path(text))
        except PathSyntaxError as exc:
            self.fail(f"invalid path '{text}' ({exc})")
