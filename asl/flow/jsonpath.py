"""The data flow of a JSONPath state: InputPath, Parameters, ResultSelector, ResultPath,
OutputPath and Assign, and the type-specific fields that read paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asl import model as m
from asl.bindings import Bindings
from asl.choice import compile_choices
from asl.dataflow import (
    compile_io,
    compile_parameters,
    compile_path_field,
    compile_result_path,
)
from asl.errors import RUNTIME, StatesError
from asl.flow.map_fields import compile_map_fields, not_a_number, path_number
from asl.flow.protocol import Assigned, MapFields
from asl.flow.sizes import child_growth, jsonpath_growth
from asl.flow.waiting import check_delay, delay_until, seconds_from_path
from asl.jsontext import JSON, json_text
from asl.templates import compile_value
from asl.variables import compile_assign

_Assign = Callable[[Bindings], dict[str, Any]]


def _optional_assign(value: Any, field: str = "Assign") -> _Assign | None:
    return None if value is m.MISSING else compile_assign(value, "JSONPath", field)


class JsonPathFlow:
    """A JSONPath state's compiled flow: a :class:`~asl.flow.protocol.StateFlow`."""

    # Set by the per-type set-up of the states that have them.
    _choices: Callable[[Bindings], tuple[int | None, str]]
    _choice_assigns: list[_Assign | None]
    _delay: Callable[[Bindings, float], float]
    _error: Callable[[Bindings], Any]
    _cause: Callable[[Bindings], Any]
    _timeout: Callable[[Bindings], int | None]
    _heartbeat: Callable[[Bindings], int | None]
    _static_timeouts: tuple[int | None, int | None] | None  # when neither is a path
    _items_text: str
    _items_path: Callable[[Bindings], Any]
    _item_selector: Callable[[Bindings], Any] | None
    _concurrency: Callable[[Bindings], int]

    def __init__(self, state: m.State, *, uses_context: bool) -> None:
        self.uses_context = uses_context
        self.map_fields: MapFields | None = None  # set for a Distributed Map
        #: Bounds on the size of the output and of a child's input (see asl.flow.sizes).
        self.growth = jsonpath_growth(state)
        self.child_growth = child_growth(state)
        self._io = io = compile_io(
            input_path=state.input_path,
            parameters=getattr(state, "parameters", m.MISSING),
            result_selector=getattr(state, "result_selector", m.MISSING),
            result_path=getattr(state, "result_path", "$"),
            output_path=state.output_path,
        )
        self._input, self._output = io.input_path, io.output_path
        self._assign = _optional_assign(state.assign)
        self._result = getattr(state, "result", m.MISSING)
        self._catchers = [
            (compile_result_path(c.result_path), _optional_assign(c.assign))
            for c in getattr(state, "catch", ())
        ]
        # Kept apart from ``trivial``, which the types that do work of their own clear.
        self._passes_input = (
            state.input_path == "$"
            and state.output_path == "$"
            and getattr(state, "result_path", "$") == "$"
            and self._io.parameters is None
            and self._result is m.MISSING
            and self._assign is None
        )
        self.trivial = self._passes_input
        _TYPE_SETUP[state.type](self, state)

    # --- the common flow --------------------------------------------------------------

    def prepare(self, raw_input: JSON, b: Bindings) -> JSON:
        """InputPath, then Parameters: what the state's work receives."""
        return self._io.effective_input(raw_input, b)

    def pass_result(self, payload: JSON) -> JSON:
        """A Pass state's result: its Result, else what Parameters made of the input."""
        return payload if self._result is m.MISSING else self._result

    def finish(self, raw_input: JSON, result: JSON, b: Bindings) -> tuple[JSON, Assigned]:
        """ResultSelector, Assign (reading the selected result), ResultPath, OutputPath."""
        io = self._io
        selected = io.selected_result(result, b)
        assigned = None if self._assign is None else self._assign(b.with_input(selected))
        return io.placed_output(raw_input, selected, b), assigned

    def catch(
        self, index: int, raw_input: JSON, error_output: JSON, b: Bindings
    ) -> tuple[JSON, Assigned]:
        """A Catcher's output: the Error Output placed by its ResultPath; its Assign."""
        place, assign = self._catchers[index]
        assigned = None if assign is None else assign(b.with_input(error_output))
        return place(raw_input, error_output), assigned

    def succeed(self, raw_input: JSON, b: Bindings) -> JSON:
        """Succeed (and any state that only filters): InputPath then OutputPath."""
        return self._output(b.with_input(self._input(b.with_input(raw_input))))

    def _filtered(self, raw_input: JSON, b: Bindings) -> tuple[JSON, JSON, Assigned]:
        effective = self._input(b.with_input(raw_input))
        assigned = None if self._assign is None else self._assign(b.with_input(effective))
        return effective, self._output(b.with_input(effective)), assigned

    # --- Choice, Wait, Fail ---------------------------------------------------------------

    def choose(self, raw_input: JSON, b: Bindings) -> tuple[str, JSON, Assigned]:
        """The next state, the output and the assigned variables of a Choice."""
        reading = b.with_input(self._input(b.with_input(raw_input)))
        matched, next_state = self._choices(reading)
        # A matched rule's Assign replaces the state's, which applies only to Default.
        assign = self._assign if matched is None else self._choice_assigns[matched]
        assigned = None if assign is None else assign(reading)
        return next_state, self._output(reading), assigned

    def wait(self, raw_input: JSON, b: Bindings, now: float) -> tuple[float, JSON, Assigned]:
        """The delay in seconds, the output and the assigned variables of a Wait."""
        if self._passes_input:  # no InputPath, OutputPath or Assign: the input passes on
            return self._delay(b.with_input(raw_input), now), raw_input, None
        effective, output, assigned = self._filtered(raw_input, b)
        return self._delay(b.with_input(effective), now), output, assigned

    def fail(self, raw_input: JSON, b: Bindings) -> tuple[str | None, str | None]:
        """A Fail state's Error and Cause."""
        reading = b.with_input(raw_input)
        return self._error(reading), self._cause(reading)

    # --- Task, Map ------------------------------------------------------------------------

    def timeouts(self, raw_input: JSON, b: Bindings) -> tuple[int | None, int | None]:
        """TimeoutSeconds and HeartbeatSeconds of a Task, static or from paths."""
        if self._static_timeouts is not None:
            return self._static_timeouts
        reading = b.with_input(self._input(b.with_input(raw_input)))
        return self._timeout(reading), self._heartbeat(reading)

    def items(self, raw_input: JSON, b: Bindings) -> tuple[JSON, list[JSON]]:
        """A Map's effective input and the items ItemsPath selects from it."""
        effective = self._input(b.with_input(raw_input))
        items = self._items_path(b.with_input(effective))
        if not isinstance(items, list):
            raise StatesError(
                RUNTIME,
                f'Unable to apply step "{self._items_text}" to input; the value '
                f"{json_text(items)} is not an array",
            )
        return effective, items

    def item_input(self, effective: JSON, item: JSON, index: int, b: Bindings) -> JSON:
        """One iteration's input: ItemSelector (reading ``$$.Map.Item``), else the item."""
        if self._item_selector is None:
            return item
        return self._item_selector(b.with_input(effective))

    def max_concurrency(self, effective: JSON, b: Bindings) -> int:
        """MaxConcurrency, static or from MaxConcurrencyPath (0 means no limit)."""
        return self._concurrency(b.with_input(effective))


