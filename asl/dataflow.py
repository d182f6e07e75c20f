"""JSONPath input and output processing, the one place it happens.

A JSONPath state reads its raw input through ``InputPath`` then ``Parameters`` (the
effective input), and shapes its result through ``ResultSelector``, ``ResultPath`` and
``OutputPath`` (the effective output) [https://states-language.net/spec.html#filters].

Each field compiles once (``compile_*``) into a callable the runtime calls per visit;
:func:`compile_io` bundles a state's five fields into one :class:`JsonPathIO`.

Errors are :class:`asl.errors.StatesError`:

- InputPath / OutputPath (and other path fields) selecting nothing: ``States.Runtime``,
  ``Invalid path '$.x' : No results for path: $['x']``;
- a Parameters / ResultSelector path selecting nothing: ``States.Runtime`` (worded by
  :mod:`asl.templates`);
- a ResultPath that cannot be applied to the state input:
  ``States.ResultPathMatchFailure``, ``Unable to apply ReferencePath $.x to input <JSON>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from asl.bindings import Bindings
from asl.errors import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesError
from asl.jsontext import json_text
from asl.model import MISSING
from asl.paths import (
    INPUT,
    CompiledPath,
    Key,
    PathNotFound,
    PathSyntaxError,
    compile_path,
    compile_reference_path,
)
from asl.templates import Template, compile_template

__all__ = [
    "JsonPathIO",
    "Placer",
    "Selector",
    "compile_input_path",
    "compile_io",
    "compile_output_path",
    "compile_parameters",
    "compile_path_field",
    "compile_result_path",
    "compile_result_selector",
    "output_selects_result",
]

#: Selects from ``bindings.input`` (InputPath, OutputPath, ItemsPath...).
Selector = Callable[[Bindings], Any]
#: Places a result into the state input: ``(state_input, result) -> output`` (ResultPath).
Placer = Callable[[Any, Any], Any]

_ABSENT: Final = object()


def compile_path_field(text: str | None, field_name: str = "InputPath") -> Selector:
    """A Path field (InputPath, OutputPath, ItemsPath...): ``None`` (JSON null) selects
    ``{}``, ``"$"`` the whole input; an indefinite path gathers its matches into an array.

    ``field_name`` is the ASL field; AWS words a path that selects nothing the same way
    (``Invalid path ...``) for each field where that is recorded, so it does not change
    the error yet."""
    if text is None:
        return _empty_object
    path = compile_path(text)
    if path.root == INPUT and not path.keys and path.definite:
        return _whole_input
    return _path_selector(path)


def compile_input_path(text: str | None) -> Selector:
    """``InputPath``: null gives ``{}``, the default ``"$"`` passes the input through."""
    return compile_path_field(text, "InputPath")


def compile_output_path(text: str | None) -> Selector:
    """``OutputPath``: null gives ``{}``, the default ``"$"`` passes the output through."""
    return compile_path_field(text, "OutputPath")


def compile_parameters(template: Any, field_name: str = "Parameters") -> Template:
    """``Parameters`` (or ``ItemSelector``, Task ``Credentials``): a payload template over
    the input that InputPath selected."""
    return compile_template(template, field_name)


def compile_result_selector(template: Any) -> Template:
    """``ResultSelector``: a payload template over the state's result."""
    return compile_template(template, "ResultSelector")


def compile_result_path(text: str | None) -> Placer:
    """``ResultPath``: a Reference Path into the state input (``$`` replaces it, null
    discards the result). Raises :class:`PathSyntaxError` for a path that is not a
    reference path, or that reads the context (``$$``) or a variable."""
    if text is None:
        return _keep_input
    path = compile_reference_path(text)
    if path.root != INPUT:
        raise PathSyntaxError(f"The value '{text}' of ResultPath must refer to the state input")
    keys = path.keys
    if not keys:
        return _replace_input

    def place(state_input: Any, result: Any) -> Any:
        output = _placed(state_input, keys, result)
        if output is _ABSENT:
            raise StatesError(
                RESULT_PATH_MATCH_FAILURE,
                f"Unable to apply ReferencePath {text} to input {json_text(state_input)}",
            )
        return output

    return place


