"""One handler per state type: ``async def run(state, raw_input, frame, entered_event)``.

Importing this package registers them with :mod:`runtime.interpreter`.
"""

from __future__ import annotations

from runtime.interpreter import HANDLERS
from runtime.states import choice, flow_states, map_state, parallel, task, wait

HANDLERS.update(
    {
        "Pass": flow_states.run_pass,
        "Succeed": flow_states.run_succeed,
        "Fail": flow_states.run_fail,
        "Choice": choice.run,
        "Wait": wait.run,
        "Task": task.run,
        "Parallel": parallel.run,
        "Map": map_state.run,
    }
)
