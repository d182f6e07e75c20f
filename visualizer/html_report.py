"""A self-contained HTML report of an execution: the trace picture, a timeline, the events.

Everything is inline (SVG, CSS, a few lines of JavaScript): the file opens offline and
can be attached to a ticket. Clicking an event shows its details (inputs and outputs as
indented JSON); clicking a state in the picture or the timeline highlights its events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from visualizer import describe, labels, styles
from visualizer.diagram import Diagram, load_diagram
from visualizer.dot import to_dot
from visualizer.layout import layout
from visualizer.timeline import timeline_html
from visualizer.trace import HistoryLike, Trace, build_trace, event_time

__all__ = ["html_report"]

#: Event detail fields that AWS returns as JSON text.
_JSON_FIELDS = ("input", "output", "parameters", "result")


def html_report(
    definition: object,
    history: Trace | HistoryLike | None = None,
    *,
    title: str | None = None,
    notes: Sequence[str] = (),
) -> str:
    """The HTML page of a definition (path, text, dict or Diagram) and, when a history is
    given, of that execution: its trace, timeline and events. ``notes``: lines of text
    shown under the heading, such as what the picture leaves out."""
    diagram = load_diagram(definition)  # type: ignore[arg-type]
    trace = history if isinstance(history, Trace) or history is None else None
    if history is not None and trace is None:
        trace = build_trace(diagram, history)  # type: ignore[arg-type]
    svg = _inline_svg(layout(to_dot(diagram, trace), "svg").decode())
    heading = title or diagram.machine.comment or ("Execution" if trace else "Workflow")
    body = [f"<header><h1>{escape(labels.shorten(heading, 140))}</h1>"]
    if trace is not None:
        body.append(_summary(trace))
    body.extend(f'<p class="note">{escape(note)}</p>' for note in notes)
    body.append("</header>")
    body.append(f'<section id="graph"><h2>Workflow</h2><div class="svg">{svg}</div></section>')
    if trace is not None:
        node_ids = {node: f"state-{i}" for i, node in enumerate(diagram.states)}
        timeline = timeline_html(trace, node_ids)
        body.append(f'<section id="timeline"><h2>Timeline</h2>{timeline}</section>')
        events = _events_table(trace, node_ids)
        body.append(f'<section id="events"><h2>Events</h2>{events}</section>')
    return _PAGE.format(
        title=escape(heading),
        css=_css(),
        body="\n".join(body),
        script=_SCRIPT,
        states=_states_json(diagram),
    )


def _inline_svg(svg: str) -> str:
    """SVG text fit to sit inside HTML: no XML declaration, DOCTYPE or comments."""
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return svg.strip()


def _states_json(diagram: Diagram) -> str:
    names = {f"state-{i}": state.name for i, state in enumerate(diagram.states.values())}
    return json.dumps(names, ensure_ascii=True).replace("</", "<\\/")


# --- the summary -----------------------------------------------------------------------


def _summary(trace: Trace) -> str:
    colour = {"SUCCEEDED": "succeeded", "FAILED": "failed", "TIMED_OUT": "failed"}.get(
        trace.status, "running" if trace.status == "RUNNING" else "aborted"
    )
    items = [f'<span class="badge status-{colour}">{escape(trace.status)}</span>']
    if trace.start is not None:
        items.append(f"started {escape(_clock(trace.start))}")
    if trace.duration is not None:
        items.append(f"took {escape(labels.duration_text(trace.duration))}")
    items.append(f"{len(trace.visits)} state visits, {len(trace.events)} events")
    out = f'<p class="summary">{" · ".join(items)}</p>'
    if trace.error is not None:
        cause = describe.cause_summary(trace.cause) if trace.cause else ""
        out += (
            f'<div class="failure"><b>{escape(trace.error)}</b>'
            f"{': ' + escape(cause) if cause else ''}</div>"
        )
    if trace.unknown_states:
        names = ", ".join(trace.unknown_states)
        out += (
            f'<p class="warning">States in the history but not in the definition: '
            f"{escape(names)}</p>"
        )
    return out


def _clock(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


# --- the events table ------------------------------------------------------------------


def _events_table(trace: Trace, node_ids: Mapping[str, str]) -> str:
    rows = []
    for index, event in enumerate(trace.events):
        event_id = event.get("id", index + 1)
        owner = trace.owners.get(event_id if isinstance(event_id, int) else -index - 1)
        node = node_ids.get(owner.node, "") if owner is not None and owner.node else ""
        state = owner.name if owner is not None else ""
        kind = str(event["type"])
        css = _event_class(kind)
        rows.append(
            f'<tr class="event{css}" data-node="{node}" tabindex="0">'
            f"<td>{escape(str(event_id))}</td><td>{escape(_offset(trace, event))}</td>"
            f"<td>{escape(kind)}</td><td>{escape(state)}</td>"
            f"<td>{escape(_event_summary(event))}</td></tr>"
            f'<tr class="details" hidden><td colspan="5"><pre>{escape(_details_json(event))}'
            "</pre></td></tr>"
        )
    head = "<tr><th>#</th><th>Time</th><th>Type</th><th>State</th><th>Summary</th></tr>"
    return f'<table class="events"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _event_class(kind: str) -> str:
    if kind.endswith(("Failed", "TimedOut")) or kind in ("ExecutionAborted",):
        return " bad"
    if kind.endswith("Succeeded"):
        return " good"
    return ""


def _offset(trace: Trace, event: Mapping[str, Any]) -> str:
    moment = event_time(event)
    if moment is None or trace.start is None:
        return ""
    return f"+{moment - trace.start:.3f} s"


def _event_summary(event: Mapping[str, Any]) -> str:
    info = _details(event)
    if "error" in info or "cause" in info:
        error, cause = info.get("error"), info.get("cause")
        text = str(error) if error is not None else ""
        if cause is not None:
            cause_text = cause if isinstance(cause, str) else json.dumps(cause)
            text += ": " + describe.cause_summary(cause_text)
        return labels.shorten(text, 140)
    if "resource" in info:
        kind = info.get("resourceType")
        resource = f"{kind}:{info['resource']}" if isinstance(kind, str) else info["resource"]
        return labels.shorten(str(resource), 140)
    for key in ("input", "output"):
        if isinstance(info.get(key), str):
            return labels.shorten(f"{key} {info[key]}", 140)
    for key in ("index", "length"):
        if key in info:
            return f"{key} {json.dumps(info[key])}"
    return ""


def _details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            return value
    return {}


def _details_json(event: Mapping[str, Any]) -> str:
    """The event with JSON-text fields decoded, indented for reading."""
    shown: dict[str, Any] = {}
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, Mapping):
            shown[key] = {name: _decoded(name, field) for name, field in value.items()}
        else:
            shown[key] = value
    return json.dumps(shown, indent=2, ensure_ascii=False, default=str)


def _decoded(name: str, value: Any) -> Any:
    if name in _JSON_FIELDS and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name == "assignedVariables" and isinstance(value, Mapping):
        return {k: _decoded("input", v) for k, v in value.items()}
    return value


# --- page ------------------------------------------------------------------------------


def _css() -> str:
    rules = [_CSS]
    for status, (fill, border) in styles.STATUS_COLOURS.items():
        selector = f".status-{status} .bar, .badge.status-{status}"
        rules.append(f"{selector} {{background:{fill};border-color:{border}}}")
    return "\n".join(rules)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}
</style>
</head>
<body>
{body}
<script type="application/json" id="state-names">{states}</script>
<script>
{script}
</script>
</body>
</html>
"""

