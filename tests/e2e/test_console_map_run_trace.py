"""The console's trace of an execution draws its Distributed Maps' items as they ran.

In Distributed mode each item runs as a child execution whose history is its own: the
parent's history shows only ``MapRunStarted`` ... (AWS,
https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html). The execution's
report (``/console/report``, the frame of its page) folds the children's histories in, read
through ListMapRuns, ListExecutions and GetExecutionHistory as ``asl render --map-runs``
folds a file of them, so the ItemProcessor's states are coloured as they ran. A Map Run of
more children than the report reads is drawn from the first ones, and the report says so.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from typing import Any

import pytest

from runtime.service import ServiceSettings
from runtime.service.console.map_runs import CHILDREN_PER_MAP_RUN
from runtime.service.server import RunningServer, serve_in_thread
from tests.e2e.console_helpers import ROLE, Browser, sfn
from tests.polling import until
from tests.serving import ended

_SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with serve_in_thread(ServiceSettings(activity_poll_seconds=1.0)) as running:
        yield running


def _machine(client: Any, name: str, processor_states: dict[str, Any], start: str) -> str:
    """A machine whose Distributed Map ``Each`` runs ``$.items`` one at a time (so the
    children run in the items' order), a failure of its Map Run caught into ``Recovered``."""
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": start,
                    "States": processor_states,
                },
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Recovered"}],
                "End": True,
            },
            "Recovered": {"Type": "Pass", "End": True},
        },
    }
    return str(
        client.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
            "stateMachineArn"
        ]
    )


#: An item 0 fails its child execution (a Fail state); any other passes.
_CHECKED = {
    "Check": {
        "Type": "Choice",
        "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "Boom"}],
        "Default": "Fine",
    },
    "Boom": {"Type": "Fail", "Error": "Item.Bad", "Cause": "item 0"},
    "Fine": {"Type": "Pass", "End": True},
}


def _run(client: Any, machine: str, items: list[Any]) -> str:
    started = client.start_execution(stateMachineArn=machine, input=json.dumps({"items": items}))
    arn = str(started["executionArn"])
    ended(client, arn, 120)
    return arn


def _states(report: str) -> dict[str, tuple[str, list[str]]]:
    """Each state the report's SVG draws, by name: its status (from the node's class
    ``status-...``) and the lines of text drawn in it."""
    svg = report[report.index("<svg") : report.index("</svg>") + len("</svg>")]
    found = {}
    for node in ElementTree.fromstring(svg).iter(f"{_SVG}g"):
        classes = node.get("class", "").split()
        if "state" not in classes:
            continue
        (status,) = (c.removeprefix("status-") for c in classes if c.startswith("status-"))
        name, *lines = [text.text or "" for text in node.iter(f"{_SVG}text")]
        found[name] = (status, lines)
    return found


def _notes(text: str, css: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(rf'<p class="{css}">([^<]*)</p>', text)]


def test_the_trace_colours_each_item_state_as_its_children_ran(server: RunningServer) -> None:
    client = sfn(server)
    machine = _machine(client, "checked", _CHECKED, "Check")
    # One at a time, in order: two children pass, the third fails, and with it the Map
    # Run; the Map state's Catcher takes the failure.
    arn = _run(client, machine, [1, 2, 0])
    assert client.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    browser = Browser(server.url)
    page = browser.get("/console/execution", arn=arn).text
    assert 'id="report"' in page and "Listed:" not in page
    report = browser.get("/console/report", arn=arn)
    assert report.status_code == 200
    states = _states(report.text)
    assert states["Each"][0] == "caught" and "3 iterations · 1 failed" in states["Each"][1]
    assert states["Check"][0] == "succeeded" and any("3 runs" in t for t in states["Check"][1])
    assert states["Fine"][0] == "succeeded" and any("2 runs" in t for t in states["Fine"][1])
    assert states["Boom"][0] == "failed"
    assert states["Recovered"][0] == "succeeded"
    assert _notes(report.text, "note") == []


