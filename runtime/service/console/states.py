"""Each state's visits read from an execution's history: input, output, error and cause."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from runtime.service.console.html import json_block

__all__ = ["state_rows"]


def state_rows(events: Iterable[Mapping[str, Any]]) -> list[list[str]]:
    """One row of HTML cells per state entered: name, input, output, error, cause."""
    visits: list[dict[str, Any]] = []
    for event in events:
        details = _details(event)
        kind = event["type"]
        if kind.endswith("StateEntered"):
            visits.append({"name": details.get("name"), "input": details.get("input")})
        elif kind.endswith("StateExited"):
            visit = _open(visits, details.get("name"))
            if visit is not None:
                visit["output"] = details.get("output")
                visit["closed"] = True
        elif kind.endswith(("Failed", "TimedOut")) and visits:
            visits[-1].setdefault("error", details.get("error"))
            visits[-1].setdefault("cause", details.get("cause"))
    return [
        [
            escape(str(v["name"])),
            json_block(v.get("input")),
            json_block(v.get("output")),
            escape(v.get("error") or ""),
            f'<span class="long">{escape(v.get("cause") or "")}</span>',
        ]
        for v in visits
    ]


def _details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return value
    return {}


def _open(visits: list[dict[str, Any]], name: Any) -> dict[str, Any] | None:
    for visit in reversed(visits):
        if visit["name"] == name and not visit.get("closed"):
            return visit
    return None
