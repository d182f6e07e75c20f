"""Finding what an ARN names: an execution (a Standard one, or a Map Run's child), a Map
Run. Those of a running execution are in the engine's memory; those of an ended one, on a
durable engine, are read back with it from its database."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from runtime.executions import Execution
from runtime.service.arns import parse_arn
from runtime.service.backend import Backend
from runtime.service.errors import ExecutionDoesNotExist, ResourceNotFound
from runtime.states.map_run import ChildRecord, MapRunRecord

__all__ = ["Run", "execution", "map_run", "map_run_of"]

#: An execution the API describes: a Standard one, or a Map Run's child.
Run = Execution | ChildRecord


def execution(backend: Backend, text: str) -> Run:
    """A Standard execution, or a Map Run's child execution, by ARN: ``InvalidArn`` for
    another kind of ARN (an Express execution's), ``ExecutionDoesNotExist`` for none."""
    arn = parse_arn(text, "execution")
    found = backend.engine.get_execution(arn.text) or _child_execution(backend, arn.text)
    if found is None:
        raise ExecutionDoesNotExist(arn.text)
    return found


def map_run(backend: Backend, text: str) -> MapRunRecord:
    """A Map Run by ARN; ``ResourceNotFound`` when there is none."""
    arn = parse_arn(text, "mapRun")
    for run in _all_map_runs(backend, arn.text):
        if run.arn == arn.text:
            return run
    raise ResourceNotFound(arn.text)


def map_run_of(backend: Backend, arn: str) -> MapRunRecord | None:
    """The Map Run that started the child execution ``arn``; None for another execution."""
    machine = arn.split(":execution:", 1)[-1].split(":", 1)[0]
    if "/" not in machine:  # a Map Run's children run ``<machine>/<label>``
        return None
    for run in _all_map_runs(backend, arn):
        if any(child.arn == arn for child in run.executions):
            return run
    return None


def _child_execution(backend: Backend, arn: str) -> ChildRecord | None:
    run = map_run_of(backend, arn)
    return None if run is None else next(c for c in run.executions if c.arn == arn)


def _map_runs(runs: Iterable[MapRunRecord]) -> Iterator[MapRunRecord]:
    """Map Runs and, depth first, those their children started."""
    for run in runs:
        yield run
        for child in run.executions:
            yield from _map_runs(child.map_runs)


def _all_map_runs(backend: Backend, arn: str) -> Iterator[MapRunRecord]:
    """The Map Runs of the executions in memory, then those stored with the ended execution
    that ``arn`` (a Map Run's, or a child execution's) belongs to."""
    engine = backend.engine
    for execution in engine.executions():
        yield from _map_runs(execution.map_runs)
    owner = None if engine.store is None else engine.store.map_run_owner(arn)
    ended = None if owner is None else engine.get_execution(owner)
    if ended is not None:
        yield from _map_runs(ended.map_runs)
