"""The timeline of an execution: one row per state visit, a bar from entry to exit.

Bars are placed on the execution's clock. When the history carries no usable time (every
event at the same instant, as under a virtual clock), they are placed by event order
instead, and the axis says so. Failed attempts that were retried are ticks on the bar;
Wait states are hatched.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from visualizer import labels
from visualizer.trace import FAILURE_EVENTS, Trace, Visit, event_time

#: Rows drawn before the rest are counted (a big Map would make the page unusable).
MAX_ROWS = 2000
#: Narrowest bar, in percent of the axis, so an instant state is still visible.
MIN_WIDTH = 0.4


def timeline_html(trace: Trace, node_ids: Mapping[str, str]) -> str:
    """The timeline section's HTML: an axis caption and one row per visit."""
    if not trace.visits:
        return '<p class="empty">No state was entered.</p>'
    axis = _Axis(trace)
    rows = [_row(visit, axis, node_ids) for visit in trace.visits[:MAX_ROWS]]
    hidden = len(trace.visits) - MAX_ROWS
    if hidden > 0:
        rows.append(f'<p class="more">… and {hidden} more visits</p>')
    return f'<p class="axis">{escape(axis.caption)}</p><div class="timeline">{"".join(rows)}</div>'


class _Axis:
    """Where an event sits on the timeline, in percent."""

    def __init__(self, trace: Trace) -> None:
        self.order = {id(event): i for i, event in enumerate(trace.events)}
        self.span = len(trace.events) - 1 or 1
        duration = trace.duration
        self.by_time = bool(duration) and trace.start is not None
        self.start = trace.start or 0.0
        self.duration = duration or 1.0
        if self.by_time:
            self.caption = f"Time from the start: 0 to {labels.duration_text(self.duration)}"
        else:
            self.caption = "Events in order (the history has no elapsed time to show)"

    def at(self, event: Mapping[str, Any]) -> float:
        if self.by_time:
            moment = event_time(event)
            if moment is not None:
                return _clamp((moment - self.start) / self.duration * 100)
        return _clamp(self.order.get(id(event), 0) / self.span * 100)


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 100.0)


def _row(visit: Visit, axis: _Axis, node_ids: Mapping[str, str]) -> str:
    left = axis.at(visit.entered)
    last = visit.exited or visit.events[-1]
    right = axis.at(last) if (visit.exited or visit.aborted or visit.status != "running") else 100
    width = max(right - left, MIN_WIDTH)
    left = min(left, 100 - width)
    ticks = "".join(
        f'<span class="tick" style="left:{axis.at(e):.2f}%"></span>'
        for e in visit.events
        if e["type"] in FAILURE_EVENTS
    )
    name = escape(visit.name)
    if visit.iteration is not None:
        name += f' <span class="index">[{visit.iteration}]</span>'
    duration = labels.duration_text(visit.duration) if visit.duration is not None else ""
    hover = f"{visit.name}: {visit.status}"
    if visit.retries:
        hover += f", {visit.retries} retries"
    if visit.error:
        hover += f" ({visit.error})"
    kind = " wait" if visit.state_type == "Wait" else ""
    node = node_ids.get(visit.node, "") if visit.node is not None else ""
    return (
        f'<div class="row status-{visit.status}" data-node="{node}" title="{escape(hover)}">'
        f'<div class="name" style="padding-left:{visit.depth * 14 + 4}px">{name}</div>'
        f'<div class="track"><div class="bar{kind}" style="left:{left:.2f}%;width:{width:.2f}%">'
        f"</div>{ticks}</div>"
        f'<div class="dur">{escape(duration)}</div></div>'
    )
