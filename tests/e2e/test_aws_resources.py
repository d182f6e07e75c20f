"""Declared AWS resources (``--resources FILE``, ``local_engine(resources=...)``): created on
a real moto server on 127.0.0.1 before the first execution starts, then used by Tasks."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from integrations.aws import AwsConfig
from integrations.aws.resources import AwsResources, ResourcesError
from runtime.cli.commands import app
from runtime.testing import local_engine, start

QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/{}"


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _chain(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A machine running the given Task states in order, each result under its name."""
    names = [name for name, _ in states]
    body: dict[str, Any] = {}
    for i, (name, state) in enumerate(states):
        step: dict[str, Any] = {"Type": "Task", "ResultPath": f"$.{name}", **state}
        step.update({"Next": names[i + 1]} if i + 1 < len(names) else {"End": True})
        body[name] = step
    return {"StartAt": names[0], "States": body}


async def test_every_kind_of_resource_is_created_before_the_run(
    moto_url: str, tmp_path: Path
) -> None:
    queue, topic, table, bucket, bus = (
        _unique(k) for k in ("queue", "topic", "table", "bucket", "bus")
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.csv").write_text("id,name\n1,a\n")
    (tmp_path / "resources.yaml").write_text(
        f"""
queues: [{queue}]
topics: [{{name: {topic}}}]
tables:
  - name: {table}
    key: {{sku: S, warehouse: N}}
    items:
      - {{sku: A-1, warehouse: 7, count: 12, price: 1.5, tags: [x], meta: {{gift: null}}}}
      - {{sku: {{S: B-2}}, warehouse: {{N: "7"}}, count: {{N: "3"}}}}
buckets:
  - name: {bucket}
    objects:
      - {{key: items.json, json: [1, 2]}}
      - {{key: notes.txt, text: hello}}
      - {{key: rows.csv, file: data/rows.csv}}
event_buses: [{bus}]
"""
    )
    definition = _chain(
        (
            "plain",
            {
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {
                    "TableName": table,
                    "Key": {"sku": {"S": "A-1"}, "warehouse": {"N": "7"}},
                },
                "ResultSelector": {"item.$": "$.Item"},
            },
        ),
        (
            "typed",
            {
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {
                    "TableName": table,
                    "Key": {"sku": {"S": "B-2"}, "warehouse": {"N": "7"}},
                },
                "ResultSelector": {"count.$": "$.Item.count"},
            },
        ),
        *(
            (
                key.replace(".", "_"),
                {
                    "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                    "Parameters": {"Bucket": bucket, "Key": key},
                    "ResultSelector": {"body.$": "$.Body"},
                },
            )
            for key in ("items.json", "notes.txt", "rows.csv")
        ),
        (
            "sent",
            {
                "Resource": "arn:aws:states:::sqs:sendMessage",
                "Parameters": {"QueueUrl": QUEUE_URL.format(queue), "MessageBody": "hi"},
                "ResultSelector": {"id.$": "$.MessageId"},
            },
        ),
        (
            "published",
            {
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {
                    "TopicArn": f"arn:aws:sns:us-east-1:123456789012:{topic}",
                    "Message": "hi",
                },
                "ResultSelector": {"id.$": "$.MessageId"},
            },
        ),
        (
            "event",
            {
                "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {
                    "Entries": [
                        {"EventBusName": bus, "Source": "test", "DetailType": "t", "Detail": {}}
                    ]
                },
                "ResultSelector": {"failed.$": "$.FailedEntryCount"},
            },
        ),
    )
    execution = await start(
        definition,
        {},
        aws=AwsConfig(endpoint_url=moto_url),
        resources=tmp_path / "resources.yaml",
    )
    await execution.wait()
    await execution.machine.engine.aclose()
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    output = execution.output
    assert output["plain"]["item"] == {
        "sku": {"S": "A-1"},
        "warehouse": {"N": "7"},
        "count": {"N": "12"},
        "price": {"N": "1.5"},
        "tags": {"L": [{"S": "x"}]},
        "meta": {"M": {"gift": {"NULL": True}}},
    }
    assert output["typed"] == {"count": {"N": "3"}}
    assert output["items_json"] == {"body": "[1, 2]"}
    assert output["notes_txt"] == {"body": "hello"}
    assert output["rows_csv"] == {"body": "id,name\n1,a\n"}
    assert isinstance(output["sent"]["id"], str)
    assert isinstance(output["published"]["id"], str)
    assert output["event"] == {"failed": 0}


async def test_creating_again_keeps_what_exists_and_rewrites_items(moto_url: str) -> None:
    table, queue = _unique("table"), _unique("queue")
    aws = AwsConfig(endpoint_url=moto_url)
    definition = _chain(
        (
            "read",
            {
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": table, "Key": {"id": {"S": "a"}}},
                "ResultSelector": {"n.$": "$.Item.n.N"},
            },
        )
    )
    for n in (1, 2):  # two engines, as two `asl run` in a row against one endpoint
        resources = {
            "queues": [queue],
            "tables": [{"name": table, "key": {"id": "S"}, "items": [{"id": "a", "n": n}]}],
        }
        execution = await start(definition, {}, aws=aws, resources=resources)
        await execution.wait()
        assert execution.status == "SUCCEEDED", execution.cause
        assert execution.output["read"] == {"n": str(n)}


