"""The web console in headless Chromium (Debian's, driven by Playwright): the executions
list, a running execution's page updating itself, a task approved and one rejected with a
click, an execution started from its machine's page, and a state named like a script that
stays text; an Express execution started from the page and followed to its end; a Map
Run child's graph, and its parent's with the children folded in; the schedules page and
its runs."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from runtime.service import ServiceSettings
from runtime.service.server import RunningServer, serve_in_thread
from tests.e2e.console_helpers import (
    CLEANUP,
    ROLE,
    XSS,
    approval_machine,
    fan_out_machine,
    schedules_file,
    sfn,
)
from tests.polling import until

# One Chromium for the module: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("console_browser")

CHROMIUM = "/usr/bin/chromium"
BOUND_MS = 20_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Chromium is not installed (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with serve_in_thread(ServiceSettings(activity_poll_seconds=1.0)) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.set_default_timeout(BOUND_MS)
    yield opened
    context.close()
    assert dialogs == [], "a script of the page's data ran"


def _status(client: Any, arn: str) -> str:
    return str(client.describe_execution(executionArn=arn)["status"])


def _open_fan_out_execution(server: RunningServer, page: Page) -> dict[str, Any]:
    """Run the fan-out machine on two items to its end, and open its execution's page:
    StartExecution's answer."""
    client = sfn(server)
    arn = fan_out_machine(client)
    execution: dict[str, Any] = client.start_execution(
        stateMachineArn=arn, input='{"items": [1, 2]}'
    )
    until(lambda: _status(client, execution["executionArn"]) == "SUCCEEDED")
    page.goto(server.url + "/console/executions")
    page.locator("tbody a").first.click()
    return execution


def test_a_running_execution_updates_itself(server: RunningServer, page: Page) -> None:
    client = sfn(server)
    # An activity the test answers once the page is open, so the history grows while the
    # page watches (a timed Wait could end before a loaded machine opened the page), then a
    # Wait that keeps the execution running meanwhile.
    activity = client.create_activity(name="step")["activityArn"]
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": activity, "Next": "Long"},
            "Long": {"Type": "Wait", "Seconds": 4, "End": True},
        },
    }
    arn = client.create_state_machine(
        name="steps", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    execution = client.start_execution(stateMachineArn=arn, name="live")["executionArn"]
    page.goto(server.url + "/console/executions")
    page.get_by_role("link", name="live").click()
    expect(page.locator(".status")).to_have_text("RUNNING")
    task = client.get_activity_task(activityArn=activity)
    client.send_task_success(taskToken=task["taskToken"], output="{}")
    # The history grows as the activity ends: the report frame is fetched again.
    expect(page.locator("#report")).to_have_attribute(
        "src", re.compile(r"&t=\d+$"), timeout=BOUND_MS
    )
    # Once the execution ended, the page reloads itself with its final status.
    expect(page.locator(".status")).to_have_text("SUCCEEDED", timeout=BOUND_MS)
    assert _status(client, execution) == "SUCCEEDED"


def test_approve_and_reject_with_a_click(server: RunningServer, page: Page) -> None:
    client = sfn(server)
    arn, _ = approval_machine(client)
    yes = client.start_execution(stateMachineArn=arn, name="yes")["executionArn"]
    _open_with_one_task(page, server.url)
    page.locator("textarea[name=output]").fill('{"approved": true}')
    with page.expect_navigation():
        page.get_by_role("button", name="Approve").click()
    until(lambda: _status(client, yes) == "SUCCEEDED")
    assert json.loads(client.describe_execution(executionArn=yes)["output"]) == {"approved": True}
    no = client.start_execution(stateMachineArn=arn, name="no")["executionArn"]
    _open_with_one_task(page, server.url)
    page.locator("input[name=error]").fill("Rejected")
    page.locator("input[name=cause]").fill("not today")
    with page.expect_navigation():
        page.get_by_role("button", name="Reject").click()
    until(lambda: _status(client, no) == "FAILED")
    page.goto(server.url + "/console/executions")
    page.get_by_role("link", name="no", exact=True).click()
    expect(page.locator(".error").first).to_have_text("Rejected")


def _open_with_one_task(page: Page, url: str) -> None:
    """The waiting tasks page, opened again until the one task has come."""

    def shown() -> bool:
        page.goto(url + "/console/tasks", wait_until="load")
        return page.locator("tbody tr").count() == 1

    until(shown)


def test_start_from_the_machine_page_and_a_script_stays_text(
    server: RunningServer, page: Page
) -> None:
    client = sfn(server)
    approval_machine(client)
    page.goto(server.url + "/console/")
    page.get_by_role("link", name="approval").click()
    assert XSS in page.locator("pre").first.inner_text()  # the definition, shown as text
    assert XSS in page.locator(".svg").inner_text()  # the diagram's label
    page.locator("input[name=name]").fill("from-page")
    page.locator("textarea[name=input]").fill("{not json")
    page.get_by_role("button", name="Start").click()
    expect(page.locator(".json-error")).to_contain_text("Not valid JSON")
    page.locator("textarea[name=input]").fill(json.dumps({"note": XSS}))
    page.get_by_role("button", name="Start").click()
    expect(page.locator("h1")).to_have_text("Execution from-page")
    assert XSS in page.locator("pre").first.inner_text()


def test_an_express_execution_started_from_the_page_is_followed_to_its_end(
    server: RunningServer, page: Page
) -> None:
    client = sfn(server)
    # The API does not describe Express executions (DescribeExecution: InvalidArn, as
    # recorded against AWS in localstack's test_sfn_api_express.snapshot.json): the
    # console shows the ones it started.
    definition = {
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Echo"},
            "Echo": {"Type": "Pass", "End": True},
        },
    }
    client.create_state_machine(
        name="quick", definition=json.dumps(definition), roleArn=ROLE, type="EXPRESS"
    )
    page.goto(server.url + "/console/")
    page.get_by_role("link", name="quick").click()
    page.locator("input[name=name]").fill("express-run")
    page.locator("textarea[name=input]").fill(json.dumps({"note": XSS}))
    page.get_by_role("button", name="Start").click()
    expect(page.locator("h1")).to_have_text("Execution express-run")
    expect(page.locator("main > p").first).to_contain_text("Express")
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)  # InvalidArn on AWS
    # Its page follows it live, then shows its output and its graph's trace.
    expect(page.locator(".status")).to_have_text("SUCCEEDED", timeout=BOUND_MS)
    assert json.loads(page.locator(".cols pre").nth(1).inner_text()) == {"note": XSS}
    report = page.frame_locator("#report")
    expect(report.locator("g.node.status-succeeded", has_text="Echo")).to_have_count(1)
    # An Express ARN ends with an id after the name: the report is titled by the name.
    expect(report.locator("h1")).to_have_text("Execution express-run")
    page.get_by_role("link", name="Executions").click()
    expect(page.locator("h2", has_text="Express executions started here")).to_be_visible()
    page.get_by_role("link", name="express-run").click()
    expect(page.locator(".status")).to_have_text("SUCCEEDED")


