"""Distributed Map: every item (or batch of items) runs as a child workflow execution.

The parent's history records, as AWS does (localstack test_base_scenarios, recorded
against AWS)::

    MapStateEntered -> MapStateStarted {length} -> MapRunStarted {mapRunArn}
    -> MapRunSucceeded -> MapStateSucceeded -> MapStateExited (linked to MapRunStarted)
    (or ... -> MapRunFailed {error, cause} -> MapStateFailed)

``length`` is the number of items of an array input and 0 with an ItemReader. Each child
execution has its own :class:`~runtime.frame.Run`, history, ARN
(``arn:aws:states:R:A:execution:<machine>/<label>:<uuid>``, ``express:`` for EXPRESS
children) and variables. The Map Run ARN is
``arn:aws:states:R:A:mapRun:<machine>/<label>:<uuid>``, the label being ``Label`` or a
generated UUID. ``Execution.map_runs`` gives an execution's :class:`MapRun` objects.

Items come from the state input or from an ItemReader read through the Host's
integrations (``s3:getObject`` answers the object body or ``{"Body": ...}``;
``s3:listObjectsV2`` answers a ListObjectsV2 response); a ResultWriter writes through
``s3:putObject`` (``{"Bucket", "Key", "Body"}``). Failed children within the tolerated
failure thresholds appear in the output as AWS's unchanged execution result (what
``Transformation: NONE`` gives), as the ResultWriter page says of failed children.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any

from asl import model as m
from asl.bindings import Bindings
from asl.errors import ITEM_READER_FAILED, RESULT_WRITER_FAILED, StatesError
from asl.flow.map_fields import MapFields, WriterConfig
from asl.item_readers import (
    inventory_files,
    inventory_items,
    limit_items,
    listed_objects,
    parse_items,
)
from asl.jsontext import json_size, json_text
from integrations.base import TaskRequest, parse_resource
from runtime.evaluation import evaluate
from runtime.frame import Frame
from runtime.interpreter import Outcome
from runtime.map_children import MapRunWork
from runtime.states.child_executions import error_details, run_children
from runtime.states.map_run import ChildExecution, ChildRecord, MapRun, register

__all__ = ["ChildExecution", "MapRun", "attempt"]


# --- the state ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    """What the Map Run needs, evaluated before it starts."""

    effective: Any = None
    items: list[Any] | None = None
    limit: int = 0
    tolerated: tuple[Any, Any] = (None, None)
    max_items: int | None = None
    items_per_batch: int | None = None
    bytes_per_batch: int | None = None
    batch_input: Any = m.MISSING
    reader_parameters: Any = m.MISSING
    writer_parameters: Any = m.MISSING


async def attempt(
    state: m.Map, raw_input: Any, frame: Frame, entered: int, retry_count: int
) -> Outcome:
    """One attempt of a Distributed Map (Retry and Catch are around it)."""
    fields = state.flow.map_fields
    assert fields is not None  # map_state sends only a Distributed Map here
    b = frame.bindings(state, retry_count)
    plan = _Plan()
    if state.item_reader is None:
        plan.effective, plan.items = await evaluate(
            state, frame, entered, state.flow.items, raw_input, b
        )
    else:
        effective = await evaluate(
            state, frame, entered, fields.effective_input, b.with_input(raw_input)
        )
        plan.effective, plan.items = effective, None
    frame.record("MapStateStarted", {"length": 0 if plan.items is None else len(plan.items)})
    await evaluate(state, frame, entered, _evaluate_settings, state, fields, plan, b)
    map_run = _start_map_run(state, frame, plan)
    run_started = frame.last_event
    try:
        result = await _map_run(state, fields, plan, frame, map_run, entered, retry_count)
    except StatesError as failure:
        map_run.close("FAILED", failure.error, failure.cause)
        frame.record("MapRunFailed", error_details(failure))
        frame.record("MapStateFailed")
        raise
    except asyncio.CancelledError:
        map_run.close("ABORTED")
        frame.record("MapRunAborted")
        raise
    map_run.close("SUCCEEDED")
    # The newest recordings (localstack test_assign_reference_variables, 18-11-2024:
    # MAP_STATE_REFERENCE_IN_ITEM_SELECTOR and ..._IN_TOLERATED_FAILURE_PATH) link the
    # state's exit to MapRunStarted; older ones (test_base_scenarios, February and June
    # 2024) linked it to MapRunSucceeded. We follow the newest.
    frame.last_event = run_started
    succeeded = frame.record_at(run_started, "MapRunSucceeded")
    frame.record_at(succeeded, "MapStateSucceeded")
    frame.result_size = math.inf  # not measured: the output is, when it is needed
    output, assigned = await evaluate(
        state, frame, entered, state.flow.finish, raw_input, result, b
    )
    return output, state.next, assigned


def _evaluate_settings(state: m.Map, fields: MapFields, plan: _Plan, b: Bindings) -> None:
    """The Map Run's settings (errors here are the state's, before the Map Run starts)."""
    reading = b.with_input(plan.effective)
    plan.limit = state.flow.max_concurrency(plan.effective, b)
    plan.tolerated = (fields.tolerated_count(reading), fields.tolerated_percentage(reading))
    plan.max_items = fields.max_items(reading)
    plan.items_per_batch = fields.max_items_per_batch(reading)
    plan.bytes_per_batch = fields.max_bytes_per_batch(reading)
    plan.batch_input = fields.batch_input(reading)
    plan.reader_parameters = fields.reader_parameters(reading)
    plan.writer_parameters = fields.writer_parameters(reading)


def _start_map_run(state: m.Map, frame: Frame, plan: _Plan) -> MapRun:
    run = frame.run
    host = run.host
    label = state.label if state.label is not None else host.new_uuid()
    base = run.state_machine_arn.replace(":stateMachine:", ":mapRun:", 1)
    map_run = MapRun(f"{base}/{label}:{host.new_uuid()}", state, frame, label)
    count, percentage = plan.tolerated
    map_run.max_concurrency = plan.limit
    map_run.tolerated_failure_count = 0 if count is None else count
    map_run.tolerated_failure_percentage = 0.0 if percentage is None else percentage
    register(frame, map_run)
    frame.record("MapRunStarted", {"mapRunArn": map_run.arn})
    return map_run


async def _map_run(
    state: m.Map,
    fields: MapFields,
    plan: _Plan,
    frame: Frame,
    map_run: MapRun,
    entered: int,
    retry_count: int,
) -> Any:
    """Read the items, run the children, gather (or write) their results."""
    map_run.check_redrive_limit()
    items = plan.items
    if items is None:
        items = await _read_items(state, fields, plan, frame)
        items = limit_items(items, plan.max_items)

    def item_inputs() -> list[Any]:
        return [
            state.flow.item_input(
                plan.effective, item, index,
                frame.bindings(state, retry_count, {"Index": index, "Value": item}),
            )
            for index, item in enumerate(items)
        ]  # fmt: skip

    inputs = await evaluate(state, frame, entered, item_inputs)
    batches = _batches(inputs, plan)
    map_run.planned_executions = len(batches)
    map_run.planned_items = sum(count for _, count in batches)
    work = _work(state, frame, map_run, plan, map_run.planned_items)
    children = await run_children(state, frame, map_run, work, batches)
    output = await _results(state, fields.writer, plan, frame, map_run, children)
    # Written once the Map Run succeeds, failed children too: AWS counts every child's
    # result with or without a ResultWriter (localstack test_sfn_api_map_run, recorded
    # against AWS: resultsWritten 2 of 2 with no ResultWriter; the aws-samples
    # reinvent2023-api312 README: 1021 items and 52 batches written, 20 items failed).
    map_run.results_written = len(children)
    map_run.items_written = sum(child.item_count for child in children)
    return output


def _work(state: m.Map, frame: Frame, map_run: MapRun, plan: _Plan, total: int) -> MapRunWork:
    run = frame.run
    return MapRunWork(
        state_name=state.name, map_run_arn=map_run.arn,
        state_machine_arn=map_run.state_machine_arn,
        state_machine_name=map_run.state_machine_name,
        execution_type=map_run.execution_type,
        role_arn=run.execution_context.get("RoleArn", ""), region=run.region,
        account=run.account, max_concurrency=plan.limit, tolerated=plan.tolerated,
        total_items=total,
    )  # fmt: skip


# --- batches ----------------------------------------------------------------------------------


def _batches(inputs: list[Any], plan: _Plan) -> list[tuple[Any, int]]:
    """Each child's input and how many items it carries. A batch's size is the size of
    its whole input, ``{"BatchInput": ..., "Items": [...]}``; an item too big for any
    batch goes alone."""
    if plan.items_per_batch is None and plan.bytes_per_batch is None:
        return [(value, 1) for value in inputs]
    overhead = json_size(_batch([], plan))
    groups: list[list[Any]] = []
    size = 0
    for value in inputs:
        item_size = json_size(value)
        if groups and _fits(groups[-1], size + 1 + item_size, plan):
            groups[-1].append(value)
            size += 1 + item_size  # and a comma
        else:
            groups.append([value])
            size = overhead + item_size
    return [(_batch(group, plan), len(group)) for group in groups]


def _fits(group: list[Any], size: int, plan: _Plan) -> bool:
    if plan.items_per_batch is not None and len(group) >= plan.items_per_batch:
        return False
    return plan.bytes_per_batch is None or size <= plan.bytes_per_batch


def _batch(group: list[Any], plan: _Plan) -> dict[str, Any]:
    # AWS puts BatchInput before Items (recorded: test_map_item_batching_base_json_...).
    if plan.batch_input is m.MISSING:
        return {"Items": group}
    return {"BatchInput": plan.batch_input, "Items": group}


# --- reading items -----------------------------------------------------------------------------


async def _get(frame: Frame, state: m.Map, resource: str, parameters: Any) -> Any:
    """Invoke an S3 resource through the Host; its failure fails the reader."""
    run = frame.run
    request = TaskRequest(
        resource=parse_resource(resource),
        parameters=parameters,
        state_name=state.name,
        execution_arn=run.execution_arn,
        state_machine_arn=run.state_machine_arn,
        region=run.region,
        account=run.account,
        services=run.host,
    )
    return await run.host.invoke(request)


async def _reader_call(frame: Frame, state: m.Map, action: str, parameters: Any) -> Any:
    try:
        return await _get(frame, state, f"arn:aws:states:::s3:{action}", parameters)
    except StatesError as error:
        # Not recorded against AWS: the integration's error becomes the cause.
        raise StatesError(ITEM_READER_FAILED, _described(error)) from None


def _described(error: StatesError) -> str:
    return f"{error.error}: {error.cause}" if error.cause else error.error


async def _read_items(state: m.Map, fields: MapFields, plan: _Plan, frame: Frame) -> list[Any]:
    config = fields.reader_config
    assert config is not None and fields.reader_resource is not None
    parameters = plan.reader_parameters
    action = parse_resource(fields.reader_resource).resource_name
    if action == "listObjectsV2":
        items = await _list_objects(state, frame, parameters)
        if config.transformation == "LOAD_AND_FLATTEN" and config.input_type is not None:
            return await _load_each(state, frame, parameters, items, fields)
        return items
    body = await _reader_call(frame, state, "getObject", parameters)
    if config.input_type == "MANIFEST":
        bucket, keys, columns = inventory_files(body)
        bodies = [
            await _reader_call(frame, state, "getObject", {"Bucket": bucket, "Key": key})
            for key in keys
        ]
        return inventory_items(bodies, columns)
    return parse_items(body, config)


async def _list_objects(state: m.Map, frame: Frame, parameters: Any) -> list[Any]:
    items: list[Any] = []
    token: str | None = None
    while True:
        request = parameters if token is None else {**parameters, "ContinuationToken": token}
        page, token = listed_objects(await _reader_call(frame, state, "listObjectsV2", request))
        items.extend(page)
        if token is None:
            return items


async def _load_each(
    state: m.Map, frame: Frame, parameters: Any, objects: list[Any], fields: MapFields
) -> list[Any]:
    """``Transformation: LOAD_AND_FLATTEN``: the items of every object listed."""
    assert fields.reader_config is not None
    bucket = parameters.get("Bucket") if isinstance(parameters, dict) else None
    items: list[Any] = []
    for listed in objects:
        request = {"Bucket": bucket, "Key": listed.get("Key")}
        body = await _reader_call(frame, state, "getObject", request)
        items.extend(parse_items(body, fields.reader_config))
    return items


# --- results ----------------------------------------------------------------------------------


def _transformed(children: list[ChildRecord], transformation: str) -> list[Any]:
    """The children's results per WriterConfig ``Transformation``; a failed child's is
    its unchanged execution result [aws:resultwriter]."""
    out: list[Any] = []
    for child in children:
        if child.status != "SUCCEEDED" or transformation == "NONE":
            out.append(child.record())
        elif transformation == "FLATTEN" and isinstance(child.output, list):
            out.extend(child.output)
        else:
            out.append(child.output)
    return out


async def _results(
    state: m.Map,
    writer: WriterConfig | None,
    plan: _Plan,
    frame: Frame,
    map_run: MapRun,
    children: list[ChildRecord],
) -> Any:
    if writer is None or writer.resource is None:
        return _transformed(children, "COMPACT" if writer is None else writer.transformation)
    parameters = plan.writer_parameters if isinstance(plan.writer_parameters, dict) else {}
    bucket = parameters.get("Bucket")
    prefix = parameters.get("Prefix") or ""
    run_id = map_run.arn.rsplit(":", 1)[-1]
    folder = f"{prefix}{'' if not prefix or prefix.endswith('/') else '/'}{run_id}"
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status in ("SUCCEEDED", "FAILED"):
        group = [c for c in children if (c.status == "SUCCEEDED") == (status == "SUCCEEDED")]
        if group:
            files[status].append(
                await _write_file(state, frame, writer, bucket, f"{folder}/{status}_0", group)
            )
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run.arn, "ResultFiles": files}
    key = f"{folder}/manifest.json"
    await _put(state, frame, writer, {"Bucket": bucket, "Key": key, "Body": json.dumps(manifest)})
    return {"MapRunArn": map_run.arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}}


async def _write_file(
    state: m.Map,
    frame: Frame,
    writer: WriterConfig,
    bucket: Any,
    stem: str,
    children: list[ChildRecord],
) -> dict[str, Any]:
    values = _transformed(children, writer.transformation)
    if writer.output_type == "JSONL":
        key, body = f"{stem}.jsonl", "".join(json_text(v) + "\n" for v in values)
    else:
        key, body = f"{stem}.json", json_text(values)
    await _put(state, frame, writer, {"Bucket": bucket, "Key": key, "Body": body})
    return {"Key": key, "Size": len(body.encode())}


async def _put(state: m.Map, frame: Frame, writer: WriterConfig, parameters: Any) -> None:
    assert writer.resource is not None
    try:
        await _get(frame, state, writer.resource, parameters)
    except StatesError as error:
        # Not recorded against AWS: the integration's error becomes the cause.
        raise StatesError(RESULT_WRITER_FAILED, _described(error)) from None
