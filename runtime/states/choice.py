"""Choice: picks the next state by the first rule that matches."""

from __future__ import annotations

from typing import Any

from asl import model as m
from asl.errors import StatesError
from runtime.frame import Frame
from runtime.interpreter import Outcome, evaluation_error


async def run(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Evaluate the rules; no match and no Default is ``States.NoChoiceMatched``."""
    try:
        next_state, output, assigned = state.flow.choose(raw_input, frame.bindings(state))
    except StatesError as error:
        raise evaluation_error(error, state, frame, entered) from None
    return output, next_state, assigned