_CSS = """
body{font-family:Helvetica,Arial,sans-serif;color:#1f2937;margin:24px;background:#fafafa}
h1{font-size:20px;margin:0 0 6px}
h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.summary{margin:4px 0;color:#4b5563}
.badge {
  display:inline-block;
  border:1px solid;
  border-radius:4px;
  padding:1px 8px;
  font-weight:bold;
  color:#1f2937;
}
.failure {
  background:#fef2f2;
  border:1px solid #fecaca;
  border-radius:6px;
  padding:8px 12px;
  margin-top:8px;
  color:#7f1d1d;
  white-space:pre-wrap;
}
.warning{color:#92400e}
.note{margin:4px 0;color:#4b5563;font-style:italic}
.svg {
  overflow:auto;
  background:#fff;
  border:1px solid #e5e7eb;
  border-radius:8px;
  padding:8px;
  max-height:90vh;
}
.svg svg{max-width:100%;height:auto}
.svg g.node{cursor:pointer}
.svg g.node.selected polygon,.svg g.node.selected path{stroke-width:4px}
.axis{color:#6b7280;font-size:12px;margin:0 0 4px}
.timeline {
  background:#fff;
  border:1px solid #e5e7eb;
  border-radius:8px;
  padding:6px;
  max-height:60vh;
  overflow:auto;
}
.row {
  display:grid;
  grid-template-columns:minmax(160px,26%) 1fr 80px;
  align-items:center;
  font-size:12px;
  min-height:20px;
  cursor:pointer;
}
.row:hover,.row.selected{background:#f3f4f6}
.row .name{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.row .index{color:#6b7280}
.row .dur{text-align:right;color:#6b7280;padding-right:6px}
.track {
  position:relative;
  height:14px;
  background:repeating-linear-gradient(90deg,#f9fafb 0,#f9fafb 10%,#f3f4f6 10%,#f3f4f6 20%);
}
.bar {
  position:absolute;
  top:1px;
  height:12px;
  border:1px solid;
  border-radius:3px;
  box-sizing:border-box;
}
.bar.wait {
  background-image:repeating-linear-gradient(
    45deg,transparent 0,transparent 3px,rgba(0,0,0,.12) 3px,rgba(0,0,0,.12) 5px);
}
.tick{position:absolute;top:-1px;width:2px;height:16px;background:#b91c1c}
.more,.empty{color:#6b7280}
table.events{border-collapse:collapse;width:100%;font-size:12px;background:#fff}
table.events th{position:sticky;top:0;background:#f3f4f6;text-align:left;padding:4px 6px}
table.events td{padding:3px 6px;border-top:1px solid #f3f4f6;vertical-align:top}
table.events td:nth-child(2){white-space:nowrap}
tr.event{cursor:pointer}
tr.event:hover,tr.event.selected{background:#eff6ff}
tr.event.bad td:nth-child(3){color:#b91c1c;font-weight:bold}
tr.event.good td:nth-child(3){color:#15803d}
tr.details pre {
  margin:0;
  padding:8px;
  background:#f9fafb;
  border-radius:4px;
  white-space:pre-wrap;
  word-break:break-word;
  max-height:400px;
  overflow:auto;
}
"""

