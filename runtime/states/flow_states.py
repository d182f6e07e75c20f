"""Pass, Succeed and Fail: states that only move data (or end the scope)."""

from __future__ import annotations

from typing import Any

from asl import model as m
from asl.errors import StatesError, capped
from runtime.frame import Frame
from runtime.interpreter import Outcome, evaluation_error


async def run_pass(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Pass: Result (or the prepared input) through the state's output processing."""
    flow = state.flow
    if flow.trivial:
        return raw_input, state.next, None
    b = frame.bindings(state)
    try:
        payload = flow.prepare(raw_input, b)
        output, assigned = flow.finish(raw_input, flow.pass_result(payload), b)
    except StatesError as error:
        raise evaluation_error(error, state, frame, entered) from None
    return output, state.next, assigned


async def run_succeed(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Succeed: ends the scope with its (filtered) input."""
    flow = state.flow
    if flow.trivial:
        return raw_input, None, None
    try:
        output = flow.succeed(raw_input, frame.bindings(state))
    except StatesError as error:
        raise evaluation_error(error, state, frame, entered) from None
    return output, None, None


async def run_fail(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Fail: raises its Error and Cause (static, from paths, or JSONata)."""
    try:
        error, cause = state.flow.fail(raw_input, frame.bindings(state))
    except StatesError as failure:
        raise evaluation_error(failure, state, frame, entered) from None
    # ErrorPath/CausePath may select any text: cut to what AWS's events hold
    raise capped(StatesError(error, cause))  # type: ignore[arg-type]  # no Error: none recorded
