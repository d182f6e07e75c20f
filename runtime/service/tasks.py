"""Task tokens and activities: SendTaskSuccess/Failure/Heartbeat, Create/Delete/Describe/
ListActivities and GetActivityTask.

Recorded against AWS (localstack test_sfn_api_activities snapshots): creating an
activity again answers the first creation; deleting one twice succeeds; describing or
polling a deleted one is ``ActivityDoesNotExist: Activity Does Not Exist: '<arn>'``; a bad
name is ``InvalidName: Invalid Name: '<name>'``. GetActivityTask holds the poll up to 60
seconds and answers no token when no task came (the API reference).
"""

from __future__ import annotations

from typing import Any

from asl.jsontext import json_text
from runtime.api_limits import valid_name
from runtime.service.arns import parse_arn
from runtime.service.backend import Backend, Operation
from runtime.service.catalog import ActivityRecord
from runtime.service.errors import ActivityDoesNotExist, InvalidName
from runtime.service.paging import page
from runtime.service.tagging import tag_list
from runtime.tokens import parse_output

__all__ = ["OPERATIONS"]


async def send_task_success(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """SendTaskSuccess."""
    await backend.executions.send_task_success(body["taskToken"], parse_output(body["output"]))
    return {}


async def send_task_failure(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """SendTaskFailure."""
    await backend.executions.send_task_failure(
        body["taskToken"], body.get("error"), body.get("cause")
    )
    return {}


async def send_task_heartbeat(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """SendTaskHeartbeat."""
    await backend.executions.send_task_heartbeat(body["taskToken"])
    return {}


async def create_activity(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """CreateActivity (again with the same name: the same activity)."""
    name = body["name"]
    if not valid_name(name):
        raise InvalidName(name)
    arn = backend.arn("activity", name)
    tags = tag_list(body.get("tags") or [], arn)
    record = backend.catalog.activity(arn)
    if record is None:
        record = ActivityRecord(arn, name, backend.now())
        backend.catalog.put_activity(record)
        backend.catalog.set_tags(arn, tags)
    return {"activityArn": arn, "creationDate": record.created}


def _activity(backend: Backend, text: str) -> ActivityRecord:
    record = backend.catalog.activity(parse_arn(text, "activity").text)
    if record is None:
        raise ActivityDoesNotExist(text)
    return record


async def describe_activity(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeActivity."""
    record = _activity(backend, body["activityArn"])
    return {"activityArn": record.arn, "name": record.name, "creationDate": record.created}


async def delete_activity(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteActivity (one that is not there: fine)."""
    backend.catalog.delete_activity(parse_arn(body["activityArn"], "activity").text)
    return {}


async def list_activities(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListActivities, by ARN."""
    shown, more = page(backend.catalog.activities(), body)
    listed = [{"activityArn": r.arn, "name": r.name, "creationDate": r.created} for r in shown]
    return {"activities": listed, **more}


async def get_activity_task(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """GetActivityTask: the oldest task waiting for a worker of the activity, waiting for
    one up to the poll time; ``{}`` (no token) when none came."""
    record = _activity(backend, body["activityArn"])
    task = await backend.executions.get_activity_task(
        record.arn, body.get("workerName"), backend.activity_poll_seconds
    )
    if task is None:
        return {}
    token, value = task
    return {"taskToken": token, "input": json_text(value)}


OPERATIONS: dict[str, Operation] = {
    "SendTaskSuccess": send_task_success,
    "SendTaskFailure": send_task_failure,
    "SendTaskHeartbeat": send_task_heartbeat,
    "CreateActivity": create_activity,
    "DescribeActivity": describe_activity,
    "DeleteActivity": delete_activity,
    "ListActivities": list_activities,
    "GetActivityTask": get_activity_task,
}
