"""Every example test runs in a fresh folder: the handlers write under ``out/`` relative
to the working folder, as they do under ``asl run``.

And every one runs on both backends: ``asl_engine`` is the pytest plugin's (the local
engine), or the same on Temporal (:class:`tests.temporal.workflow_engine.TemporalWorkflowEngine`,
on the session's dev server and test worker); ``-k temporal`` or ``-k local`` picks one.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.testing import WorkflowEngine
from tests.temporal.backend import BACKENDS
from tests.temporal.workflow_engine import TemporalWorkflowEngine


@pytest.fixture(autouse=True)
def _in_a_fresh_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Where the test's executions run: ``local`` or ``temporal``."""
    name: str = request.param
    return name


@pytest.fixture
def asl_engine(
    asl_engine: WorkflowEngine, backend: str, request: pytest.FixtureRequest
) -> Iterator[WorkflowEngine]:
    """The plugin's engine, or one on Temporal seeded as it is."""
    if backend == "local":
        yield asl_engine
        return
    engine = TemporalWorkflowEngine(request.getfixturevalue("temporal"), seed=asl_engine.seed)
    try:
        yield engine
    finally:
        engine.close()
