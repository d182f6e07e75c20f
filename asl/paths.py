"""JSONPath paths and reference paths, in the Jayway dialect AWS Step Functions runs.

A path is ``$...`` (the input), ``$$...`` (the context object) or ``$name...`` (a
variable). It is compiled once into a :class:`CompiledPath`:

- A *definite* path (only names and single indices: ``$.a.b[0]``, ``$['a b'][-1]``,
  and the Jayway leaf merge ``$['a','b']``) selects one value. Plain references take a
  fast path: a tuple of keys walked directly, with no JSONPath engine involved.
- An *indefinite* path (wildcard, ``..``, slice, several indices, filter) selects a list
  of matches, ``[]`` when nothing matches. Its definite head is walked like a reference,
  except that a missing property there also gives ``[]`` (as AWS answers ``$.items[*]``
  and ``$.a.items[1:]`` over ``{}``); jsonpath-ng evaluates the rest.

A path that selects nothing raises :class:`PathNotFound`, whose ``detail`` is Jayway's
message as AWS quotes it (``No results for path: $['a']['b']``,
``Missing property in path $['a']``); callers word the error of their field around it.
"""

from __future__ import annotations

import functools
import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from jsonpath_ng import JSONPath
from jsonpath_ng.ext.parser import ExtendedJsonPathParser

from asl.bindings import Bindings
from asl.jsontext import json_text

__all__ = [
    "CompiledPath",
    "PathNotFound",
    "PathSyntaxError",
    "check_path",
    "compile_path",
    "compile_reference_path",
    "path_shape",
]

INPUT: Final = "input"
CONTEXT: Final = "context"
VARIABLE: Final = "variable"

#: One step of a definite path: a property name, an array index, or (last step only)
#: several property names merged into one object.
Key = str | int | tuple[str, ...]

# Jayway reports the provider it reads JSON with in one of its messages; AWS's is not
# recorded, so this is Jayway's default.
_PROVIDER = "com.jayway.jsonpath.spi.json.JsonSmartJsonProvider"
_NOTHING: Final = object()
_VARIABLE_ROOT = re.compile(r"\$([^\W\d]\w*)")
_NAME_STOP = frozenset(" \t\r\n.[(")
_INDEX = re.compile(r"\s*(-?\d+)\s*\]")
_INDEFINITE_START = re.compile(r"\.\.|\.\*|\[\s*(?:\*|\?|-?\d*\s*:|-?\d+\s*,)")
# Characters the spec rules out of reference paths ("@", ",", ":", "?") and wildcards.
_NOT_IN_REFERENCE = frozenset("@,:?*")


