"""The web console of ``asl serve`` over HTTP: every page and action, each value escaped.

The console is ours (AWS's console is not a local server); its actions are the API
operations StartExecution, StopExecution, RedriveExecution, SendTaskSuccess and
SendTaskFailure, called through the same code as ``POST /``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.service import ServiceSettings
from runtime.service.server import RunningServer, serve_in_thread
from tests.e2e.console_helpers import (
    CLEANUP,
    ROLE,
    XSS,
    Browser,
    approval_machine,
    fan_out_machine,
    schedules_file,
    sfn,
    waiting_machine,
)
from tests.polling import until


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    # A database: RedriveExecution needs the durable engine's journal.
    settings = ServiceSettings(activity_poll_seconds=1.0, db=tmp_path / "db")
    with serve_in_thread(settings) as running:
        yield running


def _status(client: Any, arn: str) -> str:
    return str(client.describe_execution(executionArn=arn)["status"])


def test_machines_and_machine_page_escape_what_the_definition_holds(server: RunningServer) -> None:
    client = sfn(server)
    arn, _ = approval_machine(client)
    browser = Browser(server.url)
    listed = browser.get("/console/")
    assert listed.status_code == 200
    assert "approval" in listed.text and "STANDARD" in listed.text
    shown = browser.get("/console/machine", arn=arn)
    assert shown.status_code == 200
    assert XSS not in shown.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
    assert "<svg" in shown.text
    assert 'name="csrf"' in shown.text


def test_start_from_the_page_then_approve_the_waiting_task(server: RunningServer) -> None:
    client = sfn(server)
    arn, _ = approval_machine(client)
    browser = Browser(server.url)
    browser.get("/console/machine", arn=arn)
    started = browser.post("/console/start", arn=arn, name="first", input='{"order": 7}')
    assert started.status_code == 200
    assert "Execution first" in started.text
    execution = arn.replace(":stateMachine:", ":execution:") + ":first"
    tasks = until(lambda: (t := browser.get("/console/tasks")) and "Review" in t.text and t)
    assert "&quot;order&quot;: 7" in tasks.text
    token = tasks.text.split('name="token" value="')[1].split('"')[0]
    answered = browser.post("/console/approve", token=token, output='{"ok": true}')
    assert answered.status_code == 200
    until(lambda: _status(client, execution) == "SUCCEEDED")
    page = browser.get("/console/execution", arn=execution)
    assert "SUCCEEDED" in page.text
    assert "&quot;ok&quot;: true" in page.text
    assert XSS not in page.text
    report = browser.get("/console/report", arn=execution)
    assert report.status_code == 200 and "<svg" in report.text
    assert XSS not in report.text


def test_reject_fails_the_execution_with_the_error_and_cause(server: RunningServer) -> None:
    client = sfn(server)
    arn, _ = approval_machine(client)
    execution = client.start_execution(stateMachineArn=arn, name="no")["executionArn"]
    browser = Browser(server.url)
    tasks = until(lambda: (t := browser.get("/console/tasks")) and "Review" in t.text and t)
    token = tasks.text.split('name="token" value="')[1].split('"')[0]
    browser.post("/console/reject", token=token, error="Rejected", cause="<b>not now</b>")
    until(lambda: _status(client, execution) == "FAILED")
    page = browser.get("/console/execution", arn=execution)
    assert "Rejected" in page.text
    assert "&lt;b&gt;not now&lt;/b&gt;" in page.text
    assert "Redrive" in page.text


def test_stop_then_redrive(server: RunningServer) -> None:
    client = sfn(server)
    arn = waiting_machine(client, seconds=60)
    execution = client.start_execution(stateMachineArn=arn, name="long")["executionArn"]
    browser = Browser(server.url)
    assert "Stop" in browser.get("/console/execution", arn=execution).text
    assert browser.post("/console/stop", arn=execution).status_code == 200
    assert _status(client, execution) == "ABORTED"
    assert browser.post("/console/redrive", arn=execution).status_code == 200
    assert client.describe_execution(executionArn=execution)["redriveCount"] == 1


def test_executions_list_filters_and_pages(server: RunningServer) -> None:
    client = sfn(server)
    arn = waiting_machine(client, seconds=0)
    for number in range(30):
        client.start_execution(stateMachineArn=arn, name=f"run-{number:02}")
    until(
        lambda: all(
            e["status"] == "SUCCEEDED"
            for e in client.list_executions(stateMachineArn=arn)["executions"]
        )
    )
    browser = Browser(server.url)
    first = browser.get("/console/executions")
    assert first.text.count('status-SUCCEEDED">') == 25
    assert "Next" in first.text
    second = browser.get("/console/executions", page="2")
    assert second.text.count('status-SUCCEEDED">') == 5
    named = browser.get("/console/executions", name="run-1", machine=arn, status="SUCCEEDED")
    assert named.text.count('status-SUCCEEDED">') == 10
    assert "run-2" not in named.text
    assert (
        browser.get("/console/executions", status="RUNNING").text.count('status-SUCCEEDED">') == 0
    )


def test_a_running_executions_stream_says_when_its_history_grows(server: RunningServer) -> None:
    client = sfn(server)
    arn = waiting_machine(client, seconds=1)
    execution = client.start_execution(stateMachineArn=arn)["executionArn"]
    browser = Browser(server.url)
    assert "EventSource" in browser.get("/console/execution", arn=execution).text
    streamed = browser.session.get(
        server.url + "/console/live", params={"arn": execution}, stream=True, timeout=30
    )
    assert streamed.headers["Content-Type"] == "text/event-stream"
    text = streamed.content.decode()
    assert "data: " in text
    assert text.endswith("event: done\ndata: \n\n")


def test_forms_refuse_cross_site_posts(server: RunningServer) -> None:
    client = sfn(server)
    arn = waiting_machine(client, seconds=0)
    browser = Browser(server.url)
    browser.get("/console/")
    refused = [
        browser.post("/console/start", headers={"Origin": "https://evil.example"}, arn=arn),
        browser.post("/console/start", headers={"Sec-Fetch-Site": "cross-site"}, arn=arn),
        browser.session.post(server.url + "/console/start", data={"arn": arn}, timeout=30),
        browser.session.post(
            server.url + "/console/start", data={"arn": arn, "csrf": "guess"}, timeout=30
        ),
    ]
    assert [r.status_code for r in refused] == [403] * 4
    assert client.list_executions(stateMachineArn=arn)["executions"] == []


def test_api_errors_show_as_a_page(server: RunningServer) -> None:
    browser = Browser(server.url)
    missing = browser.get(
        "/console/execution", arn=f"arn:aws:states:us-east-1:123456789012:execution:m:{XSS}"
    )
    assert missing.status_code == 400
    assert "ExecutionDoesNotExist" in missing.text
    assert XSS not in missing.text
    browser.get("/console/")
    bad = browser.post("/console/approve", token="nope", output="{}")
    assert bad.status_code == 400 and "InvalidToken" in bad.text


def test_a_token_is_asked_for_when_one_is_set() -> None:
    with serve_in_thread(ServiceSettings(console_token="s3cret")) as server:
        browser = Browser(server.url)
        assert browser.get("/console/").status_code == 401
        assert browser.get("/console/", token="wrong").status_code == 401
        opened = browser.get("/console/executions", token="s3cret")
        assert opened.status_code == 200 and opened.url == server.url + "/console/executions"
        assert browser.get("/console/tasks").status_code == 200
        assert json.loads(
            browser.session.post(
                server.url + "/",
                data="{}",
                headers={"X-Amz-Target": "AWSStepFunctions.ListActivities"},
                timeout=30,
            ).text
        ) == {"activities": []}


def test_an_execution_lists_its_map_runs_and_their_children(server: RunningServer) -> None:
    client = sfn(server)
    arn = fan_out_machine(client)
    execution = client.start_execution(stateMachineArn=arn, input='{"items": [1, 2, 3]}')
    until(lambda: _status(client, execution["executionArn"]) == "SUCCEEDED")
    browser = Browser(server.url)
    shown = browser.get("/console/execution", arn=execution["executionArn"])
    assert "<h2>Map Runs</h2>" in shown.text
    (map_run,) = client.list_map_runs(executionArn=execution["executionArn"])["mapRuns"]
    children = client.list_executions(mapRunArn=map_run["mapRunArn"])["executions"]
    for child in children:
        assert child["name"] in shown.text
    child_page = browser.get("/console/execution", arn=children[0]["executionArn"])
    assert child_page.status_code == 200 and "SUCCEEDED" in child_page.text
    parent = execution["executionArn"].replace(":", "%3A")
    assert f'Map Run child of <a href="/console/execution?arn={parent}">' in child_page.text
    # The API keeps no definition for a child (DescribeStateMachineForExecution): its
    # report draws the Map's ItemProcessor, read from the parent's definition.
    assert 'id="report"' in child_page.text
    report = browser.get("/console/report", arn=children[0]["executionArn"])
    assert report.status_code == 200 and "<svg" in report.text
    assert "/States/Double" in report.text and "/States/Each" not in report.text


def test_a_machines_diagnostics_are_placed_on_its_definition(server: RunningServer) -> None:
    client = sfn(server)
    # A path in a Pass state's Result is not evaluated: our validator warns
    # (PASS_RESULT_IS_STATIC, line 4) and CreateStateMachine accepts the definition.
    text = (
        '{\n  "StartAt": "P",\n  "States": {\n'
        '    "P": {"Type": "Pass", "Result": {"a.$": "$.x"}, "End": true}\n  }\n}'
    )
    arn = client.create_state_machine(name="warned", definition=text, roleArn=ROLE)[
        "stateMachineArn"
    ]
    shown = Browser(server.url).get("/console/machine", arn=arn).text
    marked = shown.split('<div class="line marked">')[1]
    assert marked.startswith('<span class="number">4</span>')
    assert 'class="diag diag-WARNING">WARNING PASS_RESULT_IS_STATIC' in marked.split("</pre>")[0]


def test_the_schedules_page_shows_next_and_last_runs(tmp_path: Path) -> None:
    settings = ServiceSettings(schedules=schedules_file(tmp_path))
    with serve_in_thread(settings) as server:
        client = sfn(server)
        machine = CLEANUP
        (started,) = until(lambda: client.list_executions(stateMachineArn=machine)["executions"])
        until(lambda: _status(client, started["executionArn"]) == "SUCCEEDED")
        shown = Browser(server.url).get("/console/schedules")
    assert shown.status_code == 200
    assert '<a href="/console/schedules">Schedules</a>' in shown.text
    rows = {row.split("</td>", 1)[0]: row for row in shown.text.split("<tr><td>")[1:]}
    assert set(rows) == {"hourly", "nightly", "paused"}
    hourly, nightly, paused = rows["hourly"], rows["nightly"], rows["paused"]
    assert ">rate(1 hour)</code>" in hourly and "ENABLED" in hourly
    assert f'href="/console/machine?arn={machine.replace(":", "%3A")}"' in hourly
    # Its one run, linked to its execution, with the execution's status.
    assert started["executionArn"].replace(":", "%3A") in hourly
    assert 'status-SUCCEEDED">SUCCEEDED' in hourly
    # The next runs of a cron on a Paris clock: 03:00 there, each shown on both clocks.
    assert nightly.count(" 03:00:00 local)") == 5 and nightly.count(":00:00Z") == 5
    assert "none yet" in nightly
    assert "DISABLED" in paused and "none yet" in paused


def test_the_schedules_page_keeps_last_runs_across_a_restart_on_one_db(tmp_path: Path) -> None:
    settings = ServiceSettings(schedules=schedules_file(tmp_path), db=tmp_path / "db")
    with serve_in_thread(settings) as server:
        client = sfn(server)
        (started,) = until(lambda: client.list_executions(stateMachineArn=CLEANUP)["executions"])
        until(lambda: _status(client, started["executionArn"]) == "SUCCEEDED")
    with serve_in_thread(settings) as server:  # the hourly schedule's next run is an hour away
        shown = Browser(server.url).get("/console/schedules")
    rows = {row.split("</td>", 1)[0]: row for row in shown.text.split("<tr><td>")[1:]}
    assert started["executionArn"].replace(":", "%3A") in rows["hourly"]
    assert 'status-SUCCEEDED">SUCCEEDED' in rows["hourly"]


def test_the_schedules_page_of_a_server_without_schedules(server: RunningServer) -> None:
    shown = Browser(server.url).get("/console/schedules")
    assert shown.status_code == 200 and "runs no schedules" in shown.text


def test_an_express_execution_started_from_the_page_is_shown_and_listed(
    server: RunningServer,
) -> None:
    client = sfn(server)
    definition = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
    arn = client.create_state_machine(
        name="quick", definition=json.dumps(definition), roleArn=ROLE, type="EXPRESS"
    )["stateMachineArn"]
    other = waiting_machine(client, seconds=0)
    browser = Browser(server.url)
    browser.get("/console/machine", arn=arn)
    started = browser.post("/console/start", arn=arn, name="e1", input=json.dumps({"x": XSS}))
    assert started.status_code == 200 and "Execution e1" in started.text
    execution = started.url.split("arn=", 1)[1].replace("%3A", ":")
    assert ":express:quick:e1:" in execution
    # The API does not describe it, as on AWS (recorded: InvalidArn, localstack tests/aws/
    # services/stepfunctions/v2/test_sfn_api_express.snapshot.json) ...
    with pytest.raises(client.exceptions.InvalidArn):
        client.describe_execution(executionArn=execution)
    # ... the console does, from the engine.
    until(lambda: "SUCCEEDED" in browser.get("/console/execution", arn=execution).text)
    shown = browser.get("/console/execution", arn=execution).text
    assert "Express execution of <a" in shown and XSS not in shown
    assert "&quot;x&quot;: &quot;&lt;script&gt;" in shown and 'id="report"' in shown
    assert ">Stop</button>" not in shown and ">Redrive</button>" not in shown
    report = browser.get("/console/report", arn=execution)
    assert report.status_code == 200 and "/States/Echo" in report.text
    listed = browser.get("/console/executions").text
    assert "Express executions started here" in listed and ">e1</a>" in listed
    assert ">e1</a>" in browser.get("/console/executions", machine=arn).text
    assert ">e1</a>" not in browser.get("/console/executions", machine=other).text
    assert ">e1</a>" not in browser.get("/console/executions", status="FAILED").text
