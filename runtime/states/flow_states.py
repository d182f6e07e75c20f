"""Pass, Succeed and Fail: states that only move data (or end the scope)."""

from __future__ import annotations

from typing import Any

from asl import model as m
from asl.bindings import Bindings
from asl.errors import StatesError, capped
from asl.flow.protocol import Assigned, StateFlow
from asl.limits import Overrun
from runtime.evaluation import evaluate, evaluate_on_a_thread, evaluation_error
from runtime.frame import Frame
from runtime.interpreter import Outcome


async def run_pass(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Pass: Result (or the prepared input) through the state's output processing."""
    flow = state.flow
    if flow.trivial:
        return raw_input, state.next, None
    b = frame.bindings(state)
    try:
        output, assigned = _passed(flow, raw_input, b)
    except Overrun:
        output, assigned = await evaluate_on_a_thread(
            state, frame, entered, _passed, flow, raw_input, b
        )
    except StatesError as error:
        raise evaluation_error(error, state, frame, entered) from None
    return output, state.next, assigned


def _passed(flow: StateFlow, raw_input: Any, b: Bindings) -> tuple[Any, Assigned]:
    payload = flow.prepare(raw_input, b)
    return flow.finish(raw_input, flow.pass_result(payload), b)


async def run_succeed(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Succeed: ends the scope with its (filtered) input."""
    flow = state.flow
    if flow.trivial:
        return raw_input, None, None
    output = await evaluate(state, frame, entered, flow.succeed, raw_input, frame.bindings(state))
    return output, None, None


async def run_fail(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Fail: raises its Error and Cause (static, from paths, or JSONata)."""
    error, cause = await evaluate(
        state, frame, entered, state.flow.fail, raw_input, frame.bindings(state)
    )
    # ErrorPath/CausePath may select any text: cut to what AWS's events hold
    raise capped(StatesError(error, cause))  # type: ignore[arg-type]  # no Error: none recorded