class PathNotFound(Exception):
    """A path that selects nothing; the caller words the AWS error for its field."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(detail)
        self.path = path
        self.detail = detail


class PathSyntaxError(ValueError):
    """Text that is not a valid JSONPath (or not a valid reference path where one is due)."""


@dataclass(frozen=True, slots=True)
class CompiledPath:
    """A path compiled once; :meth:`get` evaluates it against bindings.

    ``keys`` are the steps of the definite head (the whole path when ``definite``);
    ``select`` evaluates the path against a root value directly.
    """

    text: str
    root: str  # INPUT, CONTEXT or VARIABLE
    variable: str | None
    definite: bool
    keys: tuple[Key, ...]
    select: Callable[[Any], Any]
    reference: bool

    def get(self, bindings: Bindings) -> Any:
        """The value the path selects; raises :class:`PathNotFound` when it selects none."""
        root = self.root
        if root == INPUT:
            return self.select(bindings.input)
        if root == CONTEXT:
            return self.select(bindings.context)
        variables, name = bindings.variables, self.variable or ""
        if name not in variables:
            raise PathNotFound(self.text, f"Variable not found: ${name}")
        return self.select(variables[name])


def compile_path(text: str) -> CompiledPath:
    """Compile ``$...`` (input), ``$$...`` (context) or ``$name...`` (variable)."""
    root, variable, start = _root(text)
    parsed = _Parsed(text)
    pos = parsed.read_definite(start)
    if pos == len(text):
        select = _definite_selector(text, parsed)
        return CompiledPath(text, root, variable, True, parsed.key_tuple, select, parsed.plain)
    select = _indefinite_selector(text, parsed, text[pos:], text[start:])
    return CompiledPath(text, root, variable, False, parsed.key_tuple, select, False)


def path_shape(text: str) -> tuple[str, bool]:
    """A path's root (``INPUT``, ``CONTEXT`` or ``VARIABLE``) and whether it is definite,
    read as :func:`compile_path` reads them but without compiling an indefinite path's
    tail, the costly part: for what a compiler asks of a path it compiles anyway. Raises
    :class:`PathSyntaxError` only for a malformed root or definite head."""
    root, _, start = _root(text)
    return root, _Parsed(text).read_definite(start) == len(text)


def compile_reference_path(text: str) -> CompiledPath:
    """Compile a Reference Path: a definite path naming one node, with no operators."""
    path = compile_path(text)
    if not path.reference:
        raise PathSyntaxError(f"The value '{text}' is not a valid reference path")
    return path


def check_path(text: str, *, reference: bool = False) -> str | None:
    """None when ``text`` is a valid path (a reference path when asked), else why not."""
    try:
        if reference:
            compile_reference_path(text)
        else:
            compile_path(text)
    except PathSyntaxError as exc:
        return str(exc)
    return None


def _root(text: str) -> tuple[str, str | None, int]:
    """The root of a path, its variable's name and where its steps start."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntaxError(f"The value '{text}' is not a valid JSONPath")
    if text.startswith("$$"):
        return CONTEXT, None, 2
    if (m := _VARIABLE_ROOT.match(text)) is not None:
        return VARIABLE, m.group(1), m.end()
    return INPUT, None, 1


