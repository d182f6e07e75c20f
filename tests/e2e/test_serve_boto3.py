"""`asl serve` driven by boto3, unmodified but for its endpoint: a server in this process
(a thread of its own, a free port on 127.0.0.1, virtual time)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from runtime.service import ServiceSettings, serve_in_thread
from tests.polling import until
from tests.serving import APPROVAL, sfn_client
from tests.serving import ended as _done

# One server for the module: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("serve_boto3")

ROLE = "arn:aws:iam::123456789012:role/service-role/tests"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
MOCKED = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge"},
            "OutputPath": "$.Payload",
            "End": True,
        }
    },
}
MOCK_CONFIG = {
    "StateMachines": {"billing": {"TestCases": {"Paid": {"Charge": "Paid"}}}},
    "MockedResponses": {"Paid": {"0": {"Return": {"Payload": {"paid": True}}}}},
}
BOUND = 10.0  # seconds: every wait here ends well before
HANDLERS = """
import boto3
from botocore.config import Config


def notify(event, context):
    return {}


def refuse(event, context):
    raise RuntimeError("not now")


def answer_at_once(event, context):
    # A function handed a task token that answers it itself, before returning; a second
    # answer is refused.
    sfn = boto3.client(
        "stepfunctions", endpoint_url=event["endpoint"], region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )
    sfn.send_task_success(taskToken=event["token"], output='{"at_once": true}')
    try:
        sfn.send_task_success(taskToken=event["token"], output='{"twice": true}')
    except sfn.exceptions.TaskTimedOut:
        return {"again": "TaskTimedOut"}
    return {"again": "taken"}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("serve")
    (folder / "handlers.py").write_text(HANDLERS)
    functions = {
        "notify": "handlers:notify",
        "answer_at_once": "handlers:answer_at_once",
        "refuse": "handlers:refuse",
    }
    (folder / "functions.json").write_text(json.dumps({"functions": functions}))
    (folder / "mocks.json").write_text(json.dumps(MOCK_CONFIG))
    settings = ServiceSettings(
        clock="virtual",
        functions=folder / "functions.json",
        mock_config=folder / "mocks.json",
        activity_poll_seconds=0.5,
    )
    with serve_in_thread(settings) as running:
        yield running.url


@pytest.fixture(scope="module")
def sfn(server: str) -> Any:
    return sfn_client(server)


def _machine(sfn: Any, name: str, definition: dict[str, Any], **extra: Any) -> str:
    made = sfn.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE, **extra
    )
    return str(made["stateMachineArn"])


def test_create_start_wait_for_the_token_and_approve(sfn: Any) -> None:
    arn = _machine(sfn, "approval", APPROVAL)
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"order": 7}))

    def token() -> str | None:
        events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
        for event in events:
            if event["type"] == "TaskScheduled":
                parameters = json.loads(event["taskScheduledEventDetails"]["parameters"])
                return str(parameters["Payload"]["token"])
        return None

    sfn.send_task_success(taskToken=until(token, BOUND), output=json.dumps({"approved": True}))
    described = _done(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"order": 7, "approval": {"approved": True}}
    assert described["startDate"] <= described["stopDate"]  # epoch numbers parsed by botocore
    history = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    assert [e["type"] for e in history][-3:] == [
        "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip


def test_a_function_that_answers_its_token_before_returning_is_heard(sfn: Any, server: str) -> None:
    """The callback pattern as AWS's guide shows it: the function handed the token calls
    SendTaskSuccess itself. The answer comes while the Task still runs the function,
    before the wait on the token is recorded: AWS takes it (the task is open from its
    start); it was ``TaskDoesNotExist``, and the function failed. A second answer is
    ``TaskTimedOut``, as once the wait is recorded."""
    ask = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": "answer_at_once",
            "Payload": {"token.$": "$$.Task.Token", "endpoint": server},
        },
        "End": True,
    }
    arn = _machine(sfn, "at-once", {"StartAt": "Ask", "States": {"Ask": ask}})
    started = sfn.start_execution(stateMachineArn=arn)
    done = _done(sfn, started["executionArn"], BOUND)
    assert (done["status"], json.loads(done["output"])) == ("SUCCEEDED", {"at_once": True})
    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    [submitted] = [e for e in events if e["type"] == "TaskSubmitted"]
    output = json.loads(submitted["taskSubmittedEventDetails"]["output"])
    assert output["Payload"] == {"again": "TaskTimedOut"}


