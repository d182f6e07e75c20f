"""Finding what an ARN names, wherever the executions live: an execution (a Standard one,
or a Map Run's child), a Map Run. The ARN is checked first (``InvalidArn``), then asked
of the backend's :class:`~runtime.service.executions_backend.ExecutionsBackend`."""

from __future__ import annotations

from runtime.service.arns import parse_arn
from runtime.service.backend import Backend
from runtime.service.errors import ExecutionDoesNotExist
from runtime.service.executions_backend import ExecutionView
from runtime.states.map_run import MapRunRecord

__all__ = ["execution", "map_run"]


async def execution(backend: Backend, text: str) -> ExecutionView:
    """A Standard execution, or a Map Run's child execution, by ARN: ``InvalidArn`` for
    another kind of ARN (an Express execution's), ``ExecutionDoesNotExist`` for none."""
    arn = parse_arn(text, "execution")
    found = await backend.executions.find(arn.text)
    if found is None:
        raise ExecutionDoesNotExist(arn.text)
    return found


async def map_run(backend: Backend, text: str) -> MapRunRecord:
    """A Map Run by ARN; ``ResourceNotFound`` when there is none."""
    return await backend.executions.map_run(parse_arn(text, "mapRun").text)