class _Parsed:
    """The definite head of a path: its keys and their Jayway renderings."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.keys: list[Key] = []
        self.fragments: list[str] = []  # as Jayway prints the compiled path
        self.plain = True  # only names without operator characters, and indices

    @property
    def key_tuple(self) -> tuple[Key, ...]:
        return tuple(self.keys)

    def fail(self, why: str) -> PathSyntaxError:
        return PathSyntaxError(f"The value '{self.text}' is not a valid JSONPath: {why}")

    def read_definite(self, pos: int) -> int:
        """Read names and indices from ``pos``; the position of the first other token."""
        text, n = self.text, len(self.text)
        while pos < n:
            c = text[pos]
            if c == "." and text.startswith(".[", pos):
                pos += 1  # Jayway reads `$.[0]` as `$[0]`
            elif c == ".":
                if pos + 1 == n:
                    raise self.fail("a path must not end with '.'")
                if text[pos + 1] in ".*":
                    return pos
                pos = self._read_name(pos + 1)
            elif c == "[":
                end = self._read_bracket(pos)
                if end < 0:
                    return pos
                pos = end
            else:
                raise self.fail(f"unexpected character {c!r} at position {pos}")
        return pos

    def _read_name(self, pos: int) -> int:
        text, end = self.text, pos
        while end < len(text) and text[end] not in _NAME_STOP:
            end += 1
        name = text[pos:end]
        if not name:
            raise self.fail(f"a property name is missing at position {pos}")
        if _NOT_IN_REFERENCE.intersection(name):
            self.plain = False
        self.keys.append(name)
        self.fragments.append(f"['{name}']")
        return end

    def _read_bracket(self, pos: int) -> int:
        """The end of ``[...]`` holding names or one index; -1 for any other bracket."""
        text = self.text
        inner = pos + 1
        while inner < len(text) and text[inner] == " ":
            inner += 1
        if inner < len(text) and text[inner] in "'\"":
            return self._read_quoted(inner)
        m = _INDEX.match(text, pos + 1)
        if m is None:
            return -1
        index = int(m.group(1))
        self.keys.append(index)
        self.fragments.append(f"[{index}]")
        return m.end()

    def _read_quoted(self, pos: int) -> int:
        text, quote = self.text, self.text[pos]
        names: list[str] = []
        while True:
            name, pos = self._read_string(pos, quote)
            names.append(name)
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if pos >= len(text):
                raise self.fail("a bracket is not closed")
            if text[pos] == "]":
                break
            if text[pos] != ",":
                raise self.fail(f"expected ',' or ']' at position {pos}")
            pos += 1
            while pos < len(text) and text[pos] == " ":
                pos += 1
            if pos >= len(text) or text[pos] != quote:
                raise self.fail(f"expected a quoted property name at position {pos}")
        quoted = ",".join(f"{quote}{name}{quote}" for name in names)
        self.fragments.append(f"[{quoted}]")
        if len(names) == 1:
            self.keys.append(names[0])
        else:
            self.keys.append(tuple(names))
            self.plain = False
        return pos + 1

    def _read_string(self, pos: int, quote: str) -> tuple[str, int]:
        r"""A quoted name up to its closing quote. A backslash before that quote puts the
        quote in the name; any other backslash stays in it with the character after it:
        ``$['a\"b']`` names the key ``a\"b`` (recorded against AWS: localstack
        test_base_scenarios, test_escape_sequence_parsing[ESCAPE_SEQUENCES_JSONPATH])."""
        text, i = self.text, pos + 1
        out: list[str] = []
        while i < len(text):
            c = text[i]
            if c == quote:
                return "".join(out), i + 1
            if c == "\\" and i + 1 < len(text):
                escaped = text[i + 1]
                out.append(escaped if escaped == quote else c + escaped)
                i += 2
                continue
            out.append(c)
            i += 1
        raise self.fail("a quoted property name is not closed")


# --- evaluation ---------------------------------------------------------------------


def _definite_selector(text: str, parsed: _Parsed) -> Callable[[Any], Any]:
    keys = parsed.key_tuple
    if not keys:
        return _identity
    walker = _Walker(text, keys, tuple(parsed.fragments), "", definite=True)
    if any(isinstance(k, tuple) for k in keys):
        return walker.walk
    explain = walker.walk
    if any(isinstance(k, int) for k in keys):

        def select_checked(root: Any) -> Any:
            value = root
            try:
                for key in keys:
                    if value.__class__ is str:  # "abc"[0] must not read a character
                        raise TypeError
                    value = value[key]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                return explain(root)
            return value

        return select_checked

    def select(root: Any) -> Any:
        value = root
        try:
            for key in keys:
                value = value[key]
        except (KeyError, IndexError, TypeError):
            return explain(root)
        return value

    return select


def _identity(value: Any) -> Any:
    return value


def _indefinite_selector(
    text: str, parsed: _Parsed, rest: str, after_root: str
) -> Callable[[Any], Any]:
    if _INDEFINITE_START.match(rest) is None or "`" in rest:
        raise parsed.fail(f"unexpected text at {rest!r}")
    whole = "$" in rest  # a filter reading `$` needs the root, not the head's value
    source = "$" + (after_root if whole else rest)
    try:
        expression = _ng_parse(source)
    except Exception as exc:  # jsonpath-ng raises several types for bad text
        raise parsed.fail(str(exc)) from None
    walker = _Walker(text, parsed.key_tuple, tuple(parsed.fragments), rest, definite=False)
    filters_first = rest.lstrip("[ ").startswith("?")

    def select(root: Any) -> list[Any]:
        base, at = walker.walk_head(root)
        if base is _NOTHING:
            return []
        walker.check_boundary(base, at)
        if whole:
            base = root
        elif filters_first and isinstance(base, dict):
            base = [base]  # Jayway applies a filter to an object itself
        return [match.value for match in expression.find(base)]

    return select


# One jsonpath-ng parser for the process: building one (PLY's tables) costs more than the
# parse itself. Each parse starts from a fresh state, but keeps it on the parser while it
# runs, so one thread at a time uses it.
_NG_LOCK = threading.Lock()


@functools.cache
def _ng_parser() -> ExtendedJsonPathParser:
    return ExtendedJsonPathParser()


def _ng_parse(source: str) -> JSONPath:
    """jsonpath-ng's expression of ``source``, its deprecation warnings silenced (the
    dialect is Jayway's, not jsonpath-ng's next one)."""
    with _NG_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _ng_parser().parse(source)


class _Walker:
    """Walks definite steps the way Jayway does, with its messages when a step fails."""

    def __init__(
        self,
        text: str,
        keys: tuple[Key, ...],
        fragments: tuple[str, ...],
        rest: str,
        *,
        definite: bool,
    ) -> None:
        self.text = text
        self.keys = keys
        self.fragments = fragments
        self.rest = rest
        self.definite = definite
        self.rendered = "$" + "".join(fragments) + rest

    def walk(self, root: Any) -> Any:
        """The value a definite path selects; raises PathNotFound where Jayway throws."""
        value, _ = self.walk_head(root)
        if value is _NOTHING:
            raise self._not_found(f"No results for path: {self.rendered}")
        return value

    def walk_head(self, root: Any) -> tuple[Any, str]:
        """The value at the end of the steps and the path evaluated so far; _NOTHING
        when an index is out of range, or a property is missing from an indefinite
        path's head."""
        value, at = root, "$"
        last = len(self.keys) - 1
        for i, key in enumerate(self.keys):
            leaf = self.definite and i == last
            if isinstance(key, str):
                value, at = self._property(value, key, at, i, leaf)
            elif isinstance(key, int):
                value, at = self._index(value, key, at, i)
            else:
                return self._merge(value, key, at, i, leaf), at
            if value is _NOTHING:
                return _NOTHING, at
        return value, at

    def _property(self, value: Any, key: str, at: str, i: int, leaf: bool) -> tuple[Any, str]:
        if not isinstance(value, dict):
            raise self._not_object(value, at, i)
        step = f"{at}['{key}']"
        if key not in value:
            if leaf:
                raise self._not_found(f"No results for path: {self.rendered}")
            if not self.definite:
                return _NOTHING, at
            raise self._not_found(f"Missing property in path {step}")
        return value[key], step

    def _index(self, value: Any, key: int, at: str, i: int) -> tuple[Any, str]:
        if value is None:
            raise self._not_found(f"The path {at} is null")
        if not isinstance(value, list):
            chain = "".join(self.fragments[i:]) + self.rest
            raise self._not_found(
                f"Filter: {chain} can only be applied to arrays. "
                f"Current context is: {_java_text(value)}"
            )
        if -len(value) <= key < len(value):
            return value[key], f"{at}[{key}]"
        return _NOTHING, at

    def _merge(self, value: Any, names: tuple[str, ...], at: str, i: int, leaf: bool) -> Any:
        if not isinstance(value, dict):
            raise self._not_object(value, at, i)
        if not leaf:
            listed = ", ".join(f"'{name}'" for name in names)
            raise self._not_found(
                f"Multi properties can only be used as path leafs: {at}[{listed}]"
            )
        return {name: value[name] for name in names if name in value}

    def check_boundary(self, value: Any, head: str) -> None:
        """Jayway's checks on the first indefinite step, reached by a definite head."""
        opener = self.rest.lstrip("[ ")
        if self.rest.startswith("[") and not opener.startswith(("*", "?")):
            if value is None:
                raise self._not_found(f"The path {head} is null")
            if not isinstance(value, list):
                raise self._not_found(
                    f"Filter: {self.rest} can only be applied to arrays. "
                    f"Current context is: {_java_text(value)}"
                )
        elif opener.startswith("?") and not isinstance(value, (dict, list)):
            raise self._not_found(
                f"Filter: {self.rest} can not be applied to primitives. "
                f"Current context is: {_java_text(value)}"
            )

    def _not_object(self, value: Any, at: str, i: int) -> PathNotFound:
        return self._not_found(
            f"Expected to find an object with property {self.fragments[i]} in path {at} "
            f"but found '{_java_class(value)}'. "
            f"This is not a json object according to the JsonProvider: '{_PROVIDER}'."
        )

    def _not_found(self, detail: str) -> PathNotFound:
        return PathNotFound(self.text, detail)


def _java_class(value: Any) -> str:
    """The Java class Jayway names for a JSON value it did not expect."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if -(2**31) <= value < 2**31 else "java.lang.Long"
    if isinstance(value, float):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, list):
        return "net.minidev.json.JSONArray"
    return "net.minidev.json.JSONObject"


def _java_text(value: Any) -> str:
    """A JSON value as Java's ``toString`` prints it in Jayway's messages."""
    if isinstance(value, str):
        return value
    return json_text(value)
