"""An execution as its database row tells it: what DescribeExecution and ListExecutions
read of one a durable engine no longer holds in memory (it ended, or another engine on
the file runs it), with nothing else built to answer them (no ``Run``, no machine; its
history is read by :meth:`runtime.executions.Engine.get_execution`'s execution)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asl.jsontext import parse_json
from runtime.store.executions import ExecutionRow

__all__ = ["StoredExecution", "stored_value"]


@dataclass(frozen=True, slots=True)
class StoredExecution:
    """The stored execution ``row``; its input and output parsed when read."""

    row: ExecutionRow

    @property
    def arn(self) -> str:
        """Its ARN."""
        return self.row.arn

    @property
    def name(self) -> str:
        """Its name."""
        return self.row.name

    @property
    def status(self) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED, as last committed."""
        return self.row.status

    @property
    def state_machine_arn(self) -> str:
        """The ARN of the machine it is an execution of."""
        return self.row.machine_arn

    @property
    def start_time(self) -> float:
        """When it started (epoch seconds)."""
        return self.row.start_time

    @property
    def stop_time(self) -> float | None:
        """When it ended, if it did."""
        return self.row.stop_time

    @property
    def redrive_count(self) -> int:
        """How many times it was redriven."""
        return self.row.redrive_count

    @property
    def redrive_date(self) -> float | None:
        """When it was last redriven, if it was."""
        return self.row.redrive_date

    @property
    def input(self) -> Any:
        """Its input (a JSON value)."""
        return stored_value(self.row.input)

    @property
    def output(self) -> Any:
        """Its output (a JSON value; None until it succeeded)."""
        return None if self.row.output is None else stored_value(self.row.output)

    @property
    def error(self) -> str | None:
        """Its error, if it failed."""
        return self.row.error

    @property
    def cause(self) -> str | None:
        """Its cause, if it failed."""
        return self.row.cause


def stored_value(text: str) -> Any:
    """A stored input or output; text that is not JSON (a damaged row) is shown as the
    JSON string of what is stored, so the execution can still be read."""
    try:
        return parse_json(text)
    except ValueError:
        return text