def _callback(function: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": function, "Payload": {"token.$": "$$.Task.Token"}},
        **extra,
    }


def _refused(call: Any, **request: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call(**request)
    return str(refused.value.response["Error"]["Code"])


def test_a_token_whose_task_failed_before_waiting_is_over(sfn: Any) -> None:
    """A callback Task whose function was handed its token (and the TaskScheduled event
    shows it) but failed, so the Task never waited on it: an answer to that token is one
    to a task that is over, AWS's ``TaskTimedOut`` ("the task associated with the token
    has already been closed", the SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat
    API references), while its execution goes on and once it has ended; it was
    ``TaskDoesNotExist``. Ask's failure is caught; Hold keeps the execution running."""
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Hold"}]
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": _callback("refuse", Catch=catch, Next="Hold"),
            "Hold": _callback("notify", End=True),
        },
    }
    arn = sfn.start_execution(stateMachineArn=_machine(sfn, "refused", definition))["executionArn"]

    def holding() -> list[dict[str, Any]] | None:
        events = sfn.get_execution_history(executionArn=arn)["events"]
        return events if any(e["type"] == "TaskSubmitted" for e in events) else None

    events = until(holding, BOUND)
    assert [e["type"] for e in events if e["type"].startswith("Task")] == [
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "TaskStateExited",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted",
    ]  # fmt: skip
    ask, hold = [
        json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
        for e in events
        if e["type"] == "TaskScheduled"
    ]
    answers = [
        (sfn.send_task_success, {"taskToken": ask, "output": "{}"}),
        (sfn.send_task_failure, {"taskToken": ask, "error": "Late"}),
        (sfn.send_task_heartbeat, {"taskToken": ask}),
    ]
    assert [_refused(call, **request) for call, request in answers] == ["TaskTimedOut"] * 3
    sfn.send_task_success(taskToken=hold, output="{}")
    assert _done(sfn, arn, BOUND)["status"] == "SUCCEEDED"
    assert [_refused(call, **request) for call, request in answers] == ["TaskTimedOut"] * 3


def test_lists_and_history_come_in_pages(sfn: Any) -> None:
    arn = _machine(sfn, "paged", PASS)
    names = [f"run-{i}" for i in range(3)]
    for name in names:
        _done(sfn, sfn.start_execution(stateMachineArn=arn, name=name)["executionArn"])
    first = sfn.list_executions(stateMachineArn=arn, maxResults=2)
    second = sfn.list_executions(stateMachineArn=arn, maxResults=2, nextToken=first["nextToken"])
    listed = [e["name"] for e in first["executions"] + second["executions"]]
    assert listed == names[::-1] and "nextToken" not in second
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=arn, PaginationConfig={"PageSize": 1}
    )
    assert [e["name"] for page in pages for e in page["executions"]] == names[::-1]

    execution_arn = f"{arn.replace(':stateMachine:', ':execution:')}:run-0"
    forward = sfn.get_execution_history(executionArn=execution_arn)["events"]
    newest = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=2)
    rest = sfn.get_execution_history(
        executionArn=execution_arn, reverseOrder=True, nextToken=newest["nextToken"]
    )
    assert [e["id"] for e in newest["events"] + rest["events"]] == [e["id"] for e in forward][::-1]
    assert forward[0]["executionStartedEventDetails"]["input"] == "{}"
    bare = sfn.get_execution_history(executionArn=execution_arn, includeExecutionData=False)
    assert "input" not in bare["events"][0]["executionStartedEventDetails"]