async def test_a_resource_the_endpoint_refuses_is_named_and_tried_again(moto_url: str) -> None:
    queue = _unique("queue")
    engine = local_engine(
        aws=AwsConfig(endpoint_url=moto_url),
        resources={"queues": [{"name": queue, "attributes": {"FifoQueue": "true"}}]},
    )
    machine = engine.create_state_machine(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    for _ in range(2):  # the failed creation stays pending, so each start reports it
        with pytest.raises(ResourcesError) as raised:
            await machine.start({})
        message = str(raised.value)
        assert message.startswith(f"resources: cannot create queue {queue} at {moto_url}: ")
        assert "fifo" in message.lower()
    assert engine.openers, "the creation is tried again on the next start"


async def test_resources_are_never_created_on_aws_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASL_AWS_ENDPOINT_URL", raising=False)
    engine = local_engine(aws=AwsConfig(embedded=False), resources={"queues": ["q"]})
    machine = engine.create_state_machine(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    )
    with pytest.raises(ResourcesError, match="created only on a local endpoint"):
        await machine.start({})


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"queue": ["q"]}, "the document: Additional properties are not allowed ('queue' was"),
        ({"tables": [{"name": "t", "key": {"id": "X"}}]}, "tables[0].key.id: 'X' is not one of"),
        ({"tables": [{"name": "t"}]}, "tables[0]: 'key' is a required property"),
        (
            {"buckets": [{"name": "b", "objects": [{"key": "k", "json": 1, "text": "t"}]}]},
            "buckets[0].objects[0]: ",
        ),
        (
            {"topics": [{"name": "t", "attributes": {"A": 1}}]},
            "topics[0].attributes.A: 1 is not of type 'string'",
        ),
    ],
)
def test_a_bad_document_is_refused_with_where_and_why(document: Any, message: str) -> None:
    with pytest.raises(ResourcesError) as raised:
        AwsResources.from_mapping(document, Path("res.json"))
    assert str(raised.value).startswith(f"res.json: {message}"), str(raised.value)


def test_an_object_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text(
        json.dumps({"buckets": [{"name": "b", "objects": [{"key": "k", "file": "gone.csv"}]}]})
    )
    with pytest.raises(ResourcesError, match=r"r.json: object k: cannot read .*gone.csv"):
        AwsResources.load(tmp_path / "r.json")


DYNAMO_READ = _chain(
    (
        "read",
        {
            "Resource": "arn:aws:states:::dynamodb:getItem",
            "Parameters": {"TableName": "Stock", "Key": {"sku": {"S": "A"}}},
            "ResultSelector": {"count.$": "$.Item.count.N"},
        },
    )
)


def test_asl_run_creates_the_resources_file(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASL_AWS_ENDPOINT_URL", moto_url)
    monkeypatch.chdir(tmp_path)
    Path("m.asl.json").write_text(json.dumps(DYNAMO_READ))
    Path("r.json").write_text(
        json.dumps(
            {
                "tables": [
                    {"name": "Stock", "key": {"sku": "S"}, "items": [{"sku": "A", "count": 4}]}
                ]
            }
        )
    )
    result = CliRunner().invoke(app, ["run", "m.asl.json", "--resources", "r.json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"read": {"count": "4"}}


def test_asl_run_without_the_table_hints_at_resources(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASL_AWS_ENDPOINT_URL", moto_url)
    monkeypatch.chdir(tmp_path)
    definition = json.loads(json.dumps(DYNAMO_READ).replace('"Stock"', f'"{_unique("t")}"'))
    Path("m.asl.json").write_text(json.dumps(definition))
    result = CliRunner().invoke(app, ["run", "m.asl.json"])
    assert result.exit_code == 1
    assert "FAILED in state 'read': DynamoDB.ResourceNotFoundException" in result.stderr
    assert "hint: the local AWS endpoint starts empty" in result.stderr
    assert "--resources file" in result.stderr


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ('{"tables": [{"name": "T"}]}', "r.json: tables[0]: 'key' is a required property"),
        (None, "r.json: cannot be read: [Errno 2] No such file or directory"),
        (
            '{"queues": [{"name": "plain", "attributes": {"FifoQueue": "true"}}]}',
            "r.json: cannot create queue plain at ",
        ),
    ],
)
def test_asl_run_reports_an_unusable_resources_file_as_bad_usage(
    moto_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    resources: str | None,
    expected: str,
) -> None:
    monkeypatch.setenv("ASL_AWS_ENDPOINT_URL", moto_url)
    monkeypatch.chdir(tmp_path)
    Path("m.asl.json").write_text(json.dumps(DYNAMO_READ))
    if resources is not None:
        Path("r.json").write_text(resources)
    result = CliRunner().invoke(app, ["run", "m.asl.json", "--resources", "r.json"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"asl run: {expected}"), result.stderr
    assert "Traceback" not in result.output