def test_a_map_run_of_more_children_than_read_is_drawn_from_the_first(
    server: RunningServer,
) -> None:
    client = sfn(server)
    machine = _machine(client, "many", _CHECKED, "Check")
    total = CHILDREN_PER_MAP_RUN + 5
    # The failing item comes last: not among the children the trace reads.
    arn = _run(client, machine, [1] * (total - 1) + [0])
    (map_run,) = client.list_map_runs(executionArn=arn)["mapRuns"]
    run_id = map_run["mapRunArn"].rsplit(":", 1)[-1]
    browser = Browser(server.url)
    report = browser.get("/console/report", arn=arn).text
    shown = f"the first {CHILDREN_PER_MAP_RUN} of its {total} child executions"
    assert _notes(report, "note") == [
        f"Map Run {run_id}: the states inside it are drawn from {shown}."
    ]
    states = _states(report)
    assert any(f"{CHILDREN_PER_MAP_RUN} runs" in t for t in states["Fine"][1])
    assert states["Boom"][0] == "not_reached"
    # The page's table of the Map Run's children says it lists as many.
    page = browser.get("/console/execution", arn=arn).text
    assert _notes(page, "muted partial") == [f"Listed: {shown}."]


def test_a_running_map_run_is_drawn_as_far_as_it_has_gone(server: RunningServer) -> None:
    client = sfn(server)
    activity = client.create_activity(name="item-review")["activityArn"]
    states = {
        "Ask": {"Type": "Task", "Resource": activity, "Next": "Done"},
        "Done": {"Type": "Pass", "End": True},
    }
    machine = _machine(client, "asking", states, "Ask")
    arn = client.start_execution(stateMachineArn=machine, input='{"items": [1]}')["executionArn"]
    task = until(lambda: client.get_activity_task(activityArn=activity).get("taskToken"))
    browser = Browser(server.url)
    running = _states(browser.get("/console/report", arn=arn).text)
    assert running["Each"][0] == "running"
    assert running["Ask"][0] == "running"
    assert running["Done"][0] == "not_reached"
    client.send_task_success(taskToken=task, output="{}")
    until(lambda: client.describe_execution(executionArn=arn)["status"] == "SUCCEEDED")
    ended = _states(browser.get("/console/report", arn=arn).text)
    assert ended["Ask"][0] == "succeeded" and ended["Done"][0] == "succeeded"


def test_the_trace_reads_the_whole_history_past_one_page(server: RunningServer) -> None:
    client = sfn(server)
    # 40 inline iterations of a Pass, four events each: "After" runs past event 160, past
    # the 100 events of GetExecutionHistory's page unless more are asked for.
    step = {"StartAt": "Step", "States": {"Step": {"Type": "Pass", "End": True}}}
    definition = {
        "StartAt": "Inline",
        "States": {
            "Inline": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": step,
                "Next": "After",
            },
            "After": {"Type": "Pass", "End": True},
        },
    }
    machine = client.create_state_machine(
        name="long", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    arn = _run(client, machine, list(range(40)))
    events = client.get_paginator("get_execution_history").paginate(executionArn=arn)
    assert sum(len(p["events"]) for p in events) > 160
    states = _states(Browser(server.url).get("/console/report", arn=arn).text)
    assert states["After"][0] == "succeeded"
    assert any("40 runs" in t for t in states["Step"][1])


def test_a_nested_distributed_maps_children_are_folded_in_too(server: RunningServer) -> None:
    client = sfn(server)
    distributed = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    inner = {
        "Inner": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": distributed,
                "StartAt": "Leaf",
                "States": {"Leaf": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    }
    machine = _machine(client, "nested", inner, "Inner")
    # Two outer children, each a Map Run of its own: three leaves in all.
    arn = _run(client, machine, [[1, 2], [3]])
    assert client.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    states = _states(Browser(server.url).get("/console/report", arn=arn).text)
    assert states["Each"][0] == "succeeded" and "2 iterations" in states["Each"][1]
    assert states["Inner"][0] == "succeeded" and "3 iterations" in states["Inner"][1]
    assert states["Leaf"][0] == "succeeded" and any("3 runs" in t for t in states["Leaf"][1])
