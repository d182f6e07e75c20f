"""Spec cases of kind ``api``: calls of the Step Functions API, sent over HTTP in the AWS
JSON 1.0 protocol to a fresh ``asl serve`` server (in this process, virtual clock).

Case fields:
- ``calls``: made in order, each ``{"operation": <name>, "body": {...}}`` with:
  - ``save``: a name for the call's response; later strings may say ``${name.member}``
    (``${machine.stateMachineArn}``) and get that member of it, or go deeper, a list's
    items by position (``${runs.mapRuns.0.mapRunArn}``);
  - ``error``: ``{"type": <__type>, "message"?: <text>}``, the error the call must get
    (status 400); without it the call must succeed;
  - ``response``: members the response must have, with these values;
  - ``absent``: members the response must not have;
  - ``each``: ``{<list member>: {<member>: <value>}}``, members every item of a list
    member of the response must have, with these values (null: not at all; the list
    must not be empty);
  - ``eventTypes``: for GetExecutionHistory, the types of the events answered;
  - ``untilDone``: for StartExecution (or RedriveExecution), wait until the execution has
    ended.
- ``{"restart": true}`` in place of a call: the server stops and another starts on the
  same database (with ``durable``: what a restarted ``asl serve --db FILE`` answers).
- ``durable``: true to serve with a database file (``--db``), which RedriveExecution needs.
  A string that is one placeholder gets the member itself, whatever its type. A
  ``definition`` member given as an object is sent as its JSON text.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from runtime.service import ServiceSettings, serve_in_thread

_PLACEHOLDER = re.compile(r"\$\{(\w+(?:\.\w+)+)\}")
_DONE_WITHIN = 10.0  # seconds of real time


def call(url: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One request in the AWS JSON 1.0 protocol: the status and the decoded answer."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"AWSStepFunctions.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as failed:
        return failed.code, json.loads(failed.read())


def _member(saved: dict[str, dict[str, Any]], path: str) -> Any:
    """The value ``name.member[.member|.index]...`` names in the saved responses."""
    found: Any = saved
    for step in path.split("."):
        found = found[int(step)] if isinstance(found, list) else found[step]
    return found


def _fill(value: Any, saved: dict[str, dict[str, Any]]) -> Any:
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole is not None:  # the member itself, of whatever type (a date is a number)
            return _member(saved, whole.group(1))
        return _PLACEHOLDER.sub(lambda m: str(_member(saved, m.group(1))), value)
    if isinstance(value, list):
        return [_fill(item, saved) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, saved) for key, item in value.items()}
    return value


def _until_done(url: str, execution_arn: str) -> None:
    deadline = time.monotonic() + _DONE_WITHIN
    while time.monotonic() < deadline:
        _, described = call(url, "DescribeExecution", {"executionArn": execution_arn})
        if described.get("status") != "RUNNING":
            return
        time.sleep(0.01)
    raise AssertionError(f"{execution_arn} did not end")


def _check(step: dict[str, Any], status: int, answer: dict[str, Any], saved: Any) -> None:
    where = step["operation"]
    error = step.get("error")
    if error is not None:
        assert status == 400, (where, status, answer)
        assert answer["__type"] == error["type"], (where, answer)
        if "message" in error:
            assert answer["message"] == _fill(error["message"], saved), (where, answer)
        return
    assert status == 200, (where, status, answer)
    for key, expected in _fill(step.get("response", {}), saved).items():
        assert answer.get(key) == expected, (where, key, answer.get(key), expected)
    for key in step.get("absent", []):
        assert key not in answer, (where, key, answer)
    for key, members in _fill(step.get("each", {}), saved).items():
        assert answer.get(key), (where, key, answer)
        for item in answer[key]:
            for member, expected in members.items():
                assert item.get(member) == expected, (where, key, member, item)
    if "eventTypes" in step:
        assert [event["type"] for event in answer["events"]] == step["eventTypes"], answer


def run(case: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "state.sqlite3" if case.get("durable") else ":memory:"
        _run_calls(case, ServiceSettings(clock="virtual", activity_poll_seconds=0.2, db=db))


def _run_calls(case: dict[str, Any], settings: ServiceSettings) -> None:
    saved: dict[str, dict[str, Any]] = {}
    with ExitStack() as serving:
        server = serving.enter_context(serve_in_thread(settings))
        for step in case["calls"]:
            if step.get("restart"):
                serving.close()  # the server stops; another serves the same database
                server = serving.enter_context(serve_in_thread(settings))
                continue
            body = _fill(step.get("body", {}), saved)
            if isinstance(body.get("definition"), dict):
                body["definition"] = json.dumps(body["definition"])
            status, answer = call(server.url, step["operation"], body)
            _check(step, status, answer, saved)
            if step.get("untilDone"):
                _until_done(server.url, answer.get("executionArn", body.get("executionArn")))
            if "save" in step:
                saved[step["save"]] = answer