# --- per-type set-up ------------------------------------------------------------------------


def _setup_none(flow: JsonPathFlow, state: m.State) -> None:
    return None


def _setup_choice(flow: JsonPathFlow, state: m.State) -> None:
    assert isinstance(state, m.Choice)
    flow._choices = compile_choices(state.choices, state.default)
    flow._choice_assigns = [_optional_assign(rule.assign) for rule in state.choices]
    flow.trivial = False


def _setup_wait(flow: JsonPathFlow, state: m.State) -> None:
    assert isinstance(state, m.Wait)
    flow.trivial = False
    if state.seconds is not None:
        # Checked when the state runs, as SecondsPath is: the definition is valid
        # (Seconds up to 99999999), only its run fails.
        seconds = int(state.seconds)
        flow._delay = lambda b, now: check_delay(seconds)
    elif state.seconds_path is not None:
        path = state.seconds_path
        select = compile_path_field(path, "SecondsPath")
        flow._delay = lambda b, now: seconds_from_path(path, _read(select, b, path, "Seconds"))
    elif state.timestamp is not None:
        stamp = state.timestamp
        flow._delay = lambda b, now: delay_until(None, stamp, now)
    else:
        path = state.timestamp_path or "$"
        select = compile_path_field(path, "TimestampPath")
        flow._delay = lambda b, now: delay_until(path, _read(select, b, path, "Timestamp"), now)


