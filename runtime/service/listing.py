"""ListExecutions' pages, whichever backend holds the executions: each listed execution
in the API's shape, a page of a list in memory, or a page read from an ordered source a
page at a time from the place its ``nextToken`` names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from runtime.service.catalog import ExecutionOrigin
from runtime.service.executions_backend import Listed, StartedFrom, Summarized
from runtime.service.paging import page, page_size, place_token, token_place

__all__ = ["Place", "Rows", "listed", "listed_page", "stored_page", "summary"]

#: A place in an order kept outside memory: a start time, then a row number.
Place = tuple[float, int]
#: Up to ``limit`` executions after a place (None: from the newest), each with its place.
Rows = Callable[[int, Place | None], Awaitable[Sequence[tuple[Summarized, Place]]]]


def summary(run: Summarized, machine_arn: str, origin: ExecutionOrigin | None) -> dict[str, Any]:
    """What DescribeExecution and ListExecutions both say of an execution."""
    answer: dict[str, Any] = {
        "executionArn": run.arn,
        "stateMachineArn": machine_arn,
        "name": run.name,
        "status": run.status,
        "startDate": run.start_time,
    }
    if run.stop_time is not None:
        answer["stopDate"] = run.stop_time
    aim = None if origin is None else origin.target
    if aim is not None and aim.version_arn is not None:
        answer["stateMachineVersionArn"] = aim.version_arn
    if aim is not None and aim.alias_arn is not None:
        answer["stateMachineAliasArn"] = aim.alias_arn
    return answer


def listed(run: Summarized, machine_arn: str, origin: ExecutionOrigin | None) -> dict[str, Any]:
    """An execution as ListExecutions lists it."""
    answer = {**summary(run, machine_arn, origin), "redriveCount": run.redrive_count}
    if run.redrive_date is not None:
        answer["redriveDate"] = run.redrive_date
    return answer


def listed_page(items: Sequence[Listed], body: dict[str, Any]) -> dict[str, Any]:
    """The page ``body`` asks for of executions listed in memory."""
    shown, more = page(items, body)
    return {"executions": [listed(*item) for item in shown], **more}


async def stored_page(
    rows: Rows, body: dict[str, Any], started_from: StartedFrom
) -> dict[str, Any]:
    """A page of executions read from ``rows`` a page at a time from the place the
    ``nextToken`` names: the rows of one page (and one more, to know whether another
    follows) when every one read is wanted; for a version or an alias, as many more as
    those started otherwise."""
    size = page_size(body)
    place = token_place(body)
    found: list[tuple[Listed, Place]] = []
    while len(found) <= size:
        wanted = size + 1 - len(found)
        read = await rows(wanted, place)
        for row, place in read:
            item = started_from(row)
            if item is not None:
                found.append((item, place))
        if len(read) < wanted:  # no more rows
            break
    more = {"nextToken": place_token(found[size - 1][1], body)} if len(found) > size else {}
    return {"executions": [listed(*item) for item, _ in found[:size]], **more}
