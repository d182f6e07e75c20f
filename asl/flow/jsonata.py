"""The data flow of a JSONata state: Arguments, Output and Assign, and the fields that
may be ``{% %}`` expressions (Wait's Seconds/Timestamp, Task timeouts, Fail's Error and
Cause, Map's Items, ItemSelector and MaxConcurrency)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asl import model as m
from asl.bindings import Bindings
from asl.choice import compile_choices
from asl.errors import QUERY_EVALUATION_ERROR, StatesError
from asl.flow.map_fields import compile_map_fields
from asl.flow.protocol import Assigned, MapFields
from asl.flow.sizes import child_growth, jsonata_growth
from asl.flow.waiting import check_delay, delay_until_computed
from asl.jsonata import compile_expression, compile_jsonata_template, is_expression
from asl.jsontext import JSON, json_text
from asl.variables import compile_assign

_Eval = Callable[[Bindings], Any]

# States whose ``$states.result`` is the result of their work.
_HAS_RESULT = frozenset({"Task", "Map", "Parallel"})


def _template(value: Any, field: str) -> _Eval | None:
    return None if value is m.MISSING else compile_jsonata_template(value, field)


def _assign(value: Any, field: str = "Assign") -> _Eval | None:
    return None if value is m.MISSING else compile_assign(value, "JSONata", field)


def _number(value: Any, field: str, expected: str = "integer") -> _Eval:
    """A field holding a number or a ``{% %}`` expression that must yield one."""
    if is_expression(value):
        return compile_expression(value, field, expected)
    return lambda b: value


def _with_result(b: Bindings, raw_input: Any, result: Any) -> Bindings:
    return type(b)(raw_input, b.context, b.variables, result, None, True, False, b.entropy)


def _with_error(b: Bindings, raw_input: Any, error_output: Any) -> Bindings:
    return type(b)(raw_input, b.context, b.variables, None, error_output, False, True, b.entropy)


class JsonataFlow:
    """A JSONata state's compiled flow: a :class:`~asl.flow.protocol.StateFlow`."""

    _choices: Callable[[Bindings], tuple[int | None, str]]
    _rule_outputs: list[tuple[_Eval | None, _Eval | None]]
    _seconds: _Eval | None
    _timestamp: _Eval | None
    _error: _Eval | None
    _cause: _Eval | None
    _timeout: _Eval | None
    _heartbeat: _Eval | None
    _items: _Eval | None
    _item_selector: _Eval | None
    _concurrency: _Eval

    def __init__(self, state: m.State, *, uses_context: bool) -> None:
        self.uses_context = uses_context
        self.map_fields: MapFields | None = None  # set for a Distributed Map
        #: Bounds on the size of the output and of a child's input (see asl.flow.sizes).
        self.growth = jsonata_growth(state)
        self.child_growth = child_growth(state)
        self._arguments = _template(getattr(state, "arguments", m.MISSING), "Arguments")
        self._output = _template(state.output, "Output")
        self._assign = _assign(state.assign)
        self._has_result = state.type in _HAS_RESULT
        self._catchers = [
            (_template(c.output, "Output"), _assign(c.assign)) for c in getattr(state, "catch", ())
        ]
        self.trivial = (
            state.type in ("Pass", "Succeed") and self._output is None and self._assign is None
        )
        _TYPE_SETUP[state.type](self, state)

    def prepare(self, raw_input: JSON, b: Bindings) -> JSON:
        """Arguments (reading ``$states.input``), else the state input."""
        if self._arguments is None:
            return raw_input
        return self._arguments(b.with_input(raw_input))

    def pass_result(self, payload: JSON) -> JSON:
        """A Pass state has no result of its own: its input."""
        return payload

    def finish(self, raw_input: JSON, result: JSON, b: Bindings) -> tuple[JSON, Assigned]:
        """Assign and Output, both reading the variables as they were at entry."""
        reading = (
            _with_result(b, raw_input, result) if self._has_result else b.with_input(raw_input)
        )
        assigned = None if self._assign is None else self._assign(reading)
        output = result if self._output is None else self._output(reading)
        return output, assigned

    def catch(
        self, index: int, raw_input: JSON, error_output: JSON, b: Bindings
    ) -> tuple[JSON, Assigned]:
        """A Catcher's Output (default: the Error Output) and Assign."""
        output_of, assign = self._catchers[index]
        reading = _with_error(b, raw_input, error_output)
        assigned = None if assign is None else assign(reading)
        return (error_output if output_of is None else output_of(reading)), assigned

    def succeed(self, raw_input: JSON, b: Bindings) -> JSON:
        """Succeed's Output, else its input."""
        return raw_input if self._output is None else self._output(b.with_input(raw_input))

    def choose(self, raw_input: JSON, b: Bindings) -> tuple[str, JSON, Assigned]:
        """The next state; a matched rule's Output/Assign replace the state's."""
        reading = b.with_input(raw_input)
        matched, next_state = self._choices(reading)
        output_of, assign = (
            (self._output, self._assign) if matched is None else self._rule_outputs[matched]
        )
        assigned = None if assign is None else assign(reading)
        return next_state, (raw_input if output_of is None else output_of(reading)), assigned

    def _plain(self, raw_input: JSON, b: Bindings) -> tuple[JSON, Assigned]:
        reading = b.with_input(raw_input)
        assigned = None if self._assign is None else self._assign(reading)
        return (raw_input if self._output is None else self._output(reading)), assigned

    def wait(self, raw_input: JSON, b: Bindings, now: float) -> tuple[float, JSON, Assigned]:
        """The delay, the output and the assigned variables of a Wait."""
        reading = b.with_input(raw_input)
        if self._seconds is not None:
            delay = check_delay(self._seconds(reading))
        else:
            assert self._timestamp is not None
            delay = delay_until_computed(self._timestamp(reading), now)
        output, assigned = self._plain(raw_input, b)
        return delay, output, assigned

    def fail(self, raw_input: JSON, b: Bindings) -> tuple[str | None, str | None]:
        """Fail's Error and Cause, static or computed."""
        reading = b.with_input(raw_input)
        error = None if self._error is None else self._error(reading)
        cause = None if self._cause is None else self._cause(reading)
        return error, cause

    def timeouts(self, raw_input: JSON, b: Bindings) -> tuple[int | None, int | None]:
        """TimeoutSeconds and HeartbeatSeconds of a Task."""
        reading = b.with_input(raw_input)
        timeout = None if self._timeout is None else self._timeout(reading)
        heartbeat = None if self._heartbeat is None else self._heartbeat(reading)
        return timeout, heartbeat

    def items(self, raw_input: JSON, b: Bindings) -> tuple[JSON, list[JSON]]:
        """The Map's items: Items (default: the state input, which must be an array)."""
        if self._items is None:
            return raw_input, _input_items(raw_input)
        return raw_input, self._items(b.with_input(raw_input))

    def item_input(self, effective: JSON, item: JSON, index: int, b: Bindings) -> JSON:
        """ItemSelector (reading ``$states.context.Map.Item``), else the item."""
        if self._item_selector is None:
            return item
        return self._item_selector(b.with_input(effective))

    def max_concurrency(self, effective: JSON, b: Bindings) -> int:
        """MaxConcurrency, static or computed (0 means no limit)."""
        return int(self._concurrency(b.with_input(effective)))


