"""Finding what an ARN names: an execution (a Standard one, or a Map Run's child), a Map
Run."""

from __future__ import annotations

from collections.abc import Iterator

from runtime.executions import Execution
from runtime.service.arns import parse_arn
from runtime.service.backend import Backend
from runtime.service.errors import ExecutionDoesNotExist, ResourceNotFound
from runtime.states.map_run import ChildExecution, MapRun

__all__ = ["Run", "execution", "map_run"]

#: An execution the API describes: a Standard one, or a Map Run's child.
Run = Execution | ChildExecution


def execution(backend: Backend, text: str) -> Run:
    """A Standard execution, or a Map Run's child execution, by ARN: ``InvalidArn`` for
    another kind of ARN (an Express execution's), ``ExecutionDoesNotExist`` for none."""
    arn = parse_arn(text, "execution")
    found = backend.engine.get_execution(arn.text) or _child_execution(backend, arn.text)
    if found is None:
        raise ExecutionDoesNotExist(arn.text)
    return found


def map_run(backend: Backend, text: str) -> MapRun:
    """A Map Run by ARN; ``ResourceNotFound`` when there is none."""
    arn = parse_arn(text, "mapRun")
    for run in _all_map_runs(backend):
        if run.arn == arn.text:
            return run
    raise ResourceNotFound(arn.text)


def _child_execution(backend: Backend, arn: str) -> ChildExecution | None:
    """A Map Run's child execution (its ARN names ``<machine>/<label>``)."""
    machine = arn.split(":execution:", 1)[-1].split(":", 1)[0]
    if "/" not in machine:
        return None
    for run in _all_map_runs(backend):
        for child in run.executions:
            if child.arn == arn:
                return child
    return None


def _map_runs(runs: list[MapRun]) -> Iterator[MapRun]:
    """Map Runs and, depth first, those their children started."""
    for run in runs:
        yield run
        for child in run.executions:
            yield from _map_runs(child.map_runs)


def _all_map_runs(backend: Backend) -> Iterator[MapRun]:
    for execution in backend.engine.executions():
        yield from _map_runs(execution.map_runs)
