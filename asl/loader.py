"""Read a definition from a path, JSON or YAML text, or a dict.

The result is a :class:`Document`: the JSON value plus a way to turn a JSON pointer into
the (line, column) where that value starts in the source text. Positions of JSON text are
found only when a diagnostic asks for one, so a valid definition pays nothing for them.

Deploy-time placeholders (``${Name}``, filled by SAM's and CloudFormation's
DefinitionSubstitutions, CDK's definitionSubstitutions, Terraform's templatefile) are
filled as CloudFormation fills them (aws-cloudformation-resource-providers-stepfunctions,
``DefinitionProcessor``): each ``${key}`` is replaced in the *text*, again until none is
left, before the text is parsed (a DefinitionS3Location file, SAM's DefinitionUri) or
after a definition object is written out as JSON (an inline Definition). Values go in as
text, so the YAML ``Seconds: ${Wait}`` and the JSON ``"Seconds": ${Wait}`` read 60 as a
number while ``"Seconds": "${Wait}"`` reads it as the string "60", as on AWS; a dict
given here is a Definition object. A placeholder left without a value stays in the
definition; in JSON text a bare one (not JSON at all) is read as the string ``"${Name}"``.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

import yaml

from asl.diagnostics import (
    DUPLICATE_STATE_NAME,
    INVALID_JSON_DESCRIPTION,
    INVALID_YAML_DESCRIPTION,
    MISSING_DESCRIPTION,
    TOO_DEEPLY_NESTED,
    DefinitionError,
    Diagnostic,
    aws_location,
    error,
)
from asl.jsontext import JsonTooDeep, Repeats, json_text, parse_json_noting_repeats
from asl.textfile import FileTooLarge, TextFileError, read_text_file
from asl.yamltext import YamlTooLarge, yaml_document

Source = str | os.PathLike[str] | Mapping[str, Any]
#: Placeholder name -> value, as DefinitionSubstitutions takes them.
Substitutions = Mapping[str, str | int | float | bool]


class SubstitutionError(ValueError):
    """Substitutions that cannot fill a definition: a value that is not a string, number
    or boolean, or values that name each other in a loop."""


#: The longest definition CreateStateMachine, UpdateStateMachine, TestState and
#: ValidateStateMachineDefinition take, in characters (their ``definition`` member, in
#: botocore's service model and the API reference).
DEFINITION_MAX_CHARACTERS = 1_048_576
#: A definition file is read up to this many bytes: a longer one cannot hold a
#: definition of at most DEFINITION_MAX_CHARACTERS characters, each at most 4 bytes of
#: UTF-8.
DEFINITION_FILE_MAX_BYTES = 4 * DEFINITION_MAX_CHARACTERS


class DefinitionTooLarge(ValueError):
    """A definition longer than the API takes. AWS answers ``ValidationException``
    (``code``); ``message`` is its text, ``str()`` adds how this definition got there
    when that is not plain (YAML aliases, substitutions)."""

    code = "ValidationException"

    def __init__(self, how: str = "") -> None:
        # AWS's wording for a member's length constraint; the value is not quoted, as
        # for every member AWS marks sensitive.
        self.message = (
            "1 validation error detected: Value at 'definition' failed to satisfy "
            f"constraint: Member must have length less than or equal to "
            f"{DEFINITION_MAX_CHARACTERS}"
        )
        super().__init__(f"{self.message} ({how})" if how else self.message)


#: A deploy-time placeholder, ``${Name}``: the names SAM parameters, CDK keys and
#: Terraform variables take (letters, digits, ``_``, and ``.:-`` after the first).
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.:-]*)\}")

_DEFINITION_SUFFIXES = (".json", ".yaml", ".yml", ".asl")


def pointer(*parts: str | int) -> str:
    """A JSON pointer from its reference tokens (``pointer("States", "A")`` -> ``/States/A``)."""
    if not parts:
        return ""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(slots=True)
class Document:
    """A parsed definition and what is known of where its values came from."""

    value: Any
    filename: str | None = None
    text: str | None = None
    _positions: dict[str, tuple[int, int]] | None = field(default=None, repr=False)
    _locate: Callable[[str], dict[str, tuple[int, int]]] | None = field(default=None, repr=False)
    #: The state names the text gave twice in one scope (the value keeps the last state):
    #: only the text shows them, so the validator cannot find them in the value.
    repeated_states: list[Diagnostic] = field(default_factory=list)

    def position(self, location: str | None) -> tuple[int, int] | None:
        """(line, column), both 1-based, where the value at a JSON pointer starts.

        Falls back to the nearest enclosing value that has a position.
        """
        if location is None:
            return None
        if self._positions is None:
            if self._locate is None or self.text is None:
                return None
            try:
                self._positions = self._locate(self.text)
            except RecursionError:  # deeper than the validator accepts anyway
                self._positions = {}
        loc = "" if location == "/" else location
        while True:
            found = self._positions.get(loc)
            if found is not None:
                return found
            if not loc:
                return None
            loc = loc.rsplit("/", 1)[0]

    def place(self, diagnostic: Diagnostic) -> Diagnostic:
        """The diagnostic with its line and column filled in when the source was text."""
        if diagnostic.line is not None:
            return diagnostic
        pos = self.position(diagnostic.location)
        return diagnostic.at(*pos) if pos else diagnostic

    def place_at(self, diagnostic: Diagnostic, location: str) -> Diagnostic:
        """The diagnostic placed where the value at the JSON pointer ``location`` starts."""
        pos = self.position(location)
        return diagnostic.at(*pos) if pos else diagnostic


def read_document(source: Source, substitutions: Substitutions | None = None) -> Document:
    """Parse a definition source, its placeholders filled from ``substitutions``.

    Raises :class:`DefinitionError` for malformed text, :class:`SubstitutionError` for
    unusable substitutions, ``FileNotFoundError`` for a file that cannot be read (missing,
    not UTF-8), and :class:`DefinitionTooLarge` for a definition longer than AWS takes,
    before any of it is parsed.
    """
    if isinstance(source, Mapping):
        try:
            text = json_text(source)
        except (TypeError, ValueError):  # too deep, or not JSON: the validator says where
            return Document(source)
        if not substitutions:
            if len(text) > DEFINITION_MAX_CHARACTERS:
                raise DefinitionTooLarge()
            return Document(source)
        # The text is ours, not the user's: no positions in it to report.
        return Document(parse_text(substitute(text, substitutions)).value)
    if isinstance(source, os.PathLike) or _looks_like_path(source):
        path = Path(source)
        try:
            text = read_text_file(path, DEFINITION_FILE_MAX_BYTES)
        except FileTooLarge as exc:
            raise DefinitionTooLarge(f"the file is larger than {exc.max_bytes} bytes") from None
        except TextFileError as exc:
            raise FileNotFoundError(str(exc)) from exc
        yaml_suffix = path.suffix.lower() in (".yaml", ".yml")
        text = substitute(text, substitutions) if substitutions else text
        return parse_text(text, filename=str(path), yaml_text=yaml_suffix)
    return parse_text(substitute(source, substitutions) if substitutions else source)


def substitute(text: str, substitutions: Substitutions) -> str:
    """``text`` with every ``${key}`` replaced by its value, again until none is left;
    :class:`DefinitionTooLarge` when the values would make it longer than a definition
    can be (values that hold placeholders can double it on every pass)."""
    values = {f"${{{key}}}": _as_text(key, value) for key, value in substitutions.items()}
    pattern = re.compile("|".join(re.escape(placeholder) for placeholder in values))
    for _ in range(len(values) + 1):  # each pass fills at least one name, or none is left
        growth = sum(len(values[m[0]]) - len(m[0]) for m in pattern.finditer(text))
        if growth > 0 and len(text) + growth > DEFINITION_MAX_CHARACTERS:
            raise DefinitionTooLarge("once its placeholders are filled")
        filled = pattern.sub(lambda m: values[m[0]], text)
        if filled == text:
            return text
        text = filled
    raise SubstitutionError("the substitutions' values name each other in a loop")


def _as_text(key: str, value: Any) -> str:
    # CloudFormation takes strings, integers and booleans, and writes booleans in lowercase.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    raise SubstitutionError(
        f"the value of {key} must be a string, number or boolean, not {value!r}"
    )


def file_machine_name(source: Any) -> str | None:
    """The name a definition file gives its state machine, as ``asl run`` uses it: the
    file name without its extensions (``orders.asl.json`` -> ``orders``); None when the
    source is not a file path."""
    if isinstance(source, Mapping) or not (
        isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source))
    ):
        return None
    return Path(source).name.split(".")[0] or None


def _looks_like_path(source: str) -> bool:
    if "\n" in source or source.lstrip().startswith(("{", "[")):
        return False
    return source.lower().endswith(_DEFINITION_SUFFIXES) or os.path.isfile(source)


def parse_text(text: str, filename: str | None = None, yaml_text: bool | None = None) -> Document:
    """Parse JSON or YAML text (YAML when told, or when the text is not a JSON value);
    :class:`DefinitionTooLarge` for text longer than a definition can be, unparsed."""
    # YAML text too: AWS measures the JSON a YAML definition becomes, about as long, and
    # bounding the text bounds the (pure Python) YAML parse.
    if len(text) > DEFINITION_MAX_CHARACTERS:
        raise DefinitionTooLarge()
    if not text.strip():
        raise DefinitionError([error(MISSING_DESCRIPTION, "The definition is empty.")], filename)
    if yaml_text is None:
        yaml_text = not text.lstrip().startswith(("{", "["))
    if yaml_text:
        return _parse_yaml(text, filename)
    return _parse_json(text, filename)


def _parse_json(text: str, filename: str | None) -> Document:
    if "${" in text:
        text = _quote_bare_placeholders(text)
    try:
        value, repeats = parse_json_noting_repeats(text)
    except json.JSONDecodeError as exc:
        diag = error(INVALID_JSON_DESCRIPTION, f"{exc.msg} at line {exc.lineno} column {exc.colno}")
        raise DefinitionError([diag.at(exc.lineno, exc.colno)], filename) from None
    except JsonTooDeep:
        raise DefinitionError([_too_deep()], filename) from None
    except ValueError as exc:  # NaN, Infinity, a number out of range
        raise DefinitionError([error(INVALID_JSON_DESCRIPTION, str(exc))], filename) from None
    document = Document(value, filename, text, _locate=json_positions)
    _note_repeated_states(document, repeats)
    return document


def _note_repeated_states(document: Document, repeats: Repeats) -> None:
    """DUPLICATE_STATE_NAME for each state name a scope's ``States`` object (the
    machine's, a Parallel branch's, a Map's ItemProcessor's) repeats in the text."""
    if not repeats:
        return
    scopes: list[tuple[Any, tuple[str | int, ...]]] = [(document.value, ())]
    while scopes:
        scope, at = scopes.pop()
        states = scope.get("States") if isinstance(scope, dict) else None
        if not isinstance(states, dict):
            continue
        at = (*at, "States")
        repeated = repeats.get(id(states))
        for name in repeated[1] if repeated is not None and repeated[0] is states else ():
            found = error(
                DUPLICATE_STATE_NAME, f"Duplicate State name: {name}", aws_location((*at, name))
            )
            document.repeated_states.append(document.place_at(found, pointer(*at, name)))
        for name, state in states.items():
            if not isinstance(state, dict):
                continue
            if isinstance(state.get("Branches"), list):
                scopes.extend(
                    (b, (*at, name, "Branches", i)) for i, b in enumerate(state["Branches"])
                )
            scopes.extend((state[key], (*at, name, key)) for key in _PROCESSORS if key in state)


#: The fields of a Map state that hold its scope.
_PROCESSORS = ("ItemProcessor", "Iterator")


# A JSON string, or a placeholder outside one.
_STRING_OR_PLACEHOLDER = re.compile(rf'"(?:[^"\\]|\\.)*"|{PLACEHOLDER.pattern}')


def _quote_bare_placeholders(text: str) -> str:
    """JSON text with each placeholder outside a string made the string ``"${Name}"`` (the
    text is longer by two characters each, so a column after one on its line is off by
    two)."""
    return _STRING_OR_PLACEHOLDER.sub(lambda m: m[0] if m[1] is None else f'"{m[0]}"', text)


def _too_deep() -> Diagnostic:
    return error(TOO_DEEPLY_NESTED, "The definition is nested too deeply.", "/")


# --- YAML -----------------------------------------------------------------------------


def _parse_yaml(text: str, filename: str | None) -> Document:
    try:
        with yaml_document(text, DEFINITION_MAX_CHARACTERS) as (node, loader):
            positions: dict[str, tuple[int, int]] = {}
            repeats: Repeats = {}
            value = _yaml_value(loader, node, "", positions, repeats) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        where = f" at line {line} column {col}" if line else ""
        diag = error(INVALID_YAML_DESCRIPTION, f"{exc.problem or exc.context}{where}")
        raise DefinitionError([diag.at(line, col)], filename) from None
    except yaml.YAMLError as exc:
        raise DefinitionError([error(INVALID_YAML_DESCRIPTION, str(exc))], filename) from None
    except YamlTooLarge as exc:
        # AWS takes the JSON a YAML definition becomes: that text is what is too long.
        raise DefinitionTooLarge(str(exc)) from None
    except RecursionError:
        raise DefinitionError([_too_deep()], filename) from None
    if value is None:
        raise DefinitionError([error(MISSING_DESCRIPTION, "The definition is empty.")], filename)
    document = Document(value, filename, text, _positions=positions)
    _note_repeated_states(document, repeats)
    return document


def _yaml_value(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    ptr: str,
    positions: dict[str, tuple[int, int]],
    repeats: Repeats,
) -> Any:
    positions[ptr] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        again: list[str] = []
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key = key if isinstance(key, str) else json.dumps(key)
            if key in out:
                again.append(key)
            out[key] = _yaml_value(loader, value_node, ptr + pointer(key), positions, repeats)
        if again:
            repeats[id(out)] = (out, again)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _yaml_value(loader, v, f"{ptr}/{i}", positions, repeats)
            for i, v in enumerate(node.value)
        ]
    value = loader.construct_object(node, deep=True)
    # YAML timestamps and binary are not JSON: keep their text as AWS would see it.
    if not isinstance(value, str | int | float | bool | type(None)):
        return node.value
    return value


# --- Positions of JSON text -------------------------------------------------------------

_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


def json_positions(text: str) -> dict[str, tuple[int, int]]:
    """Map every JSON pointer of a valid JSON text to the (line, column) of its value."""
    offsets: dict[str, int] = {}
    _scan_value(text, 0, "", offsets)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    out: dict[str, tuple[int, int]] = {}
    for ptr, off in offsets.items():
        line = bisect.bisect_right(line_starts, off)
        out[ptr] = (line, off - line_starts[line - 1] + 1)
    return out


def _scan_value(text: str, i: int, ptr: str, offsets: dict[str, int]) -> int:
    i = _WS.match(text, i).end()  # type: ignore[union-attr]
    offsets[ptr] = i
    c = text[i]
    if c == '"':
        return int(scanstring(text, i + 1)[1])
    if c == "{":
        i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        if text[i] == "}":
            return i + 1
        while True:
            i = _WS.match(text, i).end()  # type: ignore[union-attr]
            key, i = scanstring(text, i + 1)
            i = _WS.match(text, i).end() + 1  # type: ignore[union-attr]  # past ':'
            i = _scan_value(text, i, ptr + pointer(key), offsets)
            i = _WS.match(text, i).end()  # type: ignore[union-attr]
            if text[i] == "}":
                return i + 1
            i += 1  # past ','
    if c == "[":
        i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        if text[i] == "]":
            return i + 1
        index = 0
        while True:
            i = _scan_value(text, i, f"{ptr}/{index}", offsets)
            index += 1
            i = _WS.match(text, i).end()  # type: ignore[union-attr]
            if text[i] == "]":
                return i + 1
            i += 1
    m = _SCALAR.match(text, i)
    return m.end() if m else i + 1
