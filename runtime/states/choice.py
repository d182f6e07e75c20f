"""Choice: picks the next state by the first rule that matches."""

from __future__ import annotations

from typing import Any

from asl import model as m
from asl.errors import StatesError
from asl.limits import Overrun
from runtime.evaluation import evaluate_on_a_thread, evaluation_error
from runtime.frame import Frame
from runtime.interpreter import Outcome


async def run(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Evaluate the rules; no match and no Default is ``States.NoChoiceMatched``."""
    choose, b = state.flow.choose, frame.bindings(state)
    try:
        next_state, output, assigned = choose(raw_input, b)
    except Overrun:
        next_state, output, assigned = await evaluate_on_a_thread(
            state, frame, entered, choose, raw_input, b
        )
    except StatesError as error:
        raise evaluation_error(error, state, frame, entered) from None
    return output, next_state, assigned
