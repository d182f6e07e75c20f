"""Wait: sleeps on the Host's clock for a number of seconds or until a timestamp."""

from __future__ import annotations

from typing import Any

from asl import model as m
from asl.errors import StatesError
from asl.limits import Overrun
from runtime.evaluation import evaluate_on_a_thread, evaluation_error
from runtime.frame import Frame
from runtime.interpreter import Outcome


async def run(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Wait, then pass the (filtered) input on."""
    host = frame.run.host
    flow = state.flow
    b = frame.bindings(state)
    now = host.now()
    # Called here, as Pass calls its flow: one call fewer per Wait than through evaluate.
    try:
        delay, output, assigned = flow.wait(raw_input, b, now)
    except Overrun:
        delay, output, assigned = await evaluate_on_a_thread(
            state, frame, entered, flow.wait, raw_input, b, now
        )
    except StatesError as error:
        raise evaluation_error(error, state, frame, entered) from None
    # "seconds from when the state begins" (docs.aws.amazon.com/step-functions/latest/dg/
    # state-wait.html): from the entry its WaitStateEntered records, not from after the
    # work done since (a virtual clock stands still meanwhile).
    entered_at = frame.run.history.timestamp(entered)
    await host.sleep(delay - (host.clock.now() - entered_at))
    return output, state.next, assigned