@dataclass(frozen=True, slots=True)
class JsonPathIO:
    """The JSONPath data flow of one state, compiled: fields a state does not have are
    ``None`` (Parameters, ResultSelector) or pass-through (paths)."""

    input_path: Selector
    parameters: Template | None
    result_selector: Template | None
    result_path: Placer
    output_path: Selector
    #: When OutputPath selects just where ResultPath puts the result (``$.r`` both): whether
    #: ResultPath can put it into a given input, so the output is the result itself.
    result_fits: Callable[[Any], bool] | None = None

    def effective_input(self, raw_input: Any, bindings: Bindings) -> Any:
        """InputPath, then Parameters."""
        select = self.input_path
        # "$" (the default) selects the input itself: no bindings are made to read it.
        value = raw_input if select is _whole_input else select(_reading(bindings, raw_input))
        if self.parameters is None:
            return value
        return self.parameters(_reading(bindings, value))

    def selected_result(self, result: Any, bindings: Bindings) -> Any:
        """ResultSelector applied to a state's raw result (the result itself without it)."""
        if self.result_selector is None:
            return result
        return self.result_selector(_reading(bindings, result))

    def placed_output(self, raw_input: Any, selected: Any, bindings: Bindings) -> Any:
        """ResultPath (the selected result into the raw input), then OutputPath."""
        fits = self.result_fits
        if fits is not None and fits(raw_input):
            return selected  # placed, then selected again: no copy of the input made
        placed = self.result_path(raw_input, selected)
        select = self.output_path
        return placed if select is _whole_input else select(_reading(bindings, placed))

    def effective_output(self, raw_input: Any, result: Any, bindings: Bindings) -> Any:
        """ResultSelector, then ResultPath (into the raw input), then OutputPath."""
        return self.placed_output(raw_input, self.selected_result(result, bindings), bindings)


def compile_io(
    *,
    input_path: str | None = "$",
    parameters: Any = MISSING,
    result_selector: Any = MISSING,
    result_path: str | None = "$",
    output_path: str | None = "$",
    parameters_field: str = "Parameters",
) -> JsonPathIO:
    """Compile a state's data-flow fields; ``MISSING`` marks an absent template."""
    return JsonPathIO(
        input_path=compile_input_path(input_path),
        parameters=None
        if parameters is MISSING
        else compile_parameters(parameters, parameters_field),
        result_selector=None
        if result_selector is MISSING
        else compile_result_selector(result_selector),
        result_path=compile_result_path(result_path),
        output_path=compile_output_path(output_path),
        result_fits=_fits_at(output_selects_result(result_path, output_path)),
    )


def output_selects_result(
    result_path: str | None, output_path: str | None
) -> tuple[Key, ...] | None:
    """The keys of ResultPath when OutputPath selects just where it puts the result (the
    output is then the result); None otherwise."""
    if result_path is None or output_path is None:
        return None
    try:
        placed, selected = compile_reference_path(result_path), compile_path(output_path)
    except PathSyntaxError:
        return None
    keys = placed.keys
    if not keys or placed.root != INPUT or selected.root != INPUT or not selected.definite:
        return None
    return keys if selected.keys == keys else None


def _fits_at(keys: tuple[Key, ...] | None) -> Callable[[Any], bool] | None:
    """Whether a result can be put at ``keys`` in an input, for names only: every step but
    the last an object or absent (as :func:`_placed` creates it). False for an index."""
    if keys is None or not all(isinstance(key, str) for key in keys):
        return None
    steps = keys[:-1]

    def fits(state_input: Any) -> bool:
        value = state_input
        for key in steps:
            if not isinstance(value, dict):
                return False
            value = value.get(key, _ABSENT)
            if value is _ABSENT:
                return True  # objects are created from here on
        return isinstance(value, dict)

    return fits


def _reading(bindings: Bindings, value: Any) -> Bindings:
    return bindings if bindings.input is value else bindings.with_input(value)


def _empty_object(bindings: Bindings) -> Any:
    return {}


def _whole_input(bindings: Bindings) -> Any:
    return bindings.input


def _keep_input(state_input: Any, result: Any) -> Any:
    return state_input


def _replace_input(state_input: Any, result: Any) -> Any:
    return result


def _path_selector(path: CompiledPath) -> Selector:
    text, get = path.text, path.get

    def select(bindings: Bindings) -> Any:
        try:
            return get(bindings)
        except PathNotFound as exc:
            raise StatesError(RUNTIME, f"Invalid path '{text}' : {exc.detail}") from None

    return select


def _placed(container: Any, keys: tuple[Key, ...], result: Any) -> Any:
    """A copy of ``container`` with ``result`` at ``keys``, copying only the objects and
    arrays along the way and creating missing objects; _ABSENT when it cannot be done."""
    key, rest = keys[0], keys[1:]
    if isinstance(key, str) and isinstance(container, dict):
        copy = dict(container)
        if rest:
            child = container.get(key, _ABSENT)
            placed = _placed({} if child is _ABSENT else child, rest, result)
            if placed is _ABSENT:
                return _ABSENT
            copy[key] = placed
        else:
            copy[key] = result
        return copy
    if (
        isinstance(key, int)
        and isinstance(container, list)
        and -len(container) <= key < len(container)
    ):
        items = list(container)
        items[key] = _placed(items[key], rest, result) if rest else result
        return _ABSENT if items[key] is _ABSENT else items
    return _ABSENT


def _in_range(index: int, items: list[Any]) -> bool:
    return -len(items) <= index < len(items)
