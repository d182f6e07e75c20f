"""What every operation of the API shares: where executions live (an
:class:`~runtime.service.executions_backend.ExecutionsBackend`), the catalog of what AWS
keeps beside them, the server's own engine (its clock and ids, TestState) and the
MockConfigFile test cases executions were started with."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

from integrations.mocks import MockCases
from runtime.executions import Engine
from runtime.service.catalog import Catalog, MachineRecord
from runtime.service.errors import StateMachineDoesNotExist
from runtime.service.executions_backend import ExecutionsBackend

__all__ = ["Backend", "Operation"]

#: One operation: the request's members in, the response's members out.
Operation = Callable[["Backend", dict[str, Any]], Awaitable[dict[str, Any]]]


class Backend:
    """The executions and the bookkeeping the operations work on. ``engine`` is the
    server's own: its Host gives every date and id the API answers and runs TestState;
    on the local backend it also runs the executions."""

    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        executions: ExecutionsBackend,
        *,
        mock_cases: MockCases | None = None,
        activity_poll_seconds: float = 60.0,
    ) -> None:
        self.engine = engine
        self.catalog = catalog
        self.executions = executions
        self.activity_poll_seconds = activity_poll_seconds
        self.mock_cases = mock_cases
        #: Picks an alias's version by weight (routing, not data: no need to be seeded).
        self.random = random.Random()

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

    def forget_machine(self, key: str) -> None:
        """Drop what the executions compiled of a deleted machine or version."""
        self.executions.forget_machine(key)
