"""The pytest plugin's ``asl_engine`` on the Temporal backend: the examples' tests run
unchanged on both backends (``examples/conftest.py``).

:class:`TemporalWorkflowEngine` is a :class:`~runtime.testing.WorkflowEngine` whose runs
are workflows on the session's dev server, seeded and on the virtual clock as the local
runs are, their Tasks answered on the test worker by the functions and mocks the test
registered (the same invoker a local run has). A run returns an :class:`EndedOnTemporal`:
the execution as DescribeExecution and GetExecutionHistory tell it, read back into what
the ``assert_*`` helpers and the plugin's failure report read of a local execution.
"""

from __future__ import annotations

import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from asl.jsontext import parse_json
from asl.loader import Source, file_machine_name
from asl.model import StateMachine
from runtime.history import Event, read_event
from runtime.host import SEEDED_START
from runtime.lifecycle import MachineType
from runtime.summary import StateSummary, summarize
from runtime.testing import WorkflowEngine
from runtime.testing.local import DEFAULT_MACHINE_NAME
from tests.temporal.backend import Backend


@dataclass(frozen=True, slots=True)
class MachineName:
    """What an ended execution on Temporal tells of its state machine."""

    name: str


@dataclass(slots=True)
class EndedOnTemporal:
    """An ended execution on Temporal, with the attributes of a local one that tests read."""

    arn: str
    name: str
    machine: MachineName
    input: Any
    status: str
    output: Any
    error: str | None
    cause: str | None
    start_time: float
    stop_time: float | None
    path: list[str]
    history: list[Event]
    map_runs: list[Any] = field(default_factory=list)

    @classmethod
    def read(cls, described: dict[str, Any], history: dict[str, Any]) -> EndedOnTemporal:
        """From the workflow's description and the execution's AWS history."""
        output = described["output"]
        return cls(
            described["executionArn"], described["name"],
            MachineName(described["stateMachineArn"].rsplit(":", 1)[-1]),
            parse_json(described["input"]), described["status"],
            None if output is None else parse_json(output), described["error"],
            described["cause"], described["startDate"], described["stopDate"],
            described["path"], [read_event(event) for event in history["events"]],
        )  # fmt: skip

    @property
    def states(self) -> dict[str, StateSummary]:
        """What each state did (see :attr:`runtime.executions.Execution.states`)."""
        return summarize(self.history, self.status)

    def history_json(self) -> dict[str, Any]:
        """The history as ``GetExecutionHistory`` returns it."""
        return {"events": [event.to_aws() for event in self.history]}


class TemporalWorkflowEngine(WorkflowEngine):
    """``asl_engine`` whose runs are executions on ``backend`` (see the module's docstring)."""

    def __init__(self, backend: Backend, *, seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.backend = backend

    def _complete(self, work: Coroutine[Any, Any, Any]) -> Any:
        return self.backend.run(work)

    async def _run(  # type: ignore[override]
        self,
        definition: Source | StateMachine,
        input: Any,
        name: str | None,
        state_machine_name: str | None,
        test_case: str | None,
        type: MachineType,
    ) -> EndedOnTemporal:
        if isinstance(definition, StateMachine):
            raise TypeError("a run on Temporal takes a definition (a file, text or document)")
        machine_name = state_machine_name or file_machine_name(definition) or DEFAULT_MACHINE_NAME
        executions = self.backend.executions
        workflow_id = f"example-{uuid.uuid4()}"
        self.backend.routed.invokers[workflow_id] = self.invoker_for(machine_name, test_case)
        try:
            await executions.start(
                definition, input, name=name, state_machine_name=machine_name, type=type,
                workflow_id=workflow_id, seed=self.seed, clock="virtual", start=SEEDED_START,
            )  # fmt: skip
            described = await executions.wait(workflow_id)
            ended = EndedOnTemporal.read(described, await executions.history(workflow_id))
        finally:
            del self.backend.routed.invokers[workflow_id]
        self.executions.append(ended)  # type: ignore[arg-type]
        self.definitions[ended.arn] = definition
        return ended

    def close(self) -> None:
        """Close the integrations, on the worker's loop that ran them."""
        if self._engine is not None:
            self.backend.run(self._engine.aclose())
            self._engine = None
