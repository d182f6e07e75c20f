"""Wait: sleeps on the Host's clock for a number of seconds or until a timestamp."""

from __future__ import annotations

from typing import Any

from asl import model as m
from runtime.evaluation import evaluate
from runtime.frame import Frame
from runtime.interpreter import Outcome


async def run(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Wait, then pass the (filtered) input on."""
    host = frame.run.host
    delay, output, assigned = await evaluate(
        state, frame, entered, state.flow.wait, raw_input, frame.bindings(state), host.now()
    )
    # "seconds from when the state begins" (docs.aws.amazon.com/step-functions/latest/dg/
    # state-wait.html): from the entry its WaitStateEntered records, not from after the
    # work done since (a virtual clock stands still meanwhile).
    entered_at = frame.run.history.timestamp(entered)
    await host.sleep(delay - (host.clock.now() - entered_at))
    return output, state.next, assigned
