"""The console's pages (GET): state machines, one machine, executions, one execution and
its report, waiting tasks. Each reads through the API operations."""

from __future__ import annotations

import asyncio
import json
from html import escape
from typing import Any

from runtime.execution_arns import is_express
from runtime.service.arns import parse_arn
from runtime.service.console import reads
from runtime.service.console.context import EXPRESS_KEPT, Context
from runtime.service.console.definition import definition_html
from runtime.service.console.html import (
    date,
    form,
    json_block,
    link,
    page,
    short_name,
    table,
    url,
)
from runtime.service.console.html import status as status_badge
from runtime.service.console.map_runs import ChildHistories, child_histories, map_runs_html
from runtime.service.console.states import state_rows
from visualizer import build_trace, html_report, layout, load_diagram, to_dot
from visualizer.map_runs import fold_map_runs

__all__ = ["execution", "executions", "machine", "machines", "report", "tasks"]

_PAGE_SIZE = 25
_ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_STATUSES = ("RUNNING", "PENDING_REDRIVE", *_ENDED)

_EXPRESS_NOTE = (
    "The API does not describe Express executions (AWS keeps their histories in CloudWatch "
    "Logs, if anywhere): the console shows the ones it started, the latest "
    f"{EXPRESS_KEPT}."
)

_CHECK_JSON = """
document.querySelectorAll('form[data-json]').forEach(function (form) {
  form.addEventListener('submit', function (event) {
    var field = form.elements[form.dataset.json], note = form.querySelector('.json-error');
    try { if (field.value.trim() !== '') JSON.parse(field.value); note.textContent = ''; }
    catch (e) { event.preventDefault(); note.textContent = 'Not valid JSON: ' + e.message; }
  });
});
"""


async def machines(ctx: Context) -> str:
    """Every state machine."""
    listed = (await ctx.call("ListStateMachines", {}))["stateMachines"]
    rows = [
        [
            link(url("/console/machine", arn=m["stateMachineArn"]), m["name"]),
            escape(m["type"]),
            date(m["creationDate"]),
            link(url("/console/executions", machine=m["stateMachineArn"]), "executions"),
        ]
        for m in listed
    ]
    return page("State machines", table(["Name", "Type", "Created", ""], rows))


async def machine(ctx: Context) -> str:
    """A machine: its diagram, its definition, and a form starting an execution."""
    described = await ctx.call("DescribeStateMachine", {"stateMachineArn": ctx.query("arn")})
    definition = described["definition"]
    svg = await asyncio.to_thread(_diagram_svg, definition)
    text = await asyncio.to_thread(definition_html, definition, described["type"])
    name_field = '<label>Name (optional) <input name="name"></label>'
    fields = {"arn": described["stateMachineArn"]}
    start = form(
        "/console/start", ctx.csrf, fields, name_field + _editor("input"), "Start", "input"
    )
    listed = url("/console/executions", machine=described["stateMachineArn"])
    body = (
        f"<p>{escape(described['type'])} - {link(listed, 'executions')}</p>"
        f"<h2>Start an execution</h2>{start}"
        f'<h2>Diagram</h2><div class="svg">{svg}</div>'
        f"<h2>Definition</h2>{text}"
    )
    return page(described["name"], body, _CHECK_JSON)


def _diagram_svg(definition: str) -> str:
    svg = layout(to_dot(load_diagram(definition), None), "svg").decode()
    return svg[svg.find("<svg") :]


def _editor(name: str) -> str:
    """A JSON text area (``{}`` to begin with) and the line its check writes to."""
    return f'<textarea name="{name}" rows="4">{{}}</textarea><div class="json-error error"></div>'


async def executions(ctx: Context) -> str:
    """Executions of every Standard machine, newest first, filtered and paged."""
    status, machine_arn, name = ctx.query("status"), ctx.query("machine"), ctx.query("name")
    found = await _executions(ctx, status, machine_arn, name)
    page_text = ctx.query("page") or "1"
    number = max(int(page_text), 1) if page_text.isdigit() else 1
    shown = found[(number - 1) * _PAGE_SIZE : number * _PAGE_SIZE]
    filters = dict(status=status, machine=machine_arn, name=name)
    pager = []
    if number > 1:
        pager.append(link(url("/console/executions", **filters, page=number - 1), "Previous"))
    if len(found) > number * _PAGE_SIZE:
        pager.append(link(url("/console/executions", **filters, page=number + 1), "Next"))
    body = (
        _filters(status, machine_arn, name)
        + _listing(shown)
        + f"<p>Page {number} {' '.join(pager)}</p>"
        + await _express_started(ctx, status, machine_arn, name)
    )
    return page("Executions", body)


