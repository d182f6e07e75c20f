"""Engines with local integrations (``local_engine``), and executions on them (``start``,
``run``): what ``runtime.testing`` exports.

This is the outer ring: it builds the integrations (local functions, mocks) and hands
them to an :class:`~runtime.executions.Engine`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from typing import Any, Literal

import asl
from asl.loader import Source, Substitutions, file_machine_name
from asl.model import StateMachine
from integrations.aws import AwsConfig
from integrations.aws import install as install_aws
from integrations.aws.resources import ResourcesSource, as_resources
from integrations.base import Invoker, Registry
from integrations.connections import ConnectionSource
from integrations.functions_file import load_functions_file
from integrations.http import HttpInvoke
from integrations.lambdas import LocalFunctions
from integrations.mocks import MockConfig, MockInvoker
from runtime.executions import Engine, Execution, Machine, MachineType
from runtime.host import LocalHost
from runtime.store import TaskRecord, TaskStore

#: The name of a state machine given no name and no file to take one from.
DEFAULT_MACHINE_NAME = "StateMachine"

__all__ = ["Execution", "local_engine", "run", "start"]

Functions = Mapping[str, Callable[..., Any]] | LocalFunctions | str | os.PathLike[str]
MockSource = str | os.PathLike[str] | Mapping[str, Any] | MockConfig


def _local_functions(functions: Functions | None) -> LocalFunctions:
    if functions is None:
        return LocalFunctions()
    if isinstance(functions, LocalFunctions):
        return functions
    if isinstance(functions, str | os.PathLike):
        return load_functions_file(functions)
    local = LocalFunctions()
    for name, handler in functions.items():
        local.register(name, handler)
    return local


def local_engine(
    *,
    functions: Functions | None = None,
    connections: ConnectionSource | None = None,
    aws: AwsConfig | None = None,
    resources: ResourcesSource | None = None,
    mock_config: MockSource | None = None,
    state_machine_name: str = DEFAULT_MACHINE_NAME,
    test_case: str | None = None,
    clock: Literal["virtual", "real"] = "virtual",
    seed: int | None = None,
    region: str = "us-east-1",
    account: str = "123456789012",
    task_store: TaskStore | None = None,
    external_answers: bool = False,
    on_task_waiting: Callable[[TaskRecord], None] | None = None,
    wrap_invoker: Callable[[Invoker], Invoker] | None = None,
    database: str | os.PathLike[str] | None = None,
) -> Engine:
    """An engine with local functions (a name -> handler mapping, a functions file, or a
    ``LocalFunctions``), the HTTP Task (with locally configured EventBridge
    ``connections``), the AWS service integrations (``aws``: where calls go; by default
    ``ASL_AWS_ENDPOINT_URL`` or a moto server embedded in this process; ``resources``: a
    resources file, document or ``AwsResources`` of queues, topics, tables, buckets and
    event buses created there before the first execution starts) and, when
    ``mock_config`` and ``test_case`` are given, the mocked responses of that test case
    (MockConfigFile format) in front of them.

    ``task_store`` shares waiting task tokens with other processes (``asl tasks``);
    with ``external_answers`` a token wait counts as work outside the clock, so virtual
    time stands still while a person answers. ``wrap_invoker`` puts an Invoker of the
    caller's in front of the integrations (the API server's per-execution mocks). With a
    ``database`` (a SQLite file), machines and executions are kept in it: ``await
    engine.recover()`` on a new engine resumes what a dead process left running (see
    :class:`runtime.Engine`)."""
    registry = Registry()
    local = _local_functions(functions)
    local.install(registry)
    HttpInvoke(connections).install(registry)
    aws_integrations = install_aws(registry, aws)
    declared = as_resources(resources) if resources is not None else None
    invoker: Invoker = registry
    if mock_config is not None:
        if test_case is None:
            raise ValueError("a mock config needs a test case name")
        config = (
            mock_config if isinstance(mock_config, MockConfig) else MockConfig.load(mock_config)
        )
        invoker = MockInvoker(config, state_machine_name, test_case, registry)
    if wrap_invoker is not None:
        invoker = wrap_invoker(invoker)
    host = LocalHost(
        clock=clock,
        invoker=invoker,
        seed=seed,
        task_store=task_store,
        external_answers=external_answers,
        on_task_waiting=on_task_waiting,
    )
    engine = Engine(host, region=region, account=account, database=database)
    engine.closers.append(local.aclose)
    if declared is not None:
        engine.openers.append(lambda: declared.create(aws_integrations.clients))
    return engine


async def start(
    definition: Source | StateMachine,
    input: Any = None,
    *,
    name: str | None = None,
    state_machine_name: str | None = None,
    type: MachineType = "STANDARD",
    role_arn: str | None = None,
    substitutions: Substitutions | None = None,
    engine: Engine | None = None,
    **engine_options: Any,
) -> Execution:
    """Start an execution of a definition and return it running (await ``.wait()``,
    then ``execution.machine.engine.aclose()`` to stop worker processes it started).

    ``substitutions`` fill the definition's ``${Name}`` placeholders, as SAM's
    DefinitionSubstitutions do (see ``asl.load``). The state machine's name (which also
    picks a mock config's ``StateMachines`` entry) defaults, as in ``asl run``, to a
    definition file's name without its extensions."""
    if state_machine_name is None:
        state_machine_name = file_machine_name(definition) or DEFAULT_MACHINE_NAME
    if substitutions and not isinstance(definition, StateMachine):
        definition = asl.load(definition, machine_type=type, substitutions=substitutions)
    if engine is None:
        engine = local_engine(state_machine_name=state_machine_name, **engine_options)
    machine: Machine = engine.create_state_machine(
        definition, name=state_machine_name, type=type, role_arn=role_arn
    )
    return await machine.start(input, name=name)


def run(definition: Source | StateMachine, input: Any = None, **options: Any) -> Execution:
    """Run an execution to its end (virtual time by default) and return it."""

    async def main() -> Execution:
        execution = await start(definition, input, **options)
        try:
            return await execution.wait()
        finally:
            await execution.machine.engine.aclose()

    return asyncio.run(main())
