"""Take the README's pictures of the web console (PNG, 1200x800) in headless Chromium:

    PYTHONPATH=. python docs/console/screenshots.py

A server on a free loopback port gets an order workflow with an approval step, a few
executions (one waiting, one approved, one rejected), the console tests' schedules (one
fires as the server starts), and each page is saved here.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config
from playwright.sync_api import sync_playwright

from runtime.service import ServiceSettings, serve_in_thread
from tests.e2e.console_helpers import schedules_file

HERE = Path(__file__).parent
ROLE = "arn:aws:iam::123456789012:role/r"


def _definition(activity: str) -> dict[str, object]:
    return {
        "Comment": "Orders over 100 need a person's approval",
        "StartAt": "Price",
        "States": {
            "Price": {"Type": "Pass", "Parameters": {"total.$": "$.total"}, "Next": "Large?"},
            "Large?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Approve"}],
                "Default": "Ship",
            },
            "Approve": {
                "Type": "Task",
                "Resource": activity,
                "ResultPath": "$.approval",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Refused"}],
                "Next": "Ship",
            },
            "Ship": {"Type": "Pass", "Result": "shipped", "ResultPath": "$.status", "End": True},
            "Refused": {"Type": "Fail", "Error": "OrderRefused", "Cause": "Not approved"},
        },
    }


def main() -> None:
    """Save one PNG per console page."""
    with tempfile.TemporaryDirectory() as folder:
        schedules = schedules_file(Path(folder))
        settings = ServiceSettings(activity_poll_seconds=1.0, schedules=schedules)
        with serve_in_thread(settings) as server:
            _shoot(server.url)


def _shoot(url: str) -> None:
    """The machines and executions of the pictures, then one PNG per page."""
    client = boto3.client(
        "stepfunctions", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id="k", aws_secret_access_key="s",
        config=Config(inject_host_prefix=False),
    )  # fmt: skip
    activity = client.create_activity(name="order-approval")["activityArn"]
    arn = client.create_state_machine(
        name="orders", definition=json.dumps(_definition(activity)), roleArn=ROLE
    )["stateMachineArn"]
    execution_prefix = arn.replace(":stateMachine:", ":execution:")
    for name, total in (("small-1", 40), ("big-1", 250), ("big-2", 900)):
        client.start_execution(stateMachineArn=arn, name=name, input=json.dumps({"total": total}))
    answers = {250: ("ana", None), 900: (None, "over the limit")}
    for _ in answers:
        task = client.get_activity_task(activityArn=activity)
        approver, refusal = answers[json.loads(task["input"])["total"]]
        if approver:
            client.send_task_success(
                taskToken=task["taskToken"], output=json.dumps({"by": approver})
            )
        else:
            client.send_task_failure(taskToken=task["taskToken"], error="TooLarge", cause=refusal)
    client.start_execution(stateMachineArn=arn, name="big-3", input='{"total": 120}')
    time.sleep(0.5)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        shots = {
            "machines": "/console/",
            "machine": f"/console/machine?arn={arn}",
            "executions": "/console/executions",
            "execution": f"/console/execution?arn={execution_prefix}:big-1",
            "execution-failed": f"/console/execution?arn={execution_prefix}:big-2",
            "tasks": "/console/tasks",
            "schedules": "/console/schedules",
        }
        for name, path in shots.items():
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=HERE / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main()