def test_a_map_run_childs_page_draws_its_item_processor(server: RunningServer, page: Page) -> None:
    execution = _open_fan_out_execution(server, page)
    expect(page.locator("h2", has_text="Map Runs")).to_be_visible()
    page.locator("h3 + table tbody a").first.click()
    expect(page.locator(".status")).to_have_text("SUCCEEDED")
    report = page.frame_locator("#report")
    # The child's graph is its Map's ItemProcessor (one state, Double), with its trace.
    expect(report.locator("g.node.state")).to_have_count(1)
    expect(report.locator("g.node.status-succeeded", has_text="Double")).to_have_count(1)
    page.get_by_role("link", name=execution["executionArn"].rsplit(":", 1)[1]).click()
    expect(page.locator("h2", has_text="Map Runs")).to_be_visible()


def test_an_executions_trace_draws_its_distributed_maps_items_as_run(
    server: RunningServer, page: Page
) -> None:
    _open_fan_out_execution(server, page)
    report = page.frame_locator("#report")
    # The Map Run's children folded in: the ItemProcessor's Double ran twice.
    expect(report.locator("g.node.state.status-succeeded", has_text="Double")).to_contain_text(
        "2 runs"
    )
    expect(report.locator("g.node.state.status-not_reached")).to_have_count(0)


def test_the_schedules_page_links_each_run_to_its_execution(tmp_path: Path, page: Page) -> None:
    with serve_in_thread(ServiceSettings(schedules=schedules_file(tmp_path))) as server:
        client = sfn(server)
        (started,) = until(lambda: client.list_executions(stateMachineArn=CLEANUP)["executions"])
        until(lambda: _status(client, started["executionArn"]) == "SUCCEEDED")
        page.goto(server.url + "/console/")
        page.get_by_role("link", name="Schedules").click()
        expect(page.locator("h1")).to_have_text("Schedules")
        expect(page.locator("tbody tr")).to_have_count(3)
        paused = page.locator("tr", has_text="paused")
        expect(paused).to_contain_text("DISABLED")
        expect(paused).to_contain_text("none yet")
        hourly = page.locator("tr", has_text="hourly")
        expect(hourly.locator("code")).to_have_text("rate(1 hour)")
        expect(hourly.locator(".status")).to_have_text("SUCCEEDED")
        hourly.locator("a[href*='/console/execution']").click()
        expect(page.locator("h1")).to_have_text(f"Execution {started['name']}")
        expect(page.locator(".status")).to_have_text("SUCCEEDED")


def test_long_data_wraps_inside_the_page(server: RunningServer, page: Page) -> None:
    # A Lambda's error cause holds its stack trace on long lines; a path in it has no space
    # to break at. Shown in a table's cells, such text must wrap there rather than widen
    # the table, and the page with it, past the window (there was a 6,000-pixel-wide page).
    client = sfn(server)
    long_line = "File /" + "/".join(["a-rather-long-folder-name"] * 30) + "/functions.py"
    definition = {
        "StartAt": "Keep",
        "States": {
            "Keep": {"Type": "Pass", "Next": "Fail"},
            "Fail": {"Type": "Fail", "Error": "Broken", "Cause": long_line},
        },
    }
    arn = client.create_state_machine(name="wide", definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    execution = client.start_execution(
        stateMachineArn=arn, name="wide-run", input=json.dumps({"trace": long_line})
    )["executionArn"]
    until(lambda: _status(client, execution) == "FAILED")
    page.goto(server.url + "/console/executions")
    page.get_by_role("link", name="wide-run").click()
    expect(page.locator("h2", has_text="States")).to_be_visible()
    viewport = page.viewport_size
    assert viewport is not None
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def test_a_page_asks_for_nothing_the_server_lacks(server: RunningServer, page: Page) -> None:
    # Chromium asked for /favicon.ico, answered 404, and logged the error in the console.
    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text))
    page.on("requestfailed", lambda request: logged.append(request.url))
    page.goto(server.url + "/console/", wait_until="networkidle")
    page.get_by_role("link", name="Executions").click()
    page.wait_for_load_state("networkidle")
    assert logged == []
