"""ListExecutions on ``asl serve --backend temporal``: every execution of a machine on the
namespace's task queue, whichever server started it, newest first.

Temporal's visibility finds them (each execution's workflow carries the search attributes
``AslStateMachineArn`` and ``AslStartedFrom``: :mod:`runtime.temporal.search_attributes`),
joined with the executions this server started (its catalog's list), which visibility,
eventually consistent, may not list yet a moment after their start. Visibility orders
running workflows first and closed ones by close time, while AWS lists by start date,
newest first: the executions are put in that order here, a page after the place its
``nextToken`` names (a start time, then a number drawn from the ARN for equal times).

An execution another server started has no origin in this server's catalog: it is given
one (:func:`adopt`) from its start request (its definition and role) and its search
attributes (the version or alias it was started from), with this catalog's record of its
machine (one ARN, one machine), before it is listed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from runtime.service.catalog import Catalog, ExecutionOrigin, Target
from runtime.service.listing import Place
from runtime.temporal.client import TemporalExecutions

__all__ = ["Started", "adopt", "newest_first"]

#: More executions than a machine will have: the catalog's list read to its end.
_ALL = 2**62


@dataclass(frozen=True, slots=True)
class Started:
    """An execution found for ListExecutions: its ARN, its place in the order, and the
    version and alias ARNs it was started from (as visibility told)."""

    arn: str
    place: Place
    started_from: tuple[str, ...] = ()


def _place(start: float, arn: str) -> Place:
    return start, zlib.crc32(arn.encode())


async def newest_first(
    executions: TemporalExecutions, catalog: Catalog, machine_arn: str, after: Place | None
) -> list[Started]:
    """The machine's executions after ``after`` (None: from the newest), newest first."""
    before = None if after is None else after[0]
    visible = await executions.started(machine_arn, before)
    found = {
        arn: Started(arn, _place(start, arn), tuple(versions))
        for arn, (start, versions) in visible.items()
    }
    # The catalog's own keyset (start, row) starts from just past ``after``'s time.
    own = catalog.starts(machine_arn, _ALL, None if before is None else (before + 1e-3, 0))
    for arn, (start, _) in own:
        found.setdefault(arn, Started(arn, _place(start, arn)))
    ordered = sorted(found.values(), key=lambda started: started.place, reverse=True)
    return [started for started in ordered if after is None or started.place < after]


async def adopt(
    executions: TemporalExecutions, catalog: Catalog, machine_arn: str, started: Started
) -> None:
    """Give an execution another server started an origin in this catalog (see the
    module's docstring); nothing when it has one, or the machine is unknown here."""
    record = catalog.machine(machine_arn)
    if record is None or catalog.origin(started.arn) is not None:
        return
    request = await executions.start_request(started.arn)
    versions = [arn for arn in started.started_from if arn.rsplit(":", 1)[-1].isdigit()]
    aliases = [arn for arn in started.started_from if arn not in versions]
    target = Target(
        record, request.definition, request.role_arn or record.role_arn, None,
        versions[0] if versions else None, aliases[0] if aliases else None,
    )  # fmt: skip
    catalog.put_origin(ExecutionOrigin(started.arn, target))
