"""What the console tests share: a server with a few machines, and a browser-like client
(its cookies kept, its forms posted with the page's CSRF value)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from runtime.service.console.guard import SESSION_COOKIE
from runtime.service.server import RunningServer
from tests.e2e.test_serve_boto3 import DISTRIBUTED
from tests.serving import sfn_client

ROLE = "arn:aws:iam::123456789012:role/r"
XSS = "<script>alert(1)</script>"
#: The machine the schedules of :func:`schedules_file` start.
CLEANUP = "arn:aws:states:us-east-1:123456789012:stateMachine:cleanup"


def sfn(server: RunningServer) -> Any:
    """A boto3 client of the server."""
    return sfn_client(server.url)


def approval_machine(client: Any, name: str = "approval") -> tuple[str, str]:
    """A machine whose one Task waits on an activity, then a state named like a script."""
    activity = client.create_activity(name=f"{name}-review")["activityArn"]
    definition = {
        "StartAt": "Review",
        "States": {
            "Review": {"Type": "Task", "Resource": activity, "Next": XSS},
            XSS: {"Type": "Pass", "End": True},
        },
    }
    arn = client.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    return arn, activity


def waiting_machine(client: Any, seconds: int = 2) -> str:
    """A machine that waits ``seconds`` then passes."""
    definition = {
        "StartAt": "Pause",
        "States": {
            "Pause": {"Type": "Wait", "Seconds": seconds, "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
    return client.create_state_machine(
        name="waiting", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]


def fan_out_machine(client: Any) -> str:
    """A machine whose Distributed Map ``Each`` runs ``Double`` (a Pass) per item of
    ``$.items``, each item a child execution of a Map Run."""
    definition = json.dumps(DISTRIBUTED)
    return str(
        client.create_state_machine(name="fan-out", definition=definition, roleArn=ROLE)[
            "stateMachineArn"
        ]
    )


def schedules_file(folder: Path) -> Path:
    """Three schedules of one machine made from a definition file: one that fires when
    the server starts (a new rate schedule fires at once), one on a Paris clock, one off."""
    (folder / "cleanup.asl.yaml").write_text(
        "StartAt: Clean\nStates:\n  Clean:\n    Type: Pass\n    End: true\n"
    )
    target = {"Arn": "cleanup.asl.yaml"}
    entries = [
        {"Name": "hourly", "ScheduleExpression": "rate(1 hour)", "Target": target},
        {
            "Name": "nightly",
            "ScheduleExpression": "cron(0 3 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/Paris",
            "Target": target,
        },
        {
            "Name": "paused",
            "ScheduleExpression": "rate(5 minutes)",
            "State": "DISABLED",
            "Target": target,
        },
    ]
    path = folder / "schedules.json"
    path.write_text(json.dumps({"Schedules": entries}))
    return path


class Browser:
    """A session that keeps its cookies and posts forms as the console's pages do."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def get(self, path: str, **params: str) -> requests.Response:
        """GET a console page (its session cookie kept)."""
        return self.session.get(self.url + path, params=params, timeout=30)

    def post(
        self, path: str, headers: dict[str, str] | None = None, **form: str
    ) -> requests.Response:
        """POST a console form as the page would, with its CSRF value."""
        return self.session.post(
            self.url + path,
            # The session cookie's value is what every form of the console repeats.
            data={"csrf": self.session.cookies.get(SESSION_COOKIE, ""), **form},
            headers={"Origin": self.url, "Sec-Fetch-Site": "same-origin", **(headers or {})},
            timeout=30,
        )
