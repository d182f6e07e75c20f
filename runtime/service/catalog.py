"""The API's bookkeeping: what AWS keeps about state machines, their versions and
aliases, activities, tags, executions' origins and the client tokens of their redrives,
beside what the engine runs.

:class:`Catalog` is the interface the operations use; :class:`MemoryCatalog` keeps it all
in this process, ``runtime.service.sqlite_catalog.SqliteCatalog`` in a SQLite file.
Records are frozen: an update puts a new record in place of the old.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "REDRIVE_TOKENS_KEPT",
    "ActivityRecord",
    "AliasRecord",
    "Catalog",
    "ExecutionOrigin",
    "MachineRecord",
    "MemoryCatalog",
    "RedriveToken",
    "Target",
    "VersionRecord",
]


@dataclass(frozen=True, slots=True)
class MachineRecord:
    """A state machine as DescribeStateMachine describes it (its latest revision)."""

    arn: str
    name: str
    type: str
    definition: str
    role_arn: str
    created: float
    revision_id: str | None = None
    updated: float | None = None
    #: The number of the last version published (numbers are never given twice).
    last_version: int = 0
    logging: dict[str, Any] = field(
        default_factory=lambda: {"level": "OFF", "includeExecutionData": False}
    )
    tracing: dict[str, Any] = field(default_factory=lambda: {"enabled": False})


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """A published version: an immutable copy of a revision, ``<machine ARN>:<number>``."""

    arn: str
    machine_arn: str
    number: int
    definition: str
    role_arn: str
    created: float
    revision_id: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class AliasRecord:
    """An alias, ``<machine ARN>:<name>``, routing executions to one or two versions."""

    arn: str
    machine_arn: str
    name: str
    routing: tuple[tuple[str, int], ...]  # (version ARN, weight)
    created: float
    updated: float | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ActivityRecord:
    """An activity created with CreateActivity."""

    arn: str
    name: str
    created: float


@dataclass(frozen=True, slots=True)
class Target:
    """What an execution runs: a machine's latest revision, a version, or the version an
    alias picked (the machine as it was when the execution started)."""

    record: MachineRecord
    definition: str
    role_arn: str
    revision_id: str | None
    version_arn: str | None = None
    alias_arn: str | None = None

    @property
    def key(self) -> str:
        """What its compiled machine is cached under."""
        return self.version_arn or self.record.arn


@dataclass(frozen=True, slots=True)
class ExecutionOrigin:
    """What an execution was started from."""

    execution_arn: str
    target: Target


#: How many of an execution's RedriveExecution client tokens are kept: AWS's API reference
#: (RedriveExecution, clientToken) answers idempotently "for the last 10 client tokens
#: used to successfully redrive the execution".
REDRIVE_TOKENS_KEPT = 10


@dataclass(frozen=True, slots=True)
class RedriveToken:
    """A client token that redrove an execution, and how: RedriveExecution's answer to a
    repeated call with it."""

    execution_arn: str
    token: str
    redrive_date: float
    #: When it was first used (epoch seconds).
    used: float


class Catalog(Protocol):
    """Where the API keeps its bookkeeping."""

    def machine(self, arn: str) -> MachineRecord | None:
        """The state machine of that (unqualified) ARN."""
        ...

    def machines(self) -> list[MachineRecord]:
        """Every state machine, by ARN."""
        ...

    def put_machine(self, record: MachineRecord) -> None:
        """Create or replace a state machine."""
        ...

    def delete_machine(self, arn: str) -> None:
        """Forget a state machine with its versions, aliases and tags."""
        ...

    def version(self, arn: str) -> VersionRecord | None:
        """A published version by its ARN."""
        ...

    def versions(self, machine_arn: str) -> list[VersionRecord]:
        """The versions of a machine, the newest first."""
        ...

    def put_version(self, record: VersionRecord) -> None:
        """Record a published version."""
        ...

    def delete_version(self, arn: str) -> None:
        """Forget a version."""
        ...

    def alias(self, arn: str) -> AliasRecord | None:
        """An alias by its ARN."""
        ...

    def aliases(self, machine_arn: str) -> list[AliasRecord]:
        """The aliases of a machine, by name."""
        ...

    def put_alias(self, record: AliasRecord) -> None:
        """Create or replace an alias."""
        ...

    def delete_alias(self, arn: str) -> None:
        """Forget an alias."""
        ...

    def activity(self, arn: str) -> ActivityRecord | None:
        """An activity by its ARN."""
        ...

    def activities(self) -> list[ActivityRecord]:
        """Every activity, by ARN."""
        ...

    def put_activity(self, record: ActivityRecord) -> None:
        """Create an activity."""
        ...

    def delete_activity(self, arn: str) -> None:
        """Forget an activity and its tags."""
        ...

    def tags(self, arn: str) -> dict[str, str]:
        """A resource's tags (empty when it has none)."""
        ...

    def set_tags(self, arn: str, tags: dict[str, str]) -> None:
        """Replace a resource's tags."""
        ...

    def origin(self, execution_arn: str) -> ExecutionOrigin | None:
        """What an execution was started from."""
        ...

    def origin_key(self, aim: Target) -> str | None:
        """What an execution started from ``aim`` keeps in its own stored row, where this
        catalog reads its origin from (``Machine.start``'s ``origin``); None for a catalog
        that keeps each origin itself."""
        ...

    def put_origin(self, origin: ExecutionOrigin) -> None:
        """Record what an execution was started from (where :meth:`origin_key` gave a key,
        what the execution's row names by it)."""
        ...

    def origin_committed(self, origin: ExecutionOrigin) -> None:
        """The transaction in which ``origin`` was put (a start's) was committed."""
        ...

    def put_start(self, machine_arn: str, execution_arn: str, start_date: float) -> None:
        """Record that an execution of a machine started (kept where the catalog is the
        only list of them: executions on Temporal)."""
        ...

    def starts(
        self, machine_arn: str, limit: int, after: tuple[float, int] | None = None
    ) -> list[tuple[str, tuple[float, int]]]:
        """Up to ``limit`` executions :meth:`put_start` recorded for a machine, newest
        first, each with its place in that order (a start date, then the order they were
        recorded in); ``after`` a place, those that follow it."""
        ...

    def redrive_token(self, execution_arn: str, token: str) -> RedriveToken | None:
        """The redrive an execution's client token made, if it is one of those kept."""
        ...

    def put_redrive_token(self, record: RedriveToken) -> None:
        """Keep a client token that redrove an execution (and only the execution's latest
        :data:`REDRIVE_TOKENS_KEPT`)."""
        ...

    def close(self) -> None:
        """Release what it holds (a file)."""
        ...