_SCRIPT = """
(function () {
  "use strict";
  var names = JSON.parse(document.getElementById("state-names").textContent);
  var table = document.querySelector("table.events") || document.createElement("table");
  function toggle(row) {
    var details = row.nextElementSibling;
    if (details && details.classList.contains("details")) {
      details.hidden = !details.hidden;
    }
  }
  function select(node) {
    document.querySelectorAll(".selected").forEach(function (el) {
      el.classList.remove("selected");
    });
    if (!node) { return; }
    document.querySelectorAll('[data-node="' + node + '"]').forEach(function (el) {
      el.classList.add("selected");
    });
    var shape = document.getElementById(node);
    if (shape) { shape.classList.add("selected"); }
    var first = table.querySelector('tr.event[data-node="' + node + '"]');
    if (first) { first.scrollIntoView({block: "nearest"}); }
  }
  table.addEventListener("click", function (e) {
    var row = e.target.closest("tr.event");
    if (row) { toggle(row); }
  });
  table.addEventListener("keydown", function (e) {
    var row = e.target.closest("tr.event");
    if (row && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); toggle(row); }
  });
  document.querySelectorAll(".svg g.node").forEach(function (g) {
    if (names[g.id] !== undefined) {
      g.addEventListener("click", function () { select(g.id); });
    }
  });
  document.querySelectorAll(".timeline .row").forEach(function (row) {
    row.addEventListener("click", function () { select(row.dataset.node); });
  });
  document.body.dataset.ready = "true";
})();
"""
