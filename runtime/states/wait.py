"""Wait: sleeps on the Host's clock for a number of seconds or until a timestamp."""

from __future__ import annotations

from typing import Any

from asl import model as m
from asl.errors import StatesError
from runtime.frame import Frame
from runtime.interpreter import Outcome, evaluation_error


async def run(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Wait, then pass the (filtered) input on."""
    host = frame.run.host
    try:
        delay, output, assigned = state.flow.wait(raw_input, frame.bindings(state), host.now())
    except StatesError as error:
        raise evaluation_error(error, state, frame, entered) from None
    await host.sleep(delay)
    return output, state.next, assigned
