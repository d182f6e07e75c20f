"""A Distributed Map's ItemReader (``s3:getObject``, ``s3:listObjectsV2``) and ResultWriter
(``s3:putObject``) end to end: the engine's public API, the AWS integrations on aiobotocore,
and a real moto server on 127.0.0.1 (one per module). The written manifest and result files
are read back from moto and checked.

A listed object's fields are those of AWS's example of a child execution's input
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html); error
names are the ``aws-sdk:s3`` ones recorded against AWS (localstack
tests/aws/services/stepfunctions/v2/error_handling/*.snapshot.json)."""

from __future__ import annotations

import gzip
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from asl.errors import StatesError
from integrations.aws import AwsClients, AwsConfig, install
from integrations.aws.s3 import S3ItemIntegration, listed_object, object_text
from integrations.base import Registry, TaskRequest, parse_resource
from runtime.executions import Engine, Execution
from runtime.host import LocalHost

CSV = "Col1,Col2\nValue1,Value2\nValue3,Value4\nValue5,Value6\nValue7,Value8\n"
FOUR_ROWS = [
    {"Col1": "Value1", "Col2": "Value2"},
    {"Col1": "Value3", "Col2": "Value4"},
    {"Col1": "Value5", "Col2": "Value6"},
    {"Col1": "Value7", "Col2": "Value8"},
]
REQUEST_ID = r"[A-Za-z0-9-]+"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass
class S3:
    """An engine whose registry serves the AWS integrations, and plain clients to the same
    endpoint to set up buckets and read back what the Map wrote."""

    clients: AwsClients
    registry: Registry
    engine: Engine

    async def run(self, definition: dict[str, Any], input_value: Any = None) -> Execution:
        machine = self.engine.create_state_machine(definition, name="Machine")
        return await (await machine.start(input_value)).wait()

    async def bucket(self, objects: dict[str, str] | None = None) -> str:
        name = f"b-{uuid.uuid4().hex[:16]}"
        async with self.clients.client("s3") as s3:
            await s3.create_bucket(Bucket=name)
            for key, body in (objects or {}).items():
                await s3.put_object(Bucket=name, Key=key, Body=body.encode())
        return name

    async def read(self, bucket: str, key: str) -> str:
        async with self.clients.client("s3") as s3:
            response = await s3.get_object(Bucket=bucket, Key=key)
            return (await response["Body"].read()).decode()

    async def invoke(self, action: str, parameters: Any) -> Any:
        return await self.registry.invoke(request(f"arn:aws:states:::s3:{action}", parameters))


@pytest.fixture
def s3(moto_url: str) -> S3:
    registry = Registry()
    clients = install(registry, AwsConfig(endpoint_url=moto_url)).clients
    return S3(clients, registry, Engine(LocalHost(invoker=registry, seed=7)))


def request(resource: str, parameters: Any) -> TaskRequest:
    return TaskRequest(
        resource=parse_resource(resource),
        parameters=parameters,
        state_name="MapState",
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:Machine:e",
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:Machine",
        region="us-east-1",
        account="123456789012",
    )


def machine(reader: dict[str, Any], writer_bucket: str | None = None, **writer: Any) -> Any:
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemReader": reader,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True}},
        },
        "End": True,
    }
    if writer_bucket is not None:
        state["ResultWriter"] = {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": writer_bucket, "Prefix": "out"},
            **writer,
        }
    return {"StartAt": "MapState", "States": {"MapState": state}}


def get_object(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": config,
        "Parameters": {"Bucket.$": "$.Bucket", "Key.$": "$.Key"},
    }


def child_inputs(execution: Execution) -> list[Any]:
    [run] = execution.map_runs
    return [child.input for child in run.executions]


# --- ItemReader and ResultWriter through the engine ---------------------------------------


async def test_json_array_object_with_results_written_to_s3(s3: S3) -> None:
    items = [{"id": 1}, {"id": 2, "tags": ["a"]}, "three", None]
    source = await s3.bucket({"data/items.json": json.dumps(items)})
    target = await s3.bucket()
    definition = machine(get_object({"InputType": "JSON"}), target)
    execution = await s3.run(definition, {"Bucket": source, "Key": "data/items.json"})

    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert child_inputs(execution) == items
    [run] = execution.map_runs
    run_id = run.arn.rsplit(":", 1)[-1]
    manifest_key = f"out/{run_id}/manifest.json"
    assert execution.output == {
        "MapRunArn": run.arn,
        "ResultWriterDetails": {"Bucket": target, "Key": manifest_key},
    }
    manifest = json.loads(await s3.read(target, manifest_key))
    results_text = await s3.read(target, f"out/{run_id}/SUCCEEDED_0.json")
    assert manifest == {
        "DestinationBucket": target,
        "MapRunArn": run.arn,
        "ResultFiles": {
            "FAILED": [],
            "PENDING": [],
            "SUCCEEDED": [
                {"Key": f"out/{run_id}/SUCCEEDED_0.json", "Size": len(results_text.encode())}
            ],
        },
    }
    results = json.loads(results_text)
    assert [json.loads(r["Output"]) for r in results] == items
    assert [json.loads(r["Input"]) for r in results] == items
    assert {r["Status"] for r in results} == {"SUCCEEDED"}
    assert all(re.fullmatch(f".*:Machine/{UUID}:{UUID}", r["ExecutionArn"]) for r in results)


