"""What every operation of the API shares: the engine that runs executions, the catalog
of what AWS keeps beside them, the task tokens and activities, the compiled machines and
the MockConfigFile test cases executions were started with."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from integrations.mocks import MockCases
from runtime.activities import Activities
from runtime.clock import RealClock
from runtime.executions import Engine, Machine, MachineType
from runtime.service.catalog import Catalog, MachineRecord
from runtime.service.definitions import compile_definition
from runtime.service.errors import StateMachineDoesNotExist
from runtime.tokens import TaskTokens

__all__ = ["Backend", "Operation"]

#: One operation: the request's members in, the response's members out.
Operation = Callable[["Backend", dict[str, Any]], Awaitable[dict[str, Any]]]


class Backend:
    """The engine and the bookkeeping the operations work on."""

    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        tokens: TaskTokens,
        *,
        mock_cases: MockCases | None = None,
        activity_poll_seconds: float = 60.0,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.tokens = tokens
        # Workers poll in real time whatever the engine's clock: on a virtual clock a
        # 60-second poll would end at once, and workers would spin.
        self.activities = Activities(
            tokens, RealClock(), region=engine.region, account=engine.account
        )
        self.activity_poll_seconds = activity_poll_seconds
        self.mock_cases = mock_cases
        #: Picks an alias's version by weight (routing, not data: no need to be seeded).
        self.random = random.Random()
        self._compiled: dict[tuple[str, str, str], Machine] = {}
        self._background: set[asyncio.Task[None]] = set()

    def background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` on the event loop, kept until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def now(self) -> float:
        """The engine's time, in epoch seconds: every date the API answers."""
        return self.engine.host.now()

    def new_id(self) -> str:
        """A fresh UUID (revision ids, execution names)."""
        return self.engine.host.new_uuid()

    def arn(self, kind: str, name: str) -> str:
        """The ARN of a resource of this region and account."""
        return f"arn:aws:states:{self.engine.region}:{self.engine.account}:{kind}:{name}"

    def machine_record(self, arn: str) -> MachineRecord:
        """The state machine of an unqualified ARN; ``StateMachineDoesNotExist`` if none."""
        record = self.catalog.machine(arn)
        if record is None:
            raise StateMachineDoesNotExist(arn)
        return record

    def machine(self, record: MachineRecord, definition: str, role_arn: str, key: str) -> Machine:
        """The engine's machine for a definition of ``record`` (a revision or a version
        named by ``key``), compiled once."""
        cache_key = (key, definition, role_arn)
        machine = self._compiled.get(cache_key)
        if machine is None:
            model = compile_definition(definition, record.type)
            machine_type: MachineType = "EXPRESS" if record.type == "EXPRESS" else "STANDARD"
            machine = self.engine.create_state_machine(
                model, name=record.name, type=machine_type, role_arn=role_arn, text=definition
            )
            self._compiled = {k: v for k, v in self._compiled.items() if k[0] != key}
            self._compiled[cache_key] = machine
        return machine

    def forget_machine(self, key: str) -> None:
        """Drop the compiled machines of a deleted machine or version."""
        self._compiled = {k: v for k, v in self._compiled.items() if k[0] != key}
