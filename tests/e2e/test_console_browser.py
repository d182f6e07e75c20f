"""The web console in headless Chromium (Debian's, driven by Playwright): the executions
list, a running execution's page updating itself, a task approved and one rejected with a
click, an execution started from its machine's page, and a state named like a script that
stays text."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from runtime.service import ServiceSettings
from runtime.service.server import RunningServer, serve_in_thread
from tests.e2e.console_helpers import ROLE, XSS, approval_machine, sfn
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


def test_a_running_execution_updates_itself(server: RunningServer, page: Page) -> None:
    client = sfn(server)
    # Two waits: the history grows after the first while the execution still runs.
    definition = {
        "StartAt": "Short",
        "States": {
            "Short": {"Type": "Wait", "Seconds": 1, "Next": "Long"},
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
    # The history grows as the Wait ends: the report frame is fetched again.
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