def test_errors_are_the_modelled_exception_classes(sfn: Any) -> None:
    arn = _machine(sfn, "errors", PASS)
    missing = arn.replace(":stateMachine:", ":execution:") + ":nope"
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=missing)
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.start_execution(stateMachineArn=arn + "-gone")
    with pytest.raises(sfn.exceptions.InvalidArn) as invalid:
        sfn.describe_state_machine(stateMachineArn="not-an-arn")
    assert (
        invalid.value.response["Error"]["Message"]
        == "Invalid Arn: 'Invalid ARN prefix: not-an-arn'"
    )
    with pytest.raises(sfn.exceptions.InvalidArn):  # an ARN of the wrong kind
        sfn.describe_execution(executionArn=arn)
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.send_task_success(taskToken="not a token!", output="{}")
    with pytest.raises(sfn.exceptions.InvalidToken):
        sfn.list_state_machines(nextToken="not one of ours")
    with pytest.raises(sfn.exceptions.TaskDoesNotExist):
        sfn.send_task_heartbeat(taskToken="A" * 43)  # well formed, never issued
    with pytest.raises(sfn.exceptions.InvalidExecutionInput):
        sfn.start_execution(stateMachineArn=arn, input="{not json")
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.create_state_machine(name="broken", definition="{}", roleArn=ROLE)
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.start_execution(stateMachineArn=arn, input=json.dumps("x" * 262_144))


def test_a_role_that_is_no_iam_role_is_an_invalid_arn(sfn: Any) -> None:
    """AWS answers CreateStateMachine's role that is no IAM role's ARN with ``InvalidArn``,
    ``Invalid Role Arn: '<arn>'`` (aws/amazon-sagemaker-examples#2430, run against AWS;
    Step Functions Local for a policy's ARN, localstack/localstack#2027). Which ARNs it
    takes is not published: ours takes any IAM role's (see ``runtime.service.arns``)."""
    not_roles = [
        "not-an-arn",
        "arn:aws:iam::aws:policy/AWSBatchFullAccess",
        "arn:aws:iam::123456789012:user/someone",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/has space",
    ]
    for role in not_roles:
        with pytest.raises(sfn.exceptions.InvalidArn) as refused:
            sfn.create_state_machine(name="roles", definition=json.dumps(PASS), roleArn=role)
        assert refused.value.response["Error"]["Message"] == f"Invalid Role Arn: '{role}'"
    assert "roles" not in [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    arn = _machine(sfn, "roles", PASS)
    with pytest.raises(sfn.exceptions.InvalidArn) as refused:
        sfn.update_state_machine(stateMachineArn=arn, roleArn="not-an-arn")
    assert refused.value.response["Error"]["Message"] == "Invalid Role Arn: 'not-an-arn'"
    assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] == ROLE
    other = "arn:aws-cn:iam::111122223333:role/service-role/Other+Role=1,a.b@c-d_e"
    sfn.update_state_machine(stateMachineArn=arn, roleArn=other)
    assert sfn.describe_state_machine(stateMachineArn=arn)["roleArn"] == other


def _raw(url: str, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
    )
    try:
        with urllib.request.urlopen(request, timeout=BOUND) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as failed:
        return failed.code, json.loads(failed.read())


def test_malformed_json_and_unknown_operations_are_client_errors(server: str) -> None:
    status, answer = _raw(server, "AWSStepFunctions.ListStateMachines", b"{not json")
    assert (status, answer["__type"].split("#")[-1]) == (400, "SerializationException")
    status, answer = _raw(server, "AWSStepFunctions.ListStateMachines", b"[]")
    assert (status, answer["__type"].split("#")[-1]) == (400, "SerializationException")
    status, answer = _raw(server, "AWSStepFunctions.MakeCoffee", b"{}")
    assert (status, answer["__type"].split("#")[-1]) == (400, "UnknownOperationException")
    status, answer = _raw(server, "", b"{}")
    assert (status, answer["__type"].split("#")[-1]) == (400, "UnknownOperationException")
    status, answer = _raw(server, "AWSStepFunctions.ListStateMachines", b'{"maxResults": "ten"}')
    assert (status, answer["__type"].split("#")[-1]) == (400, "SerializationException")