async def _express_started(
    ctx: Context, status: str | None, machine_arn: str | None, name: str | None
) -> str:
    """The Express executions started from the console, newest first, filtered as the
    Standard ones are."""
    if not ctx.console.express:
        return ""
    described = [
        e
        for e in [await reads.describe(ctx, arn) for arn in list(ctx.console.express)]
        if status in (None, e["status"])
        and machine_arn in (None, e["stateMachineArn"])
        and (name is None or name in e["name"])
    ]
    heading = f'<h2>Express executions started here</h2><p class="muted">{_EXPRESS_NOTE}</p>'
    return heading + _listing(described)


def _listing(described: list[dict[str, Any]]) -> str:
    """A table of executions as ListExecutions or DescribeExecution gives them."""
    rows = [
        [
            link(url("/console/execution", arn=e["executionArn"]), e["name"]),
            status_badge(e["status"]),
            link(
                url("/console/machine", arn=e["stateMachineArn"]), short_name(e["stateMachineArn"])
            ),
            date(e["startDate"]),
            date(e.get("stopDate")),
        ]
        for e in described
    ]
    return table(["Name", "Status", "State machine", "Started", "Stopped"], rows)


async def _executions(
    ctx: Context, status: str | None, machine_arn: str | None, name: str | None
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for listed in (await ctx.call("ListStateMachines", {}))["stateMachines"]:
        arn = listed["stateMachineArn"]
        if listed["type"] == "EXPRESS" or machine_arn not in (None, arn):
            continue
        request: dict[str, Any] = {"stateMachineArn": arn}
        if status:
            request["statusFilter"] = status
        found.extend((await ctx.call("ListExecutions", request))["executions"])
    found = [e for e in found if name is None or name in e["name"]]
    found.sort(key=lambda e: e["startDate"], reverse=True)
    return found


def _execution_name(arn: str) -> str:
    """An execution's name: the part after its machine's, in a Standard execution's ARN
    (``execution:MACHINE:NAME``) as in an Express one's (``express:MACHINE:NAME:ID``)."""
    return parse_arn(arn, "execution", "express").parts[1]


def _filters(status: str | None, machine_arn: str | None, name: str | None) -> str:
    options = "".join(
        f"<option{' selected' if s == status else ''}>{s}</option>" for s in _STATUSES
    )
    kept = (
        ""
        if machine_arn is None
        else f'<input type="hidden" name="machine" value="{escape(machine_arn)}">'
    )
    return (
        '<form class="filters" method="get" action="/console/executions">'
        f'<select name="status"><option value="">any status</option>{options}</select>'
        f'<input name="name" placeholder="name contains" value="{escape(name or "")}">{kept}'
        "<button>Filter</button></form>"
    )


_LIVE = """
(function () {
  var frame = document.getElementById('report'), source = new EventSource(%s);
  source.onmessage = function () { frame.src = frame.dataset.src + '&t=' + Date.now(); };
  source.addEventListener('done', function () { source.close(); location.reload(); });
})();
"""


async def execution(ctx: Context) -> str:
    """An execution: status, actions, its report (trace, timeline, events), each state's
    input and output; a running one updates itself (server-sent events)."""
    arn = ctx.query("arn") or ""
    described = await reads.describe(ctx, arn)
    history = await reads.history(ctx, arn)
    status = described["status"]
    states = table(["State", "Input", "Output", "Error", "Cause"], state_rows(history["events"]))
    express, parent = is_express(arn), await reads.parent(ctx, arn)
    actions = "" if not express else f'<p class="muted">{_EXPRESS_NOTE}</p>'
    # StopExecution and RedriveExecution take a top Standard execution only.
    if status == "RUNNING" and not express and parent is None:
        actions += form("/console/stop", ctx.csrf, {"arn": described["executionArn"]}, "", "Stop")
    if status in ("FAILED", "TIMED_OUT", "ABORTED") and not express and parent is None:
        actions += form(
            "/console/redrive", ctx.csrf, {"arn": described["executionArn"]}, "", "Redrive"
        )
    trace = await _trace_frame(ctx, described["executionArn"])
    map_runs = "" if express else await map_runs_html(ctx, described["executionArn"])
    body = (
        f"<p>{_kind(described, express, parent)} - Status: {status_badge(status)} - "
        f"started {date(described['startDate'])}, stopped {date(described.get('stopDate'))}</p>"
        f"{actions}{_failure(described)}"
        f'<div class="cols"><div><h2>Input</h2>{json_block(described.get("input"))}</div>'
        f"<div><h2>Output</h2>{json_block(described.get('output'))}</div></div>"
        f"<h2>Trace</h2>{trace}"
        f"<h2>States</h2>{states}{map_runs}"
    )
    script = _LIVE % json.dumps(url("/console/live", arn=arn)) if status == "RUNNING" else ""
    return page(f"Execution {described['name']}", body, script)


def _kind(described: dict[str, Any], express: bool, parent: str | None) -> str:
    """What the execution is, and what it belongs to: its machine, or the execution whose
    Map Run started it (the API describes no machine of a Map Run's children)."""
    if parent is not None:
        return f"Map Run child of {link(url('/console/execution', arn=parent), short_name(parent))}"
    machine_arn = described["stateMachineArn"]
    machine = link(url("/console/machine", arn=machine_arn), short_name(machine_arn))
    return f"{'Express' if express else 'Standard'} execution of {machine}"


async def _trace_frame(ctx: Context, arn: str) -> str:
    """The frame of the execution's report (its graph, trace, timeline and events)."""
    if await reads.definition(ctx, arn) is None:
        return '<p class="muted">No diagram: the definition it runs is not known.</p>'
    src = escape(url("/console/report", arn=arn))
    return f'<iframe id="report" title="Execution report" src="{src}" data-src="{src}"></iframe>'


def _failure(described: dict[str, Any]) -> str:
    if "error" not in described and "cause" not in described:
        return ""
    error, cause = described.get("error", ""), described.get("cause", "")
    return f'<p class="error">{escape(error)}</p>{json_block(cause) if cause else ""}'


async def report(ctx: Context) -> str:
    """The visualizer's HTML report of an execution (its trace, timeline and events)."""
    arn = ctx.query("arn") or ""
    definition = await reads.definition(ctx, arn)
    if definition is None:
        return page("No diagram", '<p class="muted">The definition it runs is not known.</p>')
    history = await reads.history(ctx, arn)
    # An Express execution starts no Map Run the API lists (it describes none of them).
    children = (
        ChildHistories() if is_express(arn) else await child_histories(ctx, history["events"])
    )
    title = f"Execution {_execution_name(arn)}"
    return await asyncio.to_thread(_report, definition, history, children, title)


def _report(definition: Any, history: dict[str, Any], children: ChildHistories, title: str) -> str:
    """The report's HTML, its trace with the Map Runs' children folded in."""
    diagram = load_diagram(definition)
    trace = fold_map_runs(diagram, build_trace(diagram, history), children.histories)
    return html_report(diagram, trace, title=title, notes=children.notes)


async def tasks(ctx: Context) -> str:
    """Every task token and activity task waiting for an answer, with Approve and Reject."""
    now = ctx.backend.now()
    rows = []
    for task in await ctx.backend.executions.pending_tasks():
        answer = {"token": task.token}
        approve = form("/console/approve", ctx.csrf, answer, _editor("output"), "Approve", "output")
        reject = form(
            "/console/reject",
            ctx.csrf,
            answer,
            '<input name="error" placeholder="error"> <input name="cause" placeholder="cause">',
            "Reject",
        )
        rows.append(
            [
                link(
                    url("/console/execution", arn=task.execution_arn),
                    short_name(task.execution_arn),
                ),
                escape(task.state_name),
                f"{escape(task.kind)}<br><small>{escape(task.resource)}</small>",
                json_block(task.input),
                f"{max(now - task.created, 0):.0f} s",
                approve + reject,
            ]
        )
    headers = ["Execution", "State", "Kind", "Input", "Age", "Answer"]
    return page("Waiting tasks", table(headers, rows), _CHECK_JSON)
