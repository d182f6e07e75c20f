"""The Schedules page: each schedule of ``asl serve --schedules`` with its expression, time
zone, state and target, its next fire times, and the runs it started lately with their
executions' status. Read from the scheduler's overview (its read-only interface)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from runtime.service.console import reads
from runtime.service.console.context import Context
from runtime.service.console.html import link, page, table, url
from runtime.service.console.html import status as status_badge
from runtime.service.schedule_entries import Schedule
from runtime.service.schedule_overview import Fired, ScheduleOverview
from runtime.store import ApiError

__all__ = ["schedules"]

#: How many next fire times each schedule shows.
_UPCOMING = 5


async def schedules(ctx: Context) -> str:
    """Every schedule the server serves (a line saying so when it serves none)."""
    reader = ctx.console.schedules
    if reader is None:
        note = '<p class="muted">This server runs no schedules (asl serve --schedules FILE).</p>'
        return page("Schedules", note)
    rows = [await _row(ctx, shown) for shown in reader.overview(_UPCOMING)]
    headers = ["Name", "Expression", "Time zone", "State", "Target", "Next runs", "Last runs"]
    return page("Schedules", table(headers, rows))


async def _row(ctx: Context, shown: ScheduleOverview) -> list[str]:
    schedule = shown.schedule
    target = schedule.target.machine_arn
    name = escape(schedule.name)
    if schedule.group != "default":
        name += f'<br><small class="muted">group {escape(schedule.group)}</small>'
    state = "ENABLED" if schedule.enabled else "DISABLED"
    upcoming = "<br>".join(_when(moment, schedule) for moment in shown.upcoming)
    fired = "<br>".join([await _fired(ctx, one) for one in shown.fired])
    return [
        name,
        f'<code class="nowrap">{escape(schedule.expression_text)}</code>',
        escape(schedule.timezone),
        f'<span class="schedule-{state}">{state}</span>',
        link(url("/console/machine", arn=target), target.split(":stateMachine:", 1)[-1]),
        upcoming or '<span class="muted">-</span>',
        fired or '<span class="muted">none yet</span>',
    ]


def _when(moment: int, schedule: Schedule) -> str:
    """A fire time in UTC, and on the schedule's own clock when that is another."""
    text = _utc(moment)
    if schedule.timezone != "UTC":
        local = f"{datetime.fromtimestamp(moment, schedule.zone):%Y-%m-%d %H:%M:%S}"
        text += f' <small class="muted">({local} local)</small>'
    return f'<span class="nowrap">{text}</span>'


def _utc(moment: int) -> str:
    """A whole second (schedules fire on them) as UTC text."""
    return f"{datetime.fromtimestamp(moment, UTC):%Y-%m-%d %H:%M:%S}Z"


async def _fired(ctx: Context, fired: Fired) -> str:
    """One handled fire: its time, linked to its execution, with the execution's status."""
    when = _utc(fired.scheduled)
    if fired.execution_arn is None:
        return f'{escape(when)} <span class="muted">{escape(fired.problem or "")}</span>'
    try:
        status = status_badge((await reads.describe(ctx, fired.execution_arn))["status"])
    except ApiError as error:  # an execution no longer kept (an Express one of a durable server)
        status = f'<span class="muted">{escape(error.code)}</span>'
    return f"{link(url('/console/execution', arn=fired.execution_arn), when)} {status}"