class MemoryCatalog:
    """A :class:`Catalog` in this process's memory."""

    def __init__(self) -> None:
        self._machines: dict[str, MachineRecord] = {}
        self._versions: dict[str, VersionRecord] = {}
        self._aliases: dict[str, AliasRecord] = {}
        self._activities: dict[str, ActivityRecord] = {}
        self._tags: dict[str, dict[str, str]] = {}
        self._origins: dict[str, ExecutionOrigin] = {}
        self._redrive_tokens: dict[str, list[RedriveToken]] = {}
        self._starts: dict[str, list[tuple[float, int, str]]] = {}

    def machine(self, arn: str) -> MachineRecord | None:
        """The state machine of that (unqualified) ARN."""
        return self._machines.get(arn)

    def machines(self) -> list[MachineRecord]:
        """Every state machine, by ARN."""
        return sorted(self._machines.values(), key=lambda record: record.arn)

    def put_machine(self, record: MachineRecord) -> None:
        """Create or replace a state machine."""
        self._machines[record.arn] = record

    def delete_machine(self, arn: str) -> None:
        """Forget a state machine with its versions, aliases and tags."""
        self._machines.pop(arn, None)
        self._tags.pop(arn, None)
        for table in (self._versions, self._aliases):
            for key in [k for k, v in table.items() if v.machine_arn == arn]:
                del table[key]

    def version(self, arn: str) -> VersionRecord | None:
        """A published version by its ARN."""
        return self._versions.get(arn)

    def versions(self, machine_arn: str) -> list[VersionRecord]:
        """The versions of a machine, the newest first."""
        found = [v for v in self._versions.values() if v.machine_arn == machine_arn]
        return sorted(found, key=lambda version: -version.number)

    def put_version(self, record: VersionRecord) -> None:
        """Record a published version."""
        self._versions[record.arn] = record

    def delete_version(self, arn: str) -> None:
        """Forget a version."""
        self._versions.pop(arn, None)

    def alias(self, arn: str) -> AliasRecord | None:
        """An alias by its ARN."""
        return self._aliases.get(arn)

    def aliases(self, machine_arn: str) -> list[AliasRecord]:
        """The aliases of a machine, by name."""
        found = [a for a in self._aliases.values() if a.machine_arn == machine_arn]
        return sorted(found, key=lambda alias: alias.name)

    def put_alias(self, record: AliasRecord) -> None:
        """Create or replace an alias."""
        self._aliases[record.arn] = record

    def delete_alias(self, arn: str) -> None:
        """Forget an alias."""
        self._aliases.pop(arn, None)

    def activity(self, arn: str) -> ActivityRecord | None:
        """An activity by its ARN."""
        return self._activities.get(arn)

    def activities(self) -> list[ActivityRecord]:
        """Every activity, by ARN."""
        return sorted(self._activities.values(), key=lambda record: record.arn)

    def put_activity(self, record: ActivityRecord) -> None:
        """Create an activity."""
        self._activities[record.arn] = record

    def delete_activity(self, arn: str) -> None:
        """Forget an activity and its tags."""
        self._activities.pop(arn, None)
        self._tags.pop(arn, None)

    def tags(self, arn: str) -> dict[str, str]:
        """A resource's tags (empty when it has none)."""
        return dict(self._tags.get(arn, {}))

    def set_tags(self, arn: str, tags: dict[str, str]) -> None:
        """Replace a resource's tags."""
        self._tags[arn] = dict(tags)

    def origin(self, execution_arn: str) -> ExecutionOrigin | None:
        """What an execution was started from."""
        return self._origins.get(execution_arn)

    def origin_key(self, aim: Target) -> None:
        """None: each origin is kept here."""
        return None

    def put_origin(self, origin: ExecutionOrigin) -> None:
        """Record what an execution was started from."""
        self._origins[origin.execution_arn] = origin

    def origin_committed(self, origin: ExecutionOrigin) -> None:
        """Nothing to do: nothing is written."""

    def put_start(self, machine_arn: str, execution_arn: str, start_date: float) -> None:
        """Record that an execution of a machine started."""
        starts = self._starts.setdefault(machine_arn, [])
        starts.append((start_date, len(starts), execution_arn))

    def starts(
        self, machine_arn: str, limit: int, after: tuple[float, int] | None = None
    ) -> list[tuple[str, tuple[float, int]]]:
        """Executions of a machine, newest first, from ``after`` on."""
        newest_first = sorted(self._starts.get(machine_arn, []), reverse=True)
        found = [(arn, (date, seq)) for date, seq, arn in newest_first]
        return [item for item in found if after is None or item[1] < after][:limit]

    def redrive_token(self, execution_arn: str, token: str) -> RedriveToken | None:
        """The redrive an execution's client token made, if it is one of those kept."""
        kept = self._redrive_tokens.get(execution_arn, [])
        return next((record for record in kept if record.token == token), None)

    def put_redrive_token(self, record: RedriveToken) -> None:
        """Keep a client token that redrove an execution (and only the execution's latest
        :data:`REDRIVE_TOKENS_KEPT`)."""
        kept = self._redrive_tokens.setdefault(record.execution_arn, [])
        kept[:] = [*(r for r in kept if r.token != record.token), record][-REDRIVE_TOKENS_KEPT:]

    def close(self) -> None:
        """Nothing to release."""