def test_a_worker_polls_an_activity_and_answers(sfn: Any) -> None:
    activity = sfn.create_activity(name="review")["activityArn"]
    assert "taskToken" not in sfn.get_activity_task(activityArn=activity)  # the poll ran out
    definition = {
        "StartAt": "Review",
        "States": {"Review": {"Type": "Task", "Resource": activity, "End": True}},
    }
    started = sfn.start_execution(
        stateMachineArn=_machine(sfn, "reviewed", definition), input='{"doc": 1}'
    )
    task = sfn.get_activity_task(activityArn=activity, workerName="worker-1")
    assert json.loads(task["input"]) == {"doc": 1}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_failure(taskToken=task["taskToken"], error="Rejected", cause="typos")
    described = _done(sfn, started["executionArn"])
    assert (described["status"], described["error"], described["cause"]) == (
        "FAILED",
        "Rejected",
        "typos",
    )


def test_start_sync_execution_with_the_host_prefix_turned_off(sfn: Any) -> None:
    arn = _machine(
        sfn,
        "quick",
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 42, "End": True}}},
        type="EXPRESS",
    )
    answer = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    assert (answer["status"], answer["output"]) == ("SUCCEEDED", "42")


def test_a_mock_config_test_case_is_chosen_by_the_arn(sfn: Any) -> None:
    arn = _machine(sfn, "billing", MOCKED)
    started = sfn.start_execution(stateMachineArn=f"{arn}#Paid")
    described = _done(sfn, started["executionArn"])
    assert json.loads(described["output"]) == {"paid": True}
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.start_execution(stateMachineArn=f"{arn}#NoSuchCase")


def test_stop_execution(sfn: Any) -> None:
    arn = _machine(sfn, "stopped", APPROVAL)
    started = sfn.start_execution(stateMachineArn=arn)
    sfn.stop_execution(executionArn=started["executionArn"], error="Halt", cause="by hand")
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert (described["status"], described["error"]) == ("ABORTED", "Halt")


DISTRIBUTED = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Double",
                "States": {"Double": {"Type": "Pass", "End": True}},
            },
            "End": True,
        }
    },
}


def test_map_runs_and_their_child_executions(sfn: Any) -> None:
    arn = _machine(sfn, "fan-out", DISTRIBUTED)
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": [1, 2, 3]}))
    assert _done(sfn, started["executionArn"])["status"] == "SUCCEEDED"
    (listed,) = sfn.list_map_runs(executionArn=started["executionArn"])["mapRuns"]
    described = sfn.describe_map_run(mapRunArn=listed["mapRunArn"])
    assert described["status"] == "SUCCEEDED"
    # Every member of MapRunItemCounts and MapRunExecutionCounts, as botocore reads them
    # (tests/spec/api/map_run_counts.json asserts their values against AWS's records).
    for counts in (described["itemCounts"], described["executionCounts"]):
        assert counts == {
            "pending": 0, "running": 0, "succeeded": 3, "failed": 0, "timedOut": 0,
            "aborted": 0, "total": 3, "resultsWritten": 3, "failuresNotRedrivable": 0,
            "pendingRedrive": 0,
        }  # fmt: skip
    children = sfn.list_executions(mapRunArn=listed["mapRunArn"])["executions"]
    assert len(children) == 3
    child = sfn.describe_execution(executionArn=children[0]["executionArn"])
    assert child["status"] == "SUCCEEDED" and child["stateMachineArn"] == listed["stateMachineArn"]
    with pytest.raises(sfn.exceptions.ResourceNotFound):
        sfn.describe_map_run(mapRunArn=listed["mapRunArn"] + "0")