def _input_items(raw_input: Any) -> list[Any]:
    """Without Items, the state input itself, which must be an array (recorded: localstack
    test_base_scenarios test_map_state_items_input_types; the error names no field)."""
    if isinstance(raw_input, list):
        return raw_input
    raise StatesError(
        QUERY_EVALUATION_ERROR, f"Map state input must be an array but was: {json_text(raw_input)}"
    )


def _setup_none(flow: JsonataFlow, state: m.State) -> None:
    return None


def _setup_choice(flow: JsonataFlow, state: m.State) -> None:
    assert isinstance(state, m.Choice)
    flow._choices = compile_choices(state.choices, state.default)
    flow._rule_outputs = [(_template(r.output, "Output"), _assign(r.assign)) for r in state.choices]
    flow.trivial = False


def _setup_wait(flow: JsonataFlow, state: m.State) -> None:
    assert isinstance(state, m.Wait)
    flow.trivial = False
    flow._seconds = None if state.seconds is None else _number(state.seconds, "Seconds")
    flow._timestamp = (
        None if state.timestamp is None else _number(state.timestamp, "Timestamp", "string")
    )


def _setup_fail(flow: JsonataFlow, state: m.State) -> None:
    assert isinstance(state, m.Fail)
    flow._error = None if state.error is None else _number(state.error, "Error", "string")
    flow._cause = None if state.cause is None else _number(state.cause, "Cause", "string")


def _setup_task(flow: JsonataFlow, state: m.State) -> None:
    assert isinstance(state, m.Task)
    flow.trivial = False
    flow._timeout = (
        None if state.timeout_seconds is None else _number(state.timeout_seconds, "TimeoutSeconds")
    )
    flow._heartbeat = (
        None
        if state.heartbeat_seconds is None
        else _number(state.heartbeat_seconds, "HeartbeatSeconds")
    )


def _setup_parallel(flow: JsonataFlow, state: m.State) -> None:
    flow.trivial = False


def _setup_map(flow: JsonataFlow, state: m.State) -> None:
    assert isinstance(state, m.Map)
    flow.trivial = False
    # A literal array may hold expressions of its own, evaluated like a template's.
    flow._items = (
        None
        if state.items is m.MISSING
        else (
            compile_expression(state.items, "Items", "array")
            if is_expression(state.items)
            else compile_jsonata_template(state.items, "Items")
        )
    )
    flow._item_selector = _template(state.item_selector, "ItemSelector")
    flow._concurrency = _number(state.max_concurrency, "MaxConcurrency")
    flow.map_fields = compile_map_fields(state)  # Distributed Map fields


_TYPE_SETUP: dict[str, Callable[[JsonataFlow, m.State], None]] = {
    "Pass": _setup_none,
    "Succeed": _setup_none,
    "Choice": _setup_choice,
    "Wait": _setup_wait,
    "Fail": _setup_fail,
    "Task": _setup_task,
    "Parallel": _setup_parallel,
    "Map": _setup_map,
}
