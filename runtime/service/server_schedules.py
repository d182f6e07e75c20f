"""The schedules of a running server (``asl serve --schedules FILE``): read with the
server's region and account, the state machines of definition-file targets created, and
a :class:`~runtime.service.schedules.Scheduler` on the engine's clock starting executions
through StartExecution's own code, so they are listed, described and have histories like
any other. Its state lives in the server's database (``ServiceSettings.db``).

Under ``--clock virtual`` time jumps to the next timer as soon as every strand is parked,
so a recurring schedule (``rate()``, ``cron()``) would start executions without end as
fast as the machine allows. AWS has no virtual time to copy; such a server is refused
(``SettingsError``), while one-time ``at()`` schedules and disabled schedules are served.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from asl.diagnostics import DefinitionError
from asl.jsontext import JSON, json_text
from asl.loader import read_document
from runtime import executions as engine_executions
from runtime.service.backend import Backend
from runtime.service.errors import (
    ExecutionAlreadyExists,
    InvalidDefinition,
    StateMachineAlreadyExists,
)
from runtime.service.machines import create_state_machine, update_state_machine
from runtime.service.runs import start_execution
from runtime.service.schedule_entries import Schedule, read_schedules
from runtime.service.schedules import Scheduler, StartExecution
from runtime.service.settings import ServiceSettings, SettingsError

__all__ = ["read_server_schedules", "serving_schedules"]


def read_server_schedules(settings: ServiceSettings) -> list[Schedule]:
    """The schedules of ``settings.schedules`` (none without a file); raises the
    schedules file's errors, and ``SettingsError`` for recurring schedules on a virtual
    clock."""
    if settings.schedules is None:
        return []
    schedules = read_schedules(settings.schedules, region=settings.region, account=settings.account)
    recurring = [s.name for s in schedules if s.enabled and not s.one_time]
    if settings.clock == "virtual" and recurring:
        raise SettingsError(
            f"{settings.schedules}: recurring schedules cannot run on the virtual clock "
            f"({', '.join(map(repr, recurring))}): its time would run through their fires "
            "without end; serve them with --clock real, or use at() schedules"
        )
    return schedules


@asynccontextmanager
async def serving_schedules(
    backend: Backend, settings: ServiceSettings
) -> AsyncIterator[Scheduler | None]:
    """Fire the server's schedules (if any) while the block runs: the target machines
    made from definition files first, then the scheduler (given to the block, None
    without schedules), stopped at the end. Raises
    ``SettingsError`` for a definition file that is not a valid state machine and
    ``ScheduleStoreError`` for a database that cannot be used."""
    schedules = read_server_schedules(settings)
    if not schedules:
        yield None
        return
    await _create_target_machines(backend, schedules)
    scheduler = Scheduler(
        schedules,
        _starter(backend),
        backend.engine.host.clock,
        settings.db,
        region=settings.region,
        account=settings.account,
    )
    scheduler.start()
    try:
        yield scheduler
    finally:
        await scheduler.stop()


async def _create_target_machines(backend: Backend, schedules: Sequence[Schedule]) -> None:
    """Each definition-file target as a Standard state machine named after its file (as
    CreateStateMachine would make it); one already there with another definition (a file
    edited since a durable server last ran) is updated to the file's. Two files of one
    name would make one machine of two definitions: ``SettingsError``."""
    files: dict[str, Path] = {}
    for schedule in schedules:
        file = schedule.target.definition
        if file is None:
            continue
        name = schedule.target.machine_arn.rsplit(":", 1)[1]
        if files.setdefault(name, file).resolve() != file.resolve():
            raise SettingsError(
                f"schedule {schedule.name!r}: {file} and {files[name]} would both be the "
                f"state machine {name!r}: rename one"
            )
        try:
            definition = json_text(read_document(file).value)
            request = {"name": name, "definition": definition, "roleArn": _role(backend, name)}
            try:
                await create_state_machine(backend, request)
            except StateMachineAlreadyExists:
                update = {"stateMachineArn": schedule.target.machine_arn, "definition": definition}
                await update_state_machine(backend, update)
        except (InvalidDefinition, OSError, ValueError) as exc:
            where = "" if isinstance(exc, DefinitionError) else f"{file}: "  # it names the file
            said = exc.message if isinstance(exc, InvalidDefinition) else str(exc)
            raise SettingsError(f"schedule {schedule.name!r}: {where}{said}") from None


def _role(backend: Backend, name: str) -> str:
    """The role a machine made from a file is given: the console's default role name."""
    return f"arn:aws:iam::{backend.engine.account}:role/service-role/StepFunctions-{name}"


def _starter(backend: Backend) -> StartExecution:
    async def start(machine_arn: str, value: JSON, name: str) -> str:
        request = {"stateMachineArn": machine_arn, "input": json_text(value), "name": name}
        try:
            return str((await start_execution(backend, request))["executionArn"])
        except ExecutionAlreadyExists as exc:
            # The scheduler counts the engine's error as a start made already.
            raise engine_executions.ExecutionAlreadyExists(str(exc)) from None

    return start
