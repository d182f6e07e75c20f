"""Payload templates: Parameters, ResultSelector, ItemSelector, Task Credentials and
JSONPath ``Assign``.

A template is any JSON value. In its objects, however deeply nested (arrays included), a
key ending in ``.$`` takes a path (``$...``), a context path (``$$...``), a variable path
(``$name...``) or an intrinsic call (``States.Name(...)``); the output key drops the
``.$``. Every other value is literal, strings that look like paths included.

:func:`compile_template` parses every path and call once. A template with no ``.$`` key
compiles to a constant: evaluating it returns the template itself, uncopied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asl import intrinsics
from asl.bindings import Bindings
from asl.errors import RUNTIME, StatesError
from asl.jsontext import json_text
from asl.paths import INPUT, PathNotFound, PathSyntaxError, compile_path

__all__ = ["Template", "TemplateSyntaxError", "compile_template", "compile_value"]

#: A compiled template: bindings in, the payload out.
Template = Callable[[Bindings], Any]


class TemplateSyntaxError(ValueError):
    """A ``.$`` value that is not a string, a valid path or a valid intrinsic call.

    ``field`` is the key as written (``"x.$"``); ``pointer`` locates it inside the ASL
    field, slash-separated (``"Parameters/a/x.$"``).
    """

    def __init__(self, field: str, pointer: str, why: str = "", *, message: str = "") -> None:
        if not message:
            message = (
                f"The value for the field '{field}' must be a valid JSONPath or a valid "
                "intrinsic function call"
            )
            message = f"{message}: {why}" if why else message
        super().__init__(message)
        self.field = field
        self.pointer = pointer


def compile_template(value: Any, field_name: str) -> Template:
    """Compile a payload template written in the ASL field ``field_name``."""
    compiled = _compile(value, field_name)
    if compiled is None:
        return _constant(value)
    return compiled


def _constant(value: Any) -> Template:
    def constant(bindings: Bindings) -> Any:
        return value

    return constant


def _compile(value: Any, pointer: str) -> Template | None:
    """The template of ``value``; None when it has no ``.$`` key (a constant)."""
    if isinstance(value, dict):
        return _compile_object(value, pointer)
    if isinstance(value, list):
        return _compile_array(value, pointer)
    return None


def _compile_object(value: dict[str, Any], pointer: str) -> Template | None:
    skeleton: dict[str, Any] = {}
    dynamic: list[tuple[str, Template]] = []
    for key, item in value.items():
        where = f"{pointer}/{key}"
        if isinstance(key, str) and key.endswith(".$"):
            name = key[:-2]
            skeleton[name] = None  # holds the key's place: output keys keep their order
            dynamic.append((name, _compile_dynamic(key, item, where)))
            continue
        nested = _compile(item, where)
        skeleton[key] = item
        if nested is not None:
            dynamic.append((key, nested))
    if not dynamic:
        return None
    entries = tuple(dynamic)

    def build(bindings: Bindings) -> dict[str, Any]:
        out = skeleton.copy()
        for name, evaluate in entries:
            out[name] = evaluate(bindings)
        return out

    return build


def _compile_array(value: list[Any], pointer: str) -> Template | None:
    items = [_compile(item, f"{pointer}/{i}") for i, item in enumerate(value)]
    if all(item is None for item in items):
        return None
    parts = tuple(
        _constant(literal) if item is None else item
        for literal, item in zip(value, items, strict=True)
    )

    def build(bindings: Bindings) -> list[Any]:
        return [part(bindings) for part in parts]

    return build


def _compile_dynamic(key: str, text: Any, pointer: str) -> Template:
    """The value of a ``.$`` key: a path or an intrinsic call."""
    if not isinstance(text, str):
        raise TemplateSyntaxError(key, pointer, f"{json_text(text)} is not a string")
    if text.startswith("$"):
        try:
            path = compile_path(text)
        except PathSyntaxError as exc:
            raise TemplateSyntaxError(key, pointer, str(exc)) from None
        return _path_value(path.text, key, path.select, path.get, path.root == INPUT)
    if intrinsics.is_intrinsic_call(text):
        try:
            return intrinsics.compile_call(text)
        except (intrinsics.IntrinsicSyntaxError, PathSyntaxError) as exc:
            raise TemplateSyntaxError(key, pointer, str(exc)) from None
    raise TemplateSyntaxError(key, pointer, f"'{text}' is neither")


def _path_value(
    text: str,
    key: str,
    select: Callable[[Any], Any],
    get: Callable[[Bindings], Any],
    reads_input: bool,
) -> Template:
    def missing(bindings: Bindings) -> StatesError:
        return StatesError(
            RUNTIME,
            f"The JSONPath '{text}' specified for the field '{key}' could not be found "
            f"in the input '{json_text(bindings.input)}'",
        )

    if reads_input:  # the common case, one call shorter

        def from_input(bindings: Bindings) -> Any:
            try:
                return select(bindings.input)
            except PathNotFound:
                raise missing(bindings) from None

        return from_input

    def from_root(bindings: Bindings) -> Any:
        try:
            return get(bindings)
        except PathNotFound:
            raise missing(bindings) from None

    return from_root


def compile_value(field: str, text: Any) -> Template:
    """A single path or intrinsic call written in the field ``field`` (Fail's
    ``ErrorPath``/``CausePath``); errors name that field."""
    return _compile_dynamic(field, text, field)
