"""The schema pass: our JSON Schemas (``asl/schema/*.json``), checked with jsonschema.

Validators are compiled once, when the first definition is checked: one per scope kind,
and one per state Type and query language, so a state is checked against its own type
only (precise errors, and a large machine validates fast). jsonschema's errors are
translated into AWS's wording.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from asl.graph import Location
from asl.validate._base import JSONATA, JSONPATH, QueryLanguage, field_list

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

STATE_TYPES = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")
_SCHEMA_FILES = ("common", "machine", "jsonpath", "jsonata")


def _is_integer(_checker: Any, value: Any) -> bool:
    # JSON Schema counts 5.0 as an integer; AWS's integer fields do not.
    return isinstance(value, int) and not isinstance(value, bool)


def _load() -> dict[str, Any]:
    folder = resources.files("asl") / "schema"
    documents = {}
    for name in _SCHEMA_FILES:
        contents = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        documents[contents["$id"]] = contents
    return documents


def _resolved(documents: Mapping[str, Any], uri: str) -> Any:
    """The schema at ``uri`` with every ``$ref`` replaced by its target.

    Our schemas have no cycles, so the copy is finite; a self-contained schema spares
    jsonschema a reference lookup at every step, which is most of its cost.
    """
    base, _, fragment = uri.partition("#")
    node: Any = documents[base]
    for part in fragment.strip("/").split("/") if fragment else ():
        node = node[part]
    return _inline(documents, node, base)


def _inline(documents: Mapping[str, Any], node: Any, base: str) -> Any:
    if isinstance(node, list):
        return [_inline(documents, item, base) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        return _resolved(documents, ref if not ref.startswith("#") else base + ref)
    return {key: _inline(documents, value, base) for key, value in node.items()}


@functools.cache
def _validators() -> dict[str | tuple[QueryLanguage, str], Any]:
    """Every validator by scope kind (``machine``...) and by ``(language, Type)``, built
    once, on first use: jsonschema and the compiled schemas cost about 0.1 s, which an
    ``asl`` command that validates nothing need not pay."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer)
    validator = extend(Draft202012Validator, type_checker=checker)
    documents = _load()
    found: dict[str | tuple[QueryLanguage, str], Any] = {
        kind: validator(_resolved(documents, f"urn:asl:machine#/$defs/{kind}"))
        for kind in ("machine", "branch", "processor")
    }
    for language in (JSONPATH, JSONATA):
        for type_ in STATE_TYPES:
            uri = f"urn:asl:{language.lower()}#/$defs/{type_}"
            found[(language, type_)] = validator(_resolved(documents, uri))
    return found


Problem = tuple[str, Location]


def check_scope(kind: str, doc: Mapping[str, Any], loc: Location) -> list[Problem]:
    """Problems of a scope object's own fields (``machine``, ``branch`` or ``processor``)."""
    return translate(_validators()[kind].iter_errors(doc), loc)


def check_state(
    language: QueryLanguage, type_: str, doc: Mapping[str, Any], loc: Location
) -> list[Problem]:
    """Problems of a state's fields against the schema of its type and query language."""
    return translate(_validators()[(language, type_)].iter_errors(doc), loc)


# --- translation into AWS's wording ------------------------------------------------------

_TYPE_NAMES = {
    "string": "STRING",
    "integer": "INTEGER",
    "number": "NUMBER",
    "boolean": "BOOLEAN",
    "object": "OBJECT",
    "array": "ARRAY",
    "null": "NULL",
}


def translate(errors: Iterable[ValidationError], base: Location) -> list[Problem]:
    """AWS-style (message, location) pairs for jsonschema errors, in a stable order.

    A value of the wrong type is reported once, as a type error, whatever else its schema says.
    """
    found = sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
    mistyped = {tuple(e.absolute_path) for e in found if e.validator == "type"}
    out: list[Problem] = []
    for error in found:
        path = tuple(error.absolute_path)
        if error.validator != "type" and path in mistyped:
            continue
        where: Location = (*base, *path)
        for message in _messages(error):
            if (message, where) not in out:
                out.append((message, where))
    return out


def _messages(error: ValidationError) -> Iterator[str]:
    custom = error.schema.get("x-messages", {}) if isinstance(error.schema, dict) else {}
    keyword = str(error.validator)
    if keyword in custom:
        yield custom[keyword]
    elif keyword == "required":
        required = error.validator_value
        missing = [name for name in required if name not in error.instance]
        yield f"These fields are required: {field_list(missing)}"
    elif keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        for name in error.instance:
            if name not in known:
                yield f"Field '{name}' is not supported"
    elif keyword == "type":
        expected = error.validator_value
        expected = [expected] if isinstance(expected, str) else expected
        yield f"Expected value of type {field_list(_TYPE_NAMES[t] for t in expected)}"
    else:
        yield _simple_message(keyword, error.validator_value)


def _simple_message(keyword: str, value: Any) -> str:
    if keyword == "enum":
        return f"Value should be one of the following: {field_list(str(v) for v in value)}"
    if keyword in ("minItems", "minProperties", "minLength") and value == 1:
        return "Value cannot be empty"
    if keyword == "minimum":
        return f"Minimum value is {value}"
    if keyword == "maximum":
        return f"Maximum value is {value}"
    return f"Value does not satisfy '{keyword}': {value}"
