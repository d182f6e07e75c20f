"""Distributed Map through the public API, with a fake S3 served by the integration
registry: ItemReader, ResultWriter, Map Runs and their child executions."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from asl.errors import StatesError
from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.executions import Engine, Execution
from runtime.host import LocalHost
from runtime.states.distributed_map import ChildExecution, MapRun

CSV = "Col1,Col2\nValue1,Value2\nValue3,Value4\nValue5,Value6\nValue7,Value8\n"
FOUR_ROWS = [
    {"Col1": "Value1", "Col2": "Value2"},
    {"Col1": "Value3", "Col2": "Value4"},
    {"Col1": "Value5", "Col2": "Value6"},
    {"Col1": "Value7", "Col2": "Value8"},
]
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class FakeS3:
    """In-memory S3 behind s3:getObject, s3:listObjectsV2 and s3:putObject."""

    def __init__(self, objects: dict[tuple[str, str], Any] | None = None) -> None:
        self.objects: dict[tuple[str, str], Any] = dict(objects or {})
        self.page_size = 1000
        self.fail_puts = False

    async def get(self, request: TaskRequest) -> Any:
        key = (request.parameters["Bucket"], request.parameters["Key"])
        if key not in self.objects:
            raise StatesError("S3.NoSuchKey", "The specified key does not exist.")
        return {"Body": self.objects[key]}

    async def list(self, request: TaskRequest) -> Any:
        bucket = request.parameters["Bucket"]
        prefix = request.parameters.get("Prefix", "")
        keys = sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))
        start = int(request.parameters.get("ContinuationToken", 0))
        page = keys[start : start + self.page_size]
        response: dict[str, Any] = {
            "Contents": [{"Key": k, "ETag": '"etag"', "Size": 1} for k in page],
            "IsTruncated": start + self.page_size < len(keys),
        }
        if response["IsTruncated"]:
            response["NextContinuationToken"] = str(start + self.page_size)
        return response

    async def put(self, request: TaskRequest) -> Any:
        if self.fail_puts:
            raise StatesError("S3.AccessDenied", "Access Denied")
        p = request.parameters
        self.objects[(p["Bucket"], p["Key"])] = p["Body"]
        return {"ETag": '"etag"'}

    def registry(self) -> Registry:
        registry = Registry()
        registry.register("s3:getObject", FunctionIntegration(self.get))
        registry.register("s3:listObjectsV2", FunctionIntegration(self.list))
        registry.register("s3:putObject", FunctionIntegration(self.put))
        return registry


def _processor(states: dict[str, Any] | None = None, execution_type: str = "STANDARD") -> Any:
    return {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
        "StartAt": next(iter(states)) if states else "P",
        "States": states or {"P": {"Type": "Pass", "End": True}},
    }


def _machine(map_state: dict[str, Any], language: str | None = None) -> dict[str, Any]:
    state = {"Type": "Map", "ItemProcessor": _processor(), "End": True, **map_state}
    definition: dict[str, Any] = {"StartAt": "MapState", "States": {"MapState": state}}
    if language is not None:
        definition["QueryLanguage"] = language
    return definition


def _reader(config: dict[str, Any], parameters: Any = None) -> dict[str, Any]:
    return {
        "ReaderConfig": config,
        "Resource": "arn:aws:states:::s3:getObject",
        "Parameters": parameters or {"Bucket.$": "$.Bucket", "Key.$": "$.Key"},
    }


def _run(
    definition: dict[str, Any],
    value: Any = None,
    s3: FakeS3 | None = None,
    *,
    registry: Registry | None = None,
) -> Execution:
    async def main() -> Execution:
        invoker = registry if registry is not None else (s3 or FakeS3()).registry()
        engine = Engine(LocalHost(invoker=invoker, seed=11))
        machine = engine.create_state_machine(definition, name="Machine")
        return await (await machine.start(value)).wait()

    return asyncio.run(main())


def _links(execution: Execution) -> list[list[Any]]:
    return [[e["type"], e["previousEventId"]] for e in execution.history_json()["events"]]


def _only_map_run(execution: Execution) -> MapRun:
    runs = execution.map_runs
    assert len(runs) == 1
    return runs[0]


# --- ItemReader ---------------------------------------------------------------------------


def test_csv_reader_reads_every_row_and_map_state_started_has_length_zero() -> None:
    s3 = FakeS3({("bucket-name", "file.csv"): CSV})
    definition = _machine(
        {"ItemReader": _reader({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"})}
    )
    execution = _run(definition, {"Bucket": "bucket-name", "Key": "file.csv"}, s3)
    assert (execution.status, execution.output) == ("SUCCEEDED", FOUR_ROWS)
    events = execution.history_json()["events"]
    assert events[2]["mapStateStartedEventDetails"] == {"length": 0}
    assert _links(execution) == [
        ["ExecutionStarted", 0], ["MapStateEntered", 0], ["MapStateStarted", 2],
        ["MapRunStarted", 3], ["MapRunSucceeded", 4], ["MapStateSucceeded", 5],
        ["MapStateExited", 4], ["ExecutionSucceeded", 7],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("max_items", "count"), [(0, 4), (2, 2), (100_000_000, 4), (100_000_001, 4)]
)
def test_max_items_path(max_items: int, count: int) -> None:
    s3 = FakeS3({("bucket-name", "file.csv"): CSV})
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItemsPath": "$.MaxItems"}
    execution = _run(
        _machine({"ItemReader": _reader(config)}),
        {"Bucket": "bucket-name", "Key": "file.csv", "MaxItems": max_items},
        s3,
    )
    assert (execution.status, execution.output) == ("SUCCEEDED", FOUR_ROWS[:count])


def test_negative_max_items_fails_the_map_run_as_recorded() -> None:
    s3 = FakeS3({("bucket-name", "file.csv"): CSV})
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItemsPath": "$.MaxItems"}
    execution = _run(
        _machine({"ItemReader": _reader(config)}),
        {"Bucket": "bucket-name", "Key": "file.csv", "MaxItems": -1},
        s3,
    )
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED", "States.ItemReaderFailed", "field MaxItems must be positive",
    )  # fmt: skip
    assert _links(execution) == [
        ["ExecutionStarted", 0], ["MapStateEntered", 0], ["MapStateStarted", 2],
        ["MapRunStarted", 3], ["MapRunFailed", 4], ["MapStateFailed", 5],
        ["ExecutionFailed", 6],
    ]  # fmt: skip
    failed = execution.history_json()["events"][4]["mapRunFailedEventDetails"]
    assert failed == {
        "error": "States.ItemReaderFailed",
        "cause": "field MaxItems must be positive",
    }
    assert _only_map_run(execution).status == "FAILED"


def test_max_items_path_not_an_integer_fails_the_state_before_the_map_run() -> None:
    s3 = FakeS3({("bucket-name", "file.csv"): CSV})
    config = {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItemsPath": "$.MaxItems"}
    execution = _run(
        _machine({"ItemReader": _reader(config)}),
        {"Bucket": "bucket-name", "Key": "file.csv", "MaxItems": 1.5},
        s3,
    )
    assert execution.error == "States.Runtime"
    assert execution.cause == (
        "An error occurred while executing the state 'MapState' (entered at the event id #2). "
        'The MaxItemsPath field refers to value "1.5" which is not a valid integer: $.MaxItems'
    )
    assert _links(execution) == [
        ["ExecutionStarted", 0], ["MapStateEntered", 0], ["MapStateStarted", 2],
        ["ExecutionFailed", 3],
    ]  # fmt: skip
    assert execution.map_runs == []


def test_json_reader_with_jsonata_arguments_and_max_items() -> None:
    records = [{"verdict": "true"}, {"verdict": "false"}, {"verdict": "maybe"}]
    s3 = FakeS3({("b", "file.json"): json.dumps(records)})
    reader = {
        "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% $states.input.MaxItems %}"},
        "Resource": "arn:aws:states:::s3:getObject",
        "Arguments": {"Bucket": "{% $states.input.Bucket %}", "Key": "{% $states.input.Key %}"},
    }
    execution = _run(
        _machine({"ItemReader": reader}, "JSONata"),
        {"Bucket": "b", "Key": "file.json", "MaxItems": 2},
        s3,
    )
    assert (execution.status, execution.output) == ("SUCCEEDED", records[:2])


@pytest.mark.parametrize(
    ("body", "config", "cause"),
    [
        ('{"a": 1}', {"InputType": "JSON"}, "Attempting to map over non-iterable node."),
        (
            "a,a\n1,2\n",
            {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "CSV headers cannot contain duplicates.",
        ),
    ],
)
def test_reader_failures(body: str, config: dict[str, Any], cause: str) -> None:
    s3 = FakeS3({("b", "k"): body})
    execution = _run(_machine({"ItemReader": _reader(config)}), {"Bucket": "b", "Key": "k"}, s3)
    assert (execution.error, execution.cause) == ("States.ItemReaderFailed", cause)
    assert [e.type for e in execution.history][-3:] == [
        "MapRunFailed",
        "MapStateFailed",
        "ExecutionFailed",
    ]


def test_a_missing_object_fails_the_reader_with_the_integrations_error_as_cause() -> None:
    execution = _run(
        _machine({"ItemReader": _reader({"InputType": "JSON"})}), {"Bucket": "b", "Key": "none"}
    )
    assert execution.error == "States.ItemReaderFailed"
    assert execution.cause == "S3.NoSuchKey: The specified key does not exist."


def test_items_pointer_and_jsonl() -> None:
    s3 = FakeS3(
        {("b", "p.json"): '{"data": {"rows": [1, 2]}}', ("b", "l.jsonl"): '{"x":1}\n{"x":2}\n'}
    )
    pointer = _run(
        _machine({"ItemReader": _reader({"InputType": "JSON", "ItemsPointer": "/data/rows"})}),
        {"Bucket": "b", "Key": "p.json"},
        s3,
    )
    assert pointer.output == [1, 2]
    lines = _run(
        _machine({"ItemReader": _reader({"InputType": "JSONL"})}),
        {"Bucket": "b", "Key": "l.jsonl"},
        s3,
    )
    assert lines.output == [{"x": 1}, {"x": 2}]


def test_list_objects_v2_reads_every_page() -> None:
    s3 = FakeS3({("b", f"data/{n}.json"): "[]" for n in range(5)} | {("b", "other"): "x"})
    s3.page_size = 2
    reader = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": "b", "Prefix": "data/"},
    }
    execution = _run(_machine({"ItemReader": reader}), {}, s3)
    assert execution.output == [
        {"Key": f"data/{n}.json", "Etag": '"etag"', "Size": 1} for n in range(5)
    ]


def test_list_objects_v2_load_and_flatten_reads_each_object() -> None:
    s3 = FakeS3({("b", "in/1.json"): "[1, 2]", ("b", "in/2.json"): "[3]"})
    reader = {
        "ReaderConfig": {"InputType": "JSON", "Transformation": "LOAD_AND_FLATTEN"},
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": "b", "Prefix": "in/"},
    }
    assert _run(_machine({"ItemReader": reader}), {}, s3).output == [1, 2, 3]


def test_s3_inventory_manifest() -> None:
    manifest = {
        "destinationBucket": "arn:aws:s3:::inv",
        "fileSchema": "Bucket, Key",
        "files": [{"key": "data/1.csv"}],
    }
    s3 = FakeS3(
        {
            ("inv", "manifest.json"): json.dumps(manifest),
            ("inv", "data/1.csv"): '"src","a"\n"src","b"\n',
        }
    )
    config = {"InputType": "MANIFEST", "ManifestType": "S3_INVENTORY"}
    execution = _run(
        _machine({"ItemReader": _reader(config)}), {"Bucket": "inv", "Key": "manifest.json"}, s3
    )
    assert execution.output == [{"Bucket": "src", "Key": "a"}, {"Bucket": "src", "Key": "b"}]


def test_item_selector_reads_each_read_item() -> None:
    s3 = FakeS3({("b", "k"): "[10, 20]"})
    definition = _machine(
        {
            "ItemReader": _reader({"InputType": "JSON"}),
            "ItemSelector": {
                "value.$": "$$.Map.Item.Value",
                "index.$": "$$.Map.Item.Index",
                "key.$": "$.Key",
            },
        }
    )
    execution = _run(definition, {"Bucket": "b", "Key": "k"}, s3)
    assert execution.output == [
        {"value": 10, "index": 0, "key": "k"},
        {"value": 20, "index": 1, "key": "k"},
    ]


# --- ResultWriter -----------------------------------------------------------------------------


def _writer(config: dict[str, Any] | None = None) -> dict[str, Any]:
    writer: dict[str, Any] = {
        "Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "result-bucket", "Prefix": "mapJobs"},
    }
    if config is not None:
        writer["WriterConfig"] = config
    return writer


def test_result_writer_output_and_manifest() -> None:
    s3 = FakeS3()
    execution = _run(
        _machine({"ResultWriter": _writer(), "Label": "TestMap"}), ["Hello", "World"], s3
    )
    run = _only_map_run(execution)
    run_id = run.arn.rsplit(":", 1)[-1]
    # The state output as recorded against AWS (test_map_state_result_writer).
    assert execution.output == {
        "MapRunArn": run.arn,
        "ResultWriterDetails": {
            "Bucket": "result-bucket",
            "Key": f"mapJobs/{run_id}/manifest.json",
        },
    }
    assert run.arn.startswith("arn:aws:states:us-east-1:123456789012:mapRun:Machine/TestMap:")
    manifest = json.loads(s3.objects[("result-bucket", f"mapJobs/{run_id}/manifest.json")])
    succeeded_key = f"mapJobs/{run_id}/SUCCEEDED_0.json"
    body = s3.objects[("result-bucket", succeeded_key)]
    assert manifest == {
        "DestinationBucket": "result-bucket",
        "MapRunArn": run.arn,
        "ResultFiles": {
            "FAILED": [],
            "PENDING": [],
            "SUCCEEDED": [{"Key": succeeded_key, "Size": len(body.encode())}],
        },
    }
    records = json.loads(body)
    assert [(r["Input"], r["Output"], r["Status"]) for r in records] == [
        ('"Hello"', '"Hello"', "SUCCEEDED"), ('"World"', '"World"', "SUCCEEDED"),
    ]  # fmt: skip
    assert [r["ExecutionArn"] for r in records] == [c.arn for c in run.executions]
    assert run.execution_counts()["resultsWritten"] == 2


def test_result_writer_writes_failed_children_apart_and_jsonl() -> None:
    s3 = FakeS3()
    processor = _processor(
        {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "Boom"}],
                "Default": "Done",
            },
            "Boom": {"Type": "Fail", "Error": "E", "Cause": "c"},
            "Done": {"Type": "Pass", "End": True},
        }
    )
    definition = _machine(
        {
            "ItemProcessor": processor,
            "ToleratedFailureCount": 1,
            "ResultWriter": _writer({"OutputType": "JSONL", "Transformation": "COMPACT"}),
        }
    )
    execution = _run(definition, [0, 1, 2], s3)
    assert execution.status == "SUCCEEDED"
    run_id = _only_map_run(execution).arn.rsplit(":", 1)[-1]
    succeeded = s3.objects[("result-bucket", f"mapJobs/{run_id}/SUCCEEDED_0.jsonl")]
    assert succeeded == "0\n2\n"
    failed = [
        json.loads(line)
        for line in s3.objects[("result-bucket", f"mapJobs/{run_id}/FAILED_0.jsonl")].splitlines()
    ]
    assert [(r["Status"], r["Error"], r["Cause"], r["Input"]) for r in failed] == [
        ("FAILED", "E", "c", "1")
    ]
    manifest = json.loads(s3.objects[("result-bucket", f"mapJobs/{run_id}/manifest.json")])
    assert [f["Key"] for f in manifest["ResultFiles"]["FAILED"]] == [
        f"mapJobs/{run_id}/FAILED_0.jsonl"
    ]


def test_result_writer_failure() -> None:
    s3 = FakeS3()
    s3.fail_puts = True
    execution = _run(_machine({"ResultWriter": _writer()}), [1], s3)
    assert (execution.error, execution.cause) == (
        "States.ResultWriterFailed",
        "S3.AccessDenied: Access Denied",
    )


# --- Map Runs and child executions ----------------------------------------------------------


def test_map_runs_expose_child_executions_and_counts() -> None:
    execution = _run(
        _machine({"Label": "L", "MaxConcurrency": 5, "ToleratedFailurePercentage": 50}), ["a", "b"]
    )
    run = _only_map_run(execution)
    assert (run.status, run.label, run.state_name) == ("SUCCEEDED", "L", "MapState")
    assert run.execution_arn == execution.arn
    assert run.state_machine_arn == "arn:aws:states:us-east-1:123456789012:stateMachine:Machine/L"
    children = run.executions
    assert [c.input for c in children] == ["a", "b"]
    assert all(isinstance(c, ChildExecution) and c.status == "SUCCEEDED" for c in children)
    assert (
        children[0].arn
        == f"arn:aws:states:us-east-1:123456789012:execution:Machine/L:{children[0].name}"
    )
    assert [e["type"] for e in children[0].history_json()["events"]] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    assert children[0].path == ["P"]
    described = run.describe()
    assert described["executionCounts"] == {
        "pending": 0, "running": 0, "succeeded": 2, "failed": 0, "timedOut": 0, "aborted": 0,
        "total": 2, "resultsWritten": 2, "failuresNotRedrivable": 0, "pendingRedrive": 0,
    }  # fmt: skip
    assert (described["maxConcurrency"], described["toleratedFailurePercentage"]) == (5, 50.0)
    assert described["toleratedFailureCount"] == 0


def test_express_children_have_express_arns() -> None:
    definition = _machine({"ItemProcessor": _processor(execution_type="EXPRESS"), "Label": "X"})
    child = _only_map_run(_run(definition, [1])).executions[0]
    assert child.arn.startswith("arn:aws:states:us-east-1:123456789012:express:Machine/X:")


def test_batches_count_their_items() -> None:
    execution = _run(_machine({"ItemBatcher": {"MaxItemsPerBatch": 2}}), [1, 2, 3])
    run = _only_map_run(execution)
    assert [c.input for c in run.executions] == [{"Items": [1, 2]}, {"Items": [3]}]
    assert run.item_counts()["succeeded"] == 3 and run.execution_counts()["succeeded"] == 2


def test_nested_distributed_map_runs_belong_to_the_child() -> None:
    inner = _machine({"Label": "Inner"})["States"]["MapState"]
    inner["ItemsPath"] = "$"
    processor = _processor({"Inner": inner})
    execution = _run(_machine({"ItemProcessor": processor, "Label": "Outer"}), [[1, 2], [3]])
    assert execution.output == [[1, 2], [3]]
    outer = _only_map_run(execution)
    nested = outer.executions[0].map_runs
    assert len(nested) == 1
    assert nested[0].state_machine_arn.endswith(":stateMachine:Machine/Outer/Inner")
    assert [c.input for c in nested[0].executions] == [1, 2]


def _counting_registry(delay: float) -> tuple[Registry, dict[str, int]]:
    seen = {"now": 0, "most": 0, "calls": 0}

    async def work(request: TaskRequest) -> Any:
        seen["now"] += 1
        seen["calls"] += 1
        seen["most"] = max(seen["most"], seen["now"])
        await asyncio.sleep(delay)
        seen["now"] -= 1
        return request.parameters

    registry = Registry()
    registry.register("test:work", FunctionIntegration(work))
    return registry, seen


_WORK = {"Work": {"Type": "Task", "Resource": "arn:aws:states:::test:work", "End": True}}


def test_max_concurrency_limits_children_running_at_once() -> None:
    registry, seen = _counting_registry(0.01)
    definition = _machine({"ItemProcessor": _processor(_WORK), "MaxConcurrency": 2})
    execution = _run(definition, list(range(6)), registry=registry)
    assert execution.output == list(range(6))
    assert (seen["most"], seen["calls"]) == (2, 6)


def test_no_more_children_start_once_the_threshold_is_exceeded() -> None:
    processor = _processor({"Boom": {"Type": "Fail", "Error": "E"}})
    definition = _machine({"ItemProcessor": processor, "MaxConcurrency": 1})
    execution = _run(definition, [1, 2, 3])
    assert execution.error == "States.ExceedToleratedFailureThreshold"
    run = _only_map_run(execution)
    assert [c.status for c in run.executions] == ["FAILED"]
    assert (run.status, run.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    child_events = run.executions[0].history_json()["events"]
    assert child_events[-1]["executionFailedEventDetails"] == {"error": "E"}


def test_stopping_the_parent_aborts_running_children() -> None:
    processor = _processor({"Hold": {"Type": "Wait", "Seconds": 100, "End": True}})

    async def main() -> Execution:
        engine = Engine(LocalHost(seed=3))
        machine = engine.create_state_machine(
            _machine({"ItemProcessor": processor}), name="Machine"
        )
        with engine.host.clock.hold():  # stop it while its children wait
            execution = await machine.start([1, 2])
            for _ in range(20):
                await asyncio.sleep(0)
            execution.stop()
        return await execution.wait()

    execution = asyncio.run(main())
    assert execution.status == "ABORTED"
    assert [e.type for e in execution.history][-3:] == [
        "MapRunAborted",
        "MapStateAborted",
        "ExecutionAborted",
    ]
    run = _only_map_run(execution)
    assert run.status == "ABORTED"
    assert [c.status for c in run.executions] == ["ABORTED", "ABORTED"]
    assert run.executions[0].history[-1].type == "ExecutionAborted"


def test_an_aborted_map_run_counts_the_children_it_never_started_as_pending() -> None:
    """Measured on AWS (floci-io/floci pull request 2694): a Map Run aborted with one child
    running answers ABORTED with aborted 1 and the children not started pending."""
    processor = _processor({"Hold": {"Type": "Wait", "Seconds": 100, "End": True}})

    async def main() -> Execution:
        engine = Engine(LocalHost(seed=3))
        definition = _machine({"ItemProcessor": processor, "MaxConcurrency": 1})
        machine = engine.create_state_machine(definition, name="Machine")
        with engine.host.clock.hold():  # stop it while its first child waits
            execution = await machine.start([1, 2, 3])
            for _ in range(20):
                await asyncio.sleep(0)
            execution.stop()
        return await execution.wait()

    run = _only_map_run(asyncio.run(main()))
    assert run.status == "ABORTED"
    for counts in (run.execution_counts(), run.item_counts()):
        assert (counts["aborted"], counts["pending"], counts["total"]) == (1, 2, 3)
        assert counts["resultsWritten"] == 0


def test_child_variables_are_isolated_from_the_parent() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Set",
        "States": {
            "Set": {"Type": "Pass", "Assign": {"x": 1}, "Next": "MapState"},
            "MapState": {
                "Type": "Map",
                "Items": "{% [1] %}",
                "ItemProcessor": _processor(
                    {"Read": {"Type": "Pass", "Output": "{% $x %}", "End": True}}
                ),
                "End": True,
            },
        },
    }
    execution = _run(definition, {})
    # The child cannot read the parent's $x: its execution fails, and with it the Map Run.
    assert execution.error == "States.ExceedToleratedFailureThreshold"
    child = _only_map_run(execution).executions[0]
    assert child.status == "FAILED"


# --- through the AWS integrations, against a moto server --------------------------------------


def test_reader_and_writer_through_the_aws_s3_integration_on_moto() -> None:
    from moto.server import ThreadedMotoServer

    from integrations.aws import AwsConfig, install

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        registry = Registry()
        clients = install(registry, AwsConfig(endpoint_url=f"http://{host}:{port}")).clients

        async def main() -> tuple[Execution, Any]:
            async with clients.client("s3") as s3:
                await s3.create_bucket(Bucket="input-bucket")
                await s3.create_bucket(Bucket="output-bucket")
                await s3.put_object(Bucket="input-bucket", Key="rows.csv", Body=CSV.encode())
            definition = _machine(
                {
                    "ItemReader": _reader({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}),
                    "ResultWriter": {
                        "Resource": "arn:aws:states:::s3:putObject",
                        "Parameters": {"Bucket": "output-bucket", "Prefix": "runs"},
                    },
                }
            )
            engine = Engine(LocalHost(invoker=registry, seed=5))
            machine = engine.create_state_machine(definition, name="Machine")
            execution = await (
                await machine.start({"Bucket": "input-bucket", "Key": "rows.csv"})
            ).wait()
            key = execution.output["ResultWriterDetails"]["Key"]
            async with clients.client("s3") as s3:
                manifest = await s3.get_object(Bucket="output-bucket", Key=key)
                body = await manifest["Body"].read()
            # s3:putObject stores the ResultWriter's text as it is.
            return execution, json.loads(body)

        execution, manifest = asyncio.run(main())
    finally:
        server.stop()
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    run = _only_map_run(execution)
    assert [c.input for c in run.executions] == FOUR_ROWS
    assert manifest["MapRunArn"] == run.arn
    assert [f["Key"].rsplit("/", 1)[-1] for f in manifest["ResultFiles"]["SUCCEEDED"]] == [
        "SUCCEEDED_0.json"
    ]