async def test_csv_object_with_jsonl_compact_results(s3: S3) -> None:
    source = await s3.bucket({"rows.csv": CSV})
    target = await s3.bucket()
    reader = get_object({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"})
    writer = {"WriterConfig": {"OutputType": "JSONL", "Transformation": "COMPACT"}}
    execution = await s3.run(
        machine(reader, target, **writer), {"Bucket": source, "Key": "rows.csv"}
    )

    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert child_inputs(execution) == FOUR_ROWS
    manifest = json.loads(await s3.read(target, execution.output["ResultWriterDetails"]["Key"]))
    [written] = manifest["ResultFiles"]["SUCCEEDED"]
    assert written["Key"].endswith("/SUCCEEDED_0.jsonl")
    text = await s3.read(target, written["Key"])
    assert written["Size"] == len(text.encode())
    assert [json.loads(line) for line in text.splitlines()] == FOUR_ROWS


async def test_list_objects_v2_prefix_one_item_per_object(s3: S3) -> None:
    bodies = {"in/a.txt": "A", "in/b/c.txt": "CCC", "other/d.txt": "DD"}
    source = await s3.bucket(bodies)
    target = await s3.bucket()
    before = int(time.time()) - 5
    reader = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket.$": "$.Bucket", "Prefix": "in/"},
    }
    execution = await s3.run(machine(reader, target), {"Bucket": source})

    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    inputs = child_inputs(execution)
    assert [item["Key"] for item in inputs] == ["in/a.txt", "in/b/c.txt"]
    for item in inputs:
        assert list(item) == ["Etag", "Key", "LastModified", "Size", "StorageClass"]
        assert item["Size"] == len(bodies[item["Key"]])
        assert item["StorageClass"] == "STANDARD"
        assert re.fullmatch(r'"[0-9a-f]{32}"', item["Etag"])
        assert isinstance(item["LastModified"], int) and item["LastModified"] >= before
    manifest = json.loads(await s3.read(target, execution.output["ResultWriterDetails"]["Key"]))
    [written] = manifest["ResultFiles"]["SUCCEEDED"]
    results = json.loads(await s3.read(target, written["Key"]))
    assert [json.loads(r["Output"]) for r in results] == inputs


async def test_list_objects_v2_follows_continuation_tokens(s3: S3) -> None:
    keys = [f"k{i}" for i in range(5)]
    source = await s3.bucket(dict.fromkeys(keys, "x"))
    reader = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": source, "MaxKeys": 2},
    }
    execution = await s3.run(machine(reader), {})
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert [item["Key"] for item in child_inputs(execution)] == keys


async def test_missing_key_fails_the_reader(s3: S3) -> None:
    source = await s3.bucket()
    execution = await s3.run(
        machine(get_object({"InputType": "JSON"})), {"Bucket": source, "Key": "absent.json"}
    )
    assert execution.error == "States.ItemReaderFailed"
    assert re.fullmatch(
        "S3.NoSuchKeyException: The specified key does not exist. "
        f"\\(Service: S3, Status Code: 404, Request ID: {REQUEST_ID}.*\\)",
        execution.cause or "",
    )


async def test_missing_result_bucket_fails_the_writer(s3: S3) -> None:
    source = await s3.bucket({"items.json": "[1]"})
    definition = machine(get_object({"InputType": "JSON"}), f"missing-{uuid.uuid4().hex}")
    execution = await s3.run(definition, {"Bucket": source, "Key": "items.json"})
    assert execution.error == "States.ResultWriterFailed"
    assert re.fullmatch(
        "S3.NoSuchBucketException: The specified bucket does not exist "
        f"\\(Service: S3, Status Code: 404, Request ID: {REQUEST_ID}.*\\)",
        execution.cause or "",
    )


# --- the resources themselves ------------------------------------------------------------


async def test_get_object_returns_the_body_as_text(s3: S3) -> None:
    bucket = await s3.bucket({"k": "héllo [1]"})
    assert await s3.invoke("getObject", {"Bucket": bucket, "Key": "k"}) == {"Body": "héllo [1]"}


async def test_get_object_of_a_missing_bucket(s3: S3) -> None:
    with pytest.raises(StatesError) as caught:
        await s3.invoke("getObject", {"Bucket": f"no-{uuid.uuid4().hex}", "Key": "k"})
    assert caught.value.error == "S3.NoSuchBucketException"
    assert (caught.value.cause or "").startswith(
        "The specified bucket does not exist (Service: S3, Status Code: 404, Request ID: "
    )


