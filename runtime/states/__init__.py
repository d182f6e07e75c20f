"""One handler per state type: ``async def run(state, raw_input, frame, entered_event)``.

:data:`STEPS` is the table an execution runs with (``Run.steps``): built here, once, in
plain sight; nothing registers itself on import.
"""

from __future__ import annotations

from collections.abc import Mapping

from runtime.frame import Step
from runtime.interpreter import step
from runtime.states import choice, flow_states, map_state, parallel, task, wait

__all__ = ["STEPS"]

STEPS: Mapping[str, Step] = {
    "Pass": step("Pass", flow_states.run_pass),
    "Succeed": step("Succeed", flow_states.run_succeed),
    "Fail": step("Fail", flow_states.run_fail),
    "Choice": step("Choice", choice.run),
    "Wait": step("Wait", wait.run),
    "Task": step("Task", task.run),
    "Parallel": step("Parallel", parallel.run),
    "Map": step("Map", map_state.run),
}
