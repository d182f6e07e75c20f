"""A synchronous engine for tests (the pytest plugin's ``asl_engine``): on the virtual clock
with a seed, local functions and mocks registered as the test goes, executions run to
their end with one call, every execution kept for the failure report and coverage."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from asl.loader import Source, Substitutions, file_machine_name, read_document
from asl.model import StateMachine
from integrations.base import Invoker, TaskRequest
from integrations.functions_file import load_functions_file
from integrations.lambdas import LocalFunctions
from integrations.mocks import MockCases, MockConfig, MockInvoker, SingleMock
from integrations.shapes import FieldValidationMode
from runtime.executions import Engine, Execution, MachineType
from runtime.testing.local import DEFAULT_MACHINE_NAME, MockSource, local_engine

__all__ = ["WorkflowEngine"]

_NO_MOCK_CONFIG = "a test case needs a mock config: call mock_config() first"


class _TestInvoker:
    """Single mocks by state name first, then the chosen MockConfigFile test case of the
    execution, then the real integrations."""

    def __init__(self, fallback: Invoker) -> None:
        self.fallback = fallback
        self.single: dict[str, SingleMock] = {}
        self.cases: MockCases | None = None

    async def invoke(self, request: TaskRequest) -> Any:
        mock = self.single.get(request.state_name)
        if mock is not None:
            return await mock.invoke(request)
        if self.cases is not None:
            return await self.cases.invoke(request)
        return await self.fallback.invoke(request)


class WorkflowEngine:
    """Runs workflows in a test: ``run(definition, input)`` returns the ended execution.

    The engine is built at the first run, on the virtual clock with ``seed`` (so runs
    repeat to the byte) and its own event loop; :meth:`close` stops it. Register local
    functions with :meth:`function`, a MockConfigFile with :meth:`mock_config` (then pick
    a test case per run), or a TestState-style mock of one state with :meth:`mock`.
    Further ``engine_options`` go to :func:`runtime.testing.local_engine`."""

    def __init__(self, *, seed: int = 0, **engine_options: Any) -> None:
        self.seed = seed
        #: Every execution run so far, in order.
        self.executions: list[Execution] = []
        #: The definition each execution ran (by execution ARN), placeholders filled.
        self.definitions: dict[str, Source | StateMachine] = {}
        self._functions = LocalFunctions()
        self._options = engine_options
        self._config: MockConfig | None = None
        self._invoker: _TestInvoker | None = None
        self._single: dict[str, SingleMock] = {}
        self._engine: Engine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def function(self, name: str, handler: Callable[..., Any], **options: Any) -> None:
        """Serve the Lambda function ``name`` (a name or ARN) with a Python handler
        (``handler(event, context)``); ``options`` as ``LocalFunctions.register`` takes."""
        self._functions.register(name, handler, **options)

    def functions(self, source: Mapping[str, Callable[..., Any]] | str | os.PathLike[str]) -> None:
        """Register several functions: a name -> handler mapping, or a functions file (as
        ``asl run --functions`` reads it, each function with its settings)."""
        if not isinstance(source, str | os.PathLike):
            for name, handler in source.items():
                self.function(name, handler)
            return
        for loaded in load_functions_file(source).functions.values():
            self._functions.register(
                loaded.name,
                loaded.handler,
                timeout=loaded.timeout,
                memory=loaded.memory,
                environment=loaded.environment,
                reserved_concurrency=loaded.reserved_concurrency,
                isolation=loaded.isolation,
            )

    def mock_config(self, source: MockSource) -> None:
        """Use a Step Functions Local MockConfigFile (path, document or ``MockConfig``):
        a run given ``test_case`` answers that case's mocked states."""
        self._config = source if isinstance(source, MockConfig) else MockConfig.load(source)
        if self._invoker is not None:
            self._invoker.cases = MockCases(self._config, self._invoker.fallback)

    def mock(
        self,
        state_name: str,
        *,
        result: Any = None,
        error: str | None = None,
        cause: str | None = None,
        field_validation_mode: FieldValidationMode = "NONE",
    ) -> None:
        """Answer every invocation of the Task state ``state_name`` (in any machine) as
        TestState's ``mock`` does: with ``result``, or failing with ``error`` and ``cause``.
        Fields are not checked against the API's shapes unless ``field_validation_mode``
        says so (``STRICT`` or ``PRESENT``), as a test usually mocks only what it reads."""
        if error is not None:
            single = SingleMock(
                error_output={"error": error, "cause": cause},
                field_validation_mode=field_validation_mode,
            )
        else:
            single = SingleMock(result=result, field_validation_mode=field_validation_mode)
        self._single[state_name] = single

    @property
    def engine(self) -> Engine:
        """The underlying :class:`~runtime.Engine` (built on first use)."""
        if self._engine is None:
            self._engine = local_engine(
                functions=self._functions,
                seed=self.seed,
                wrap_invoker=self._wrap,
                **self._options,
            )
        return self._engine

    def _wrap(self, fallback: Invoker) -> Invoker:
        self._invoker = _TestInvoker(fallback)
        self._invoker.single = self._single
        if self._config is not None:
            self._invoker.cases = MockCases(self._config, fallback)
        return self._invoker

    def invoker_for(self, state_machine_name: str, test_case: str | None = None) -> Invoker:
        """What answers the Tasks of one run of ``state_machine_name`` (with ``test_case``
        of the mock config) when they run on another backend's worker: the single mocks,
        then the test case's mocked states, then the integrations."""
        self.engine  # noqa: B018  (builds the integrations, and so self._invoker)
        assert self._invoker is not None
        invoker = _TestInvoker(self._invoker.fallback)
        invoker.single = self._single
        if test_case is not None:
            if self._config is None:
                raise ValueError(_NO_MOCK_CONFIG)
            invoker.fallback = MockInvoker(
                self._config, state_machine_name, test_case, self._invoker.fallback
            )
        return invoker

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the engine runs on."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    def run(
        self,
        definition: Source | StateMachine,
        input: Any = None,
        *,
        name: str | None = None,
        state_machine_name: str | None = None,
        test_case: str | None = None,
        type: MachineType = "STANDARD",
        substitutions: Substitutions | None = None,
    ) -> Execution:
        """Run an execution to its end and return it. The machine's name defaults to the
        definition file's name, as in ``asl run``; ``test_case`` picks the MockConfigFile
        test case of that machine; ``substitutions`` fill the definition's ``${Name}``
        placeholders (see ``asl.load``)."""
        if substitutions and not isinstance(definition, StateMachine):
            machine_name = state_machine_name or file_machine_name(definition)
            definition = read_document(definition, substitutions).value
            state_machine_name = machine_name
        return self._complete(
            self._run(definition, input, name, state_machine_name, test_case, type)
        )

    def _complete(self, work: Coroutine[Any, Any, Execution]) -> Execution:
        """Run ``work`` to its end (on the engine's loop; another backend's, overridden)."""
        return self.loop.run_until_complete(work)

    async def _run(
        self,
        definition: Source | StateMachine,
        input: Any,
        name: str | None,
        state_machine_name: str | None,
        test_case: str | None,
        type: MachineType,
    ) -> Execution:
        machine_name = state_machine_name or file_machine_name(definition) or DEFAULT_MACHINE_NAME
        machine = self.engine.create_state_machine(definition, name=machine_name, type=type)
        execution = await machine.start(input, name=name)
        self.executions.append(execution)
        self.definitions[execution.arn] = definition
        if test_case is not None:
            assert self._invoker is not None
            if self._invoker.cases is None:
                raise ValueError(_NO_MOCK_CONFIG)
            self._invoker.cases.choose(execution.arn, machine_name, test_case)
        return await execution.wait()

    def close(self) -> None:
        """Stop the engine (worker processes of local functions) and its event loop."""
        if self._loop is None:
            return
        if self._engine is not None:
            self._loop.run_until_complete(self._engine.aclose())
        self._loop.close()
        self._loop = None
