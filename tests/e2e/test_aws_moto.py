"""The AWS integrations end to end: the engine's public API, aiobotocore on the wire, and a
real moto server on 127.0.0.1 (one per module). Expected shapes, error names and causes are
AWS's, recorded in localstack tests/aws/services/stepfunctions/v2/**/*.snapshot.json."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from integrations.aws import AwsClients, AwsConfig, install
from integrations.base import Registry
from runtime.executions import Engine, Execution
from runtime.host import LocalHost

REQUEST_ID = r"[A-Za-z0-9-]+"


@dataclass
class Aws:
    """An engine whose registry serves the AWS integrations, and plain clients to the
    same endpoint to set up and inspect resources."""

    clients: AwsClients
    host: LocalHost
    engine: Engine

    async def run(self, definition: dict[str, Any], input_value: Any = None) -> Execution:
        machine = self.engine.create_state_machine(definition)
        return await (await machine.start(input_value)).wait()

    async def queue(self) -> str:
        async with self.clients.client("sqs") as sqs:
            response = await sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:12]}")
        return str(response["QueueUrl"])

    async def receive(self, queue_url: str) -> list[dict[str, Any]]:
        async with self.clients.client("sqs") as sqs:
            response = await sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
        return list(response.get("Messages", []))


@pytest.fixture
def aws(moto_url: str) -> Aws:
    registry = Registry()
    clients = install(registry, AwsConfig(endpoint_url=moto_url)).clients
    host = LocalHost(invoker=registry)
    return Aws(clients, host, Engine(host))


def task(resource: str, parameters: Any, **fields: Any) -> dict[str, Any]:
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    return {"StartAt": "Task", "States": {"Task": {**state, **fields}}}


def events_of(execution: Execution, event_type: str) -> list[dict[str, Any]]:
    return [e for e in execution.history_json()["events"] if e["type"] == event_type]


def assert_sdk_metadata(result: dict[str, Any]) -> None:
    http = result["SdkHttpMetadata"]
    assert http["HttpStatusCode"] == 200
    assert set(http) == {"AllHttpHeaders", "HttpHeaders", "HttpStatusCode"}
    assert all(isinstance(v, list) for v in http["AllHttpHeaders"].values())
    lower = {name.lower(): value for name, value in http["HttpHeaders"].items()}
    assert result["SdkResponseMetadata"] == {"RequestId": lower["x-amzn-requestid"]}


# --- SQS --------------------------------------------------------------------------------


async def test_sqs_send_message_text_body(aws: Aws) -> None:
    queue = await aws.queue()
    execution = await aws.run(
        task("arn:aws:states:::sqs:sendMessage", {"QueueUrl.$": "$.q", "MessageBody": "hello"}),
        {"q": queue},
    )
    assert execution.status == "SUCCEEDED", execution.cause
    output = execution.output
    assert list(output) == [
        "MD5OfMessageBody",
        "MessageId",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
    ]
    assert output["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"  # md5("hello")
    assert_sdk_metadata(output)
    [message] = await aws.receive(queue)
    assert message["Body"] == "hello"
    assert message["MessageId"] == output["MessageId"]
    scheduled = events_of(execution, "TaskScheduled")[0]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("sqs", "sendMessage")


async def test_sqs_send_message_object_body_is_sent_as_json_text(aws: Aws) -> None:
    queue = await aws.queue()
    body = {"order": {"id": 7, "items": ["a", "b"]}, "ok": True}
    execution = await aws.run(
        task("arn:aws:states:::sqs:sendMessage", {"QueueUrl": queue, "MessageBody.$": "$"}), body
    )
    assert execution.status == "SUCCEEDED", execution.cause
    [message] = await aws.receive(queue)
    assert message["Body"] == '{"order":{"id":7,"items":["a","b"]},"ok":true}'


async def test_sqs_wait_for_task_token(aws: Aws) -> None:
    queue = await aws.queue()
    definition = task(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        {"QueueUrl": queue, "MessageBody": {"Message.$": "$.m", "TaskToken.$": "$$.Task.Token"}},
    )
    machine = aws.engine.create_state_machine(definition)
    execution = await machine.start({"m": "work"})
    [message] = await aws.receive(queue)
    body = json.loads(message["Body"])
    assert body["Message"] == "work"
    while not any(p.token == body["TaskToken"] for p in aws.host.tokens.pending()):
        await asyncio.sleep(0.01)
    aws.host.tokens.send_success(body["TaskToken"], {"done": True})
    await execution.wait()
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output == {"done": True}
    [submitted] = events_of(execution, "TaskSubmitted")
    details = submitted["taskSubmittedEventDetails"]
    assert details["resource"] == "sendMessage.waitForTaskToken"
    submitted_output = json.loads(details["output"])  # the API returns details as JSON text
    assert submitted_output["MessageId"] == message["MessageId"]
    assert_sdk_metadata(submitted_output)


async def test_sqs_missing_queue(aws: Aws) -> None:
    queue = await aws.queue()
    execution = await aws.run(
        task("arn:aws:states:::sqs:sendMessage", {"QueueUrl": queue + "-gone", "MessageBody": "x"})
    )
    assert execution.status == "FAILED"
    assert execution.error == "SQS.QueueDoesNotExistException"
    assert re.fullmatch(
        r"The specified queue does not exist\. \(Service: AmazonSQS; Status Code: 400; "
        rf"Error Code: AWS\.SimpleQueueService\.NonExistentQueue; Request ID: {REQUEST_ID}; "
        r"Proxy: null\)",
        execution.cause or "",
    )
    failed = events_of(execution, "TaskFailed")[0]["taskFailedEventDetails"]
    assert (failed["error"], failed["cause"]) == (execution.error, execution.cause)


async def test_sqs_null_body_is_a_missing_parameter(aws: Aws) -> None:
    # recorded against AWS: error_handling/test_task_service_sqs, send_message_empty_body
    queue = await aws.queue()
    definition = task(
        "arn:aws:states:::sqs:sendMessage",
        {"QueueUrl": queue, "MessageBody.$": "$.body"},
        Catch=[{"ErrorEquals": ["SQS.AmazonSQSException"], "Next": "Caught"}],
    )
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    execution = await aws.run(definition, {"body": None})
    assert execution.status == "SUCCEEDED"
    assert execution.output["Error"] == "SQS.AmazonSQSException"
    assert re.fullmatch(
        r"The request must contain the parameter MessageBody\. \(Service: AmazonSQS; "
        rf"Status Code: 400; Error Code: MissingParameter; Request ID: {REQUEST_ID}; "
        r"Proxy: null\)",
        execution.output["Cause"],
    )


async def test_unreachable_endpoint_is_sdk_client_exception() -> None:
    registry = Registry()
    install(registry, AwsConfig(endpoint_url="http://127.0.0.1:1"))
    engine = Engine(LocalHost(invoker=registry))
    for resource, params, name in [
        ("arn:aws:states:::sqs:sendMessage", {"QueueUrl": "q", "MessageBody": "x"}, "SQS"),
        ("arn:aws:states:::aws-sdk:s3:listBuckets", {}, "S3"),
    ]:
        machine = engine.create_state_machine(task(resource, params))
        execution = await (await machine.start()).wait()
        assert execution.error == f"{name}.SdkClientException"
        assert (execution.cause or "").startswith("Unable to execute HTTP request: ")


# --- SNS --------------------------------------------------------------------------------


async def test_sns_publish_delivers_an_object_message_as_json_text(aws: Aws) -> None:
    queue = await aws.queue()
    async with aws.clients.client("sqs") as sqs:
        attributes = await sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    async with aws.clients.client("sns") as sns:
        topic = (await sns.create_topic(Name=f"t-{uuid.uuid4().hex[:12]}"))["TopicArn"]
        await sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=attributes["Attributes"]["QueueArn"],
            Attributes={"RawMessageDelivery": "true"},
        )
    execution = await aws.run(
        task("arn:aws:states:::sns:publish", {"TopicArn": topic, "Message": {"Message": "Hi!"}})
    )
    assert execution.status == "SUCCEEDED", execution.cause
    assert list(execution.output) == ["MessageId", "SdkHttpMetadata", "SdkResponseMetadata"]
    assert_sdk_metadata(execution.output)
    [message] = await aws.receive(queue)
    assert message["Body"] == '{"Message":"Hi!"}'


async def test_sns_missing_topic(aws: Aws) -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    execution = await aws.run(
        task("arn:aws:states:::sns:publish", {"TopicArn": topic, "Message": "x"})
    )
    assert execution.error == "SNS.NotFoundException"
    assert re.fullmatch(
        r".+ \(Service: AmazonSNS; Status Code: 404; Error Code: NotFound; "
        rf"Request ID: {REQUEST_ID}; Proxy: null\)",
        execution.cause or "",
    )


# --- DynamoDB ---------------------------------------------------------------------------


async def _table(aws: Aws) -> str:
    name = f"table-{uuid.uuid4().hex[:12]}"
    async with aws.clients.client("dynamodb") as dynamodb:
        await dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return name


def _dynamodb_steps() -> dict[str, Any]:
    def step(action: str, parameters: dict[str, Any], result: str, nxt: str | None) -> Any:
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": f"arn:aws:states:::dynamodb:{action}",
            "Parameters": {"TableName.$": "$.TableName", **parameters},
            "ResultPath": f"$.{result}",
        }
        return {**state, "Next": nxt} if nxt else {**state, "End": True}

    key = {"Key.$": "$.Key"}
    return {
        "StartAt": "PutItem",
        "States": {
            "PutItem": step("putItem", {"Item.$": "$.Item"}, "put", "UpdateItem"),
            "UpdateItem": step(
                "updateItem",
                {
                    **key,
                    "UpdateExpression": "set S=:r",
                    "ExpressionAttributeValues": {":r": {"S": "HelloWorldUpdated"}},
                    "ReturnValues": "UPDATED_NEW",
                },
                "update",
                "GetItem",
            ),
            "GetItem": step("getItem", key, "get", "DeleteItem"),
            "DeleteItem": step("deleteItem", key, "delete", "GetDeleted"),
            "GetDeleted": step("getItem", key, "gone", None),
        },
    }


async def test_dynamodb_put_update_get_delete(aws: Aws) -> None:
    table = await _table(aws)
    item = {"data": {"S": "HelloWorld"}, "id": {"S": "id1"}}
    execution = await aws.run(
        _dynamodb_steps(), {"TableName": table, "Item": item, "Key": {"id": {"S": "id1"}}}
    )
    assert execution.status == "SUCCEEDED", execution.cause
    out = execution.output
    assert list(out["put"]) == ["SdkHttpMetadata", "SdkResponseMetadata"]
    assert out["update"]["Attributes"] == {"S": {"S": "HelloWorldUpdated"}}
    assert out["get"]["Item"] == {**item, "S": {"S": "HelloWorldUpdated"}}
    assert list(out["get"]) == ["Item", "SdkHttpMetadata", "SdkResponseMetadata"]
    assert "Item" not in out["gone"]
    for result in ("put", "update", "get", "delete", "gone"):
        assert_sdk_metadata(out[result])


async def test_dynamodb_missing_table_is_caught_by_name(aws: Aws) -> None:
    definition = task(
        "arn:aws:states:::dynamodb:putItem",
        {"TableName": "no-such-table", "Item": {"id": {"S": "1"}}},
        Catch=[{"ErrorEquals": ["DynamoDB.ResourceNotFoundException"], "Next": "Caught"}],
    )
    definition["States"]["Caught"] = {"Type": "Pass", "End": True}
    execution = await aws.run(definition)
    assert execution.status == "SUCCEEDED"
    assert execution.output["Error"] == "DynamoDB.ResourceNotFoundException"
    assert re.fullmatch(
        r"Requested resource not found \(Service: AmazonDynamoDBv2; Status Code: 400; "
        rf"Error Code: ResourceNotFoundException; Request ID: {REQUEST_ID}; Proxy: null\)",
        execution.output["Cause"],
    )


# --- EventBridge ------------------------------------------------------------------------


async def test_events_put_events_adds_execution_resources(aws: Aws) -> None:
    queue = await aws.queue()
    source = f"src.{uuid.uuid4().hex[:8]}"
    async with aws.clients.client("sqs") as sqs:
        attributes = await sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    async with aws.clients.client("events") as events:
        rule = f"r-{uuid.uuid4().hex[:8]}"
        await events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
        await events.put_targets(
            Rule=rule, Targets=[{"Id": "1", "Arn": attributes["Attributes"]["QueueArn"]}]
        )
    entry = {"Detail": {"Message": "Hello"}, "DetailType": "greeting", "Source": source}
    execution = await aws.run(
        task(
            "arn:aws:states:::events:putEvents",
            {"Entries": [entry, {**entry, "Resources": ["r1"]}]},
        )
    )
    assert execution.status == "SUCCEEDED", execution.cause
    assert list(execution.output) == ["Entries", "FailedEntryCount"]
    assert execution.output["FailedEntryCount"] == 0
    messages = [json.loads(m["Body"]) for m in await aws.receive(queue)]
    arns = [execution.machine.arn, execution.arn]
    assert sorted(m["resources"] for m in messages) == sorted([arns, ["r1", *arns]])
    assert all(m["detail"] == {"Message": "Hello"} for m in messages)


async def test_events_failed_entry(aws: Aws) -> None:
    # recorded against AWS: test_events_task_service, put_events_no_source
    entries = [
        {"Detail": {"Message": "HelloWorld1"}, "DetailType": "t", "Source": "some.source"},
        {"Detail": {"Message": "HelloWorld"}, "DetailType": "t"},
    ]
    execution = await aws.run(task("arn:aws:states:::events:putEvents", {"Entries": entries}))
    assert execution.error == "EventBridge.FailedEntry"
    cause = json.loads(execution.cause or "")
    assert cause["FailedEntryCount"] == 1
    assert list(cause["Entries"][0]) == ["EventId"]
    assert cause["Entries"][1] == {
        "ErrorCode": "InvalidArgument",
        "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument.",
    }


# --- aws-sdk ----------------------------------------------------------------------------


async def test_aws_sdk_s3_put_then_get_object(aws: Aws) -> None:
    bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    async with aws.clients.client("s3") as s3:
        await s3.create_bucket(Bucket=bucket)
    definition = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                "Parameters": {"Bucket": bucket, "Key": "k", "Body.$": "$.body"},
                "ResultPath": "$.put",
                "Next": "Get",
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": bucket, "Key": "k"},
                "ResultPath": "$.get",
                "End": True,
            },
        },
    }
    execution = await aws.run(definition, {"body": "text data"})
    assert execution.status == "SUCCEEDED", execution.cause
    # The body is stored as JSON text, quotes included (recorded: ETag = md5('"text data"')).
    assert execution.output["put"]["ETag"] == '"2b5df3712557f503a9977a8ea893b2c9"'
    assert "SdkHttpMetadata" not in execution.output["put"]
    got = execution.output["get"]
    assert got["Body"] == '"text data"'
    assert list(got)[-1] == "Body"
    assert got["ContentLength"] == 11
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3,6})?Z", got["LastModified"])
    scheduled = events_of(execution, "TaskScheduled")[0]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("aws-sdk:s3", "putObject")


async def test_aws_sdk_s3_missing_key_and_bucket(aws: Aws) -> None:
    bucket = f"bucket-{uuid.uuid4().hex[:12]}"
    async with aws.clients.client("s3") as s3:
        await s3.create_bucket(Bucket=bucket)
    missing_key = await aws.run(
        task("arn:aws:states:::aws-sdk:s3:getObject", {"Bucket": bucket, "Key": "nope"})
    )
    assert missing_key.error == "S3.NoSuchKeyException"
    assert re.fullmatch(
        rf"The specified key does not exist\. \(Service: S3, Status Code: 404, "
        rf"Request ID: {REQUEST_ID}(, Extended Request ID: \S+)?\)",
        missing_key.cause or "",
    )
    missing_bucket = await aws.run(
        task("arn:aws:states:::aws-sdk:s3:listObjects", {"Bucket": f"{bucket}-gone"})
    )
    assert missing_bucket.error == "S3.NoSuchBucketException"
    assert (missing_bucket.cause or "").startswith(
        "The specified bucket does not exist (Service: S3, Status Code: 404, Request ID: "
    )


async def test_aws_sdk_dynamodb_missing_table(aws: Aws) -> None:
    execution = await aws.run(
        task(
            "arn:aws:states:::aws-sdk:dynamodb:getItem",
            {"TableName": "no-such-table", "Key": {"id": {"S": "1"}}},
        )
    )
    assert execution.error == "DynamoDb.ResourceNotFoundException"
    assert re.fullmatch(
        rf"Requested resource not found \(Service: DynamoDb, Status Code: 400, "
        rf"Request ID: {REQUEST_ID}\)",
        execution.cause or "",
    )


async def test_aws_sdk_camel_case_api_in_pascal_case(aws: Aws) -> None:
    execution = await aws.run(
        task("arn:aws:states:::aws-sdk:sfn:listStateMachines", {"MaxResults": 10})
    )
    assert execution.status == "SUCCEEDED", execution.cause
    assert list(execution.output) == ["StateMachines"]


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        ("aws-sdk:s3:frobnicate", "'frobnicate' is not an action of s3"),
        ("aws-sdk:nosuchservice:getThing", "the service 'nosuchservice' is not known"),
        (
            "aws-sdk:s3:selectObjectContent",
            "SelectObjectContent streams events, which a Task cannot",
        ),
    ],
)
async def test_aws_sdk_resource_that_cannot_run(aws: Aws, resource: str, reason: str) -> None:
    execution = await aws.run(task(f"arn:aws:states:::{resource}", {}))
    assert execution.error == "States.Runtime"
    assert execution.cause == f"The resource 'arn:aws:states:::{resource}' cannot run: {reason}."


# --- the embedded default ---------------------------------------------------------------


async def test_embedded_moto_when_no_endpoint_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ASL_AWS_ENDPOINT_URL", raising=False)
    registry = Registry()
    clients = install(registry).clients
    url = await clients.endpoint_url()
    assert url is not None and re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
    assert await clients.endpoint_url() == url
    aws = Aws(clients, LocalHost(invoker=registry), Engine(LocalHost(invoker=registry)))
    queue = await aws.queue()
    assert queue.startswith(url)
    execution = await aws.run(
        task("arn:aws:states:::sqs:sendMessage", {"QueueUrl": queue, "MessageBody": "hi"})
    )
    assert execution.status == "SUCCEEDED", execution.cause
    assert [m["Body"] for m in await aws.receive(queue)] == ["hi"]