def _read(select: Callable[[Bindings], Any], b: Bindings, path: str, field: str) -> Any:
    try:
        return select(b)
    except StatesError:
        raise StatesError(
            RUNTIME, f"The {field}Path parameter does not reference an input value: {path}"
        ) from None


def _setup_fail(flow: JsonPathFlow, state: m.State) -> None:
    assert isinstance(state, m.Fail)
    flow._error = _static_or_dynamic(state.error, state.error_path, "ErrorPath")
    flow._cause = _static_or_dynamic(state.cause, state.cause_path, "CausePath")


def _static_or_dynamic(
    static: str | None, dynamic: str | None, field: str
) -> Callable[[Bindings], Any]:
    if dynamic is None:
        return lambda b: static
    return compile_value(field, dynamic)


def _setup_task(flow: JsonPathFlow, state: m.State) -> None:
    assert isinstance(state, m.Task)
    flow.trivial = False
    flow._timeout = _seconds_field(state.timeout_seconds, state.timeout_seconds_path, "Timeout")
    flow._heartbeat = _seconds_field(
        state.heartbeat_seconds, state.heartbeat_seconds_path, "Heartbeat"
    )
    flow._static_timeouts = None
    if state.timeout_seconds_path is None and state.heartbeat_seconds_path is None:
        # Read without the effective input: the Task's Parameters read it first, so an
        # InputPath that fails has failed there already.
        timeout = _static_seconds(state.timeout_seconds)
        flow._static_timeouts = (timeout, _static_seconds(state.heartbeat_seconds))


def _static_seconds(static: int | str | None) -> int | None:
    return static if isinstance(static, int) else None


def _seconds_field(
    static: int | str | None, path: str | None, name: str
) -> Callable[[Bindings], int | None]:
    if path is None:
        value = _static_seconds(static)
        return lambda b: value
    select = compile_path_field(path, f"{name}SecondsPath")

    def read(b: Bindings) -> int:
        value = select(b)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise StatesError(
                RUNTIME,
                f"The {name}SecondsPath parameter does not reference a positive integer: "
                f"{path} == {json_text(value)}",
            )
        return value

    return read


def _setup_parallel(flow: JsonPathFlow, state: m.State) -> None:
    flow.trivial = False


def _setup_map(flow: JsonPathFlow, state: m.State) -> None:
    assert isinstance(state, m.Map)
    flow.trivial = False
    flow._items_text = state.items_path
    flow._items_path = compile_path_field(state.items_path, "ItemsPath")
    flow._item_selector = (
        None
        if state.item_selector is m.MISSING
        else compile_parameters(state.item_selector, "ItemSelector")
    )
    flow._concurrency = _concurrency(state)
    flow.map_fields = compile_map_fields(state)  # Distributed Map fields


def _concurrency(state: m.Map) -> Callable[[Bindings], int]:
    path = state.max_concurrency_path
    if path is None:
        limit = state.max_concurrency if isinstance(state.max_concurrency, int) else 0
        return lambda b: limit
    select = compile_path_field(path, "MaxConcurrencyPath")

    def read(b: Bindings) -> int:
        value = select(b)
        number = path_number(value)
        if not isinstance(number, int) or number < 0:
            raise not_a_number("MaxConcurrency", value, path)
        return number

    return read


_TYPE_SETUP: dict[str, Callable[[JsonPathFlow, m.State], None]] = {
    "Pass": _setup_none,
    "Succeed": _setup_none,
    "Choice": _setup_choice,
    "Wait": _setup_wait,
    "Fail": _setup_fail,
    "Task": _setup_task,
    "Parallel": _setup_parallel,
    "Map": _setup_map,
}