async def test_put_object_stores_text_as_is_and_other_values_as_json_text(s3: S3) -> None:
    bucket = await s3.bucket()
    result = await s3.invoke("putObject", {"Bucket": bucket, "Key": "t", "Body": '"quoted" x'})
    assert re.fullmatch(r'"[0-9a-f]{32}"', result["ETag"])
    assert list(result) == sorted(result)
    await s3.invoke("putObject", {"Bucket": bucket, "Key": "v", "Body": {"a": [1, "é"]}})
    assert await s3.read(bucket, "t") == '"quoted" x'
    assert await s3.read(bucket, "v") == '{"a":[1,"é"]}'


async def test_list_objects_v2_page_is_the_api_response(s3: S3) -> None:
    bucket = await s3.bucket({"p/1": "a", "p/2": "bb", "p/3": "ccc"})
    first = await s3.invoke("listObjectsV2", {"Bucket": bucket, "Prefix": "p/", "MaxKeys": 2})
    assert first["IsTruncated"] is True
    assert [entry["Key"] for entry in first["Contents"]] == ["p/1", "p/2"]
    assert list(first["Contents"][0]) == ["ETag", "Key", "LastModified", "Size", "StorageClass"]
    assert (first["KeyCount"], first["MaxKeys"], first["Name"]) == (2, 2, bucket)
    token = first["NextContinuationToken"]
    rest = await s3.invoke(
        "listObjectsV2", {"Bucket": bucket, "Prefix": "p/", "ContinuationToken": token}
    )
    assert rest["IsTruncated"] is False
    assert "NextContinuationToken" not in rest
    assert [(e["Key"], e["Size"]) for e in rest["Contents"]] == [("p/3", 3)]


async def test_parameters_must_fit_the_api(s3: S3) -> None:
    with pytest.raises(StatesError) as caught:
        await s3.invoke("getObject", {"Bucket": "b", "Key": "k", "Nope": 1})
    assert caught.value.error == "States.Runtime"
    assert (caught.value.cause or "").startswith("Invalid parameters for s3:GetObject: 'Nope' ")
    with pytest.raises(StatesError) as caught:
        await s3.invoke("putObject", ["not", "an", "object"])
    assert (caught.value.error, caught.value.cause) == (
        "States.Runtime",
        'The Parameters of the s3:putObject resource must be an object, got ["not","an","object"]',
    )


async def test_only_request_response_is_served(s3: S3) -> None:
    with pytest.raises(StatesError) as caught:
        await s3.registry.invoke(
            request("arn:aws:states:::s3:getObject.waitForTaskToken", {"Bucket": "b"})
        )
    assert (caught.value.error, caught.value.cause) == (
        "States.Runtime",
        "No integration is configured for the resource "
        "'arn:aws:states:::s3:getObject.waitForTaskToken' of state 'MapState'.",
    )


async def test_unreachable_endpoint_is_an_sdk_client_exception() -> None:
    registry = Registry()
    install(registry, AwsConfig(endpoint_url="http://127.0.0.1:1"))
    with pytest.raises(StatesError) as caught:
        await registry.invoke(request("arn:aws:states:::s3:getObject", {"Bucket": "b", "Key": "k"}))
    assert caught.value.error == "S3.SdkClientException"
    assert (caught.value.cause or "").startswith("Unable to execute HTTP request: ")


def test_keys_served() -> None:
    registry = Registry()
    integrations = install(registry, AwsConfig(endpoint_url="http://127.0.0.1:1"))
    assert S3ItemIntegration.keys == ("s3:getObject", "s3:listObjectsV2", "s3:putObject")
    for key in S3ItemIntegration.keys:
        assert registry.find(parse_resource(f"arn:aws:states:::{key}")) is integrations


def test_object_text_decodes_gzip_and_drops_a_byte_order_mark() -> None:
    assert object_text(gzip.compress(b"[1, 2]")) == "[1, 2]"
    assert object_text(b"\xef\xbb\xbfa,b\n") == "a,b\n"
    assert object_text(b"\x1f\x8bnot gzip") == "\x1f\ufffdnot gzip"
    assert object_text(b"\xff") == "\ufffd"


def test_listed_object_keeps_the_fields_a_child_receives() -> None:
    entry = {
        "Key": "k",
        "LastModified": datetime(2022, 11, 17, 15, 44, 41, 500000, tzinfo=UTC),
        "ETag": '"e"',
        "Size": 0,
        "StorageClass": "STANDARD",
        "ChecksumAlgorithm": ["CRC32"],
        "Owner": {"ID": "x"},
    }
    assert listed_object(entry) == {
        "ETag": '"e"',
        "Key": "k",
        "LastModified": 1668699881,
        "Size": 0,
        "StorageClass": "STANDARD",
    }
