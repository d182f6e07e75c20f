"""AWS resources declared for a local endpoint: ``asl run --resources FILE`` and
``local_engine(resources=...)``.

The embedded moto server starts empty, so a workflow that sends to a queue or reads a
table fails, as it would on an AWS account without them. A resources file (JSON or YAML)
declares what the workflow expects to exist; it is created before the first execution
starts, on the endpoint the AWS integrations call (the embedded server,
``ASL_AWS_ENDPOINT_URL``, or ``AwsConfig.endpoint_url``)::

    queues:                                 # SQS
      - order-approvals
      - {name: jobs.fifo, attributes: {FifoQueue: "true"}}
    topics:                                 # SNS
      - order-events
    tables:                                 # DynamoDB, on-demand capacity
      - name: Stock
        key: {sku: S}                       # partition key [, sort key]: name -> S, N or B
        items:                              # plain JSON, or DynamoDB's typed form
          - {sku: DESK-STD-160, count: 12}
    buckets:                                # S3
      - name: orders-input
        objects:
          - {key: items.json, json: [{"id": 1}]}    # a JSON value, written as JSON text
          - {key: readme.txt, text: hello}
          - {key: big.csv, file: data/big.csv}      # relative to the resources file
    event_buses:                            # EventBridge (``default`` always exists)
      - orders

Creating is idempotent: what exists already is kept (a table's items are written again).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from asl.textfile import MIB, TextFileError, read_file_bytes
from integrations.settings_file import SettingsFileError, read_settings

if TYPE_CHECKING:
    from integrations.aws.client import AwsClients

__all__ = ["AwsResources", "ResourcesError", "ResourcesSource", "as_resources"]


class ResourcesError(ValueError):
    """A resources file that cannot be used, or a resource the endpoint would not create."""


#: The largest object ``file`` read (our bound: the embedded S3 holds objects in memory).
OBJECT_FILE_MAX_BYTES = 64 * MIB


_NAME = {"type": "string", "minLength": 1}
_WITH_ATTRIBUTES = {  # a bare name, or a name with the create call's string attributes
    "oneOf": [
        _NAME,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": _NAME,
                "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    ]
}
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "queues": {"type": "array", "items": _WITH_ATTRIBUTES},
        "topics": {"type": "array", "items": _WITH_ATTRIBUTES},
        "event_buses": {"type": "array", "items": _NAME},
        "tables": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "key"],
                "properties": {
                    "name": _NAME,
                    "key": {
                        "type": "object",
                        "minProperties": 1,
                        "maxProperties": 2,
                        "additionalProperties": {"enum": ["S", "N", "B"]},
                    },
                    "items": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
        "buckets": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": _NAME,
                    "objects": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["key"],
                            "properties": {
                                "key": _NAME,
                                "json": {},
                                "text": {"type": "string"},
                                "file": _NAME,
                            },
                            "minProperties": 2,
                            "maxProperties": 2,
                        },
                    },
                },
            },
        },
    },
}

_TYPE_KEYS = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})


@dataclass(frozen=True, slots=True)
class Table:
    """A DynamoDB table: its key schema (partition key first) and items, typed."""

    name: str
    key: tuple[tuple[str, str], ...]
    items: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Bucket:
    """An S3 bucket and its objects (key -> body)."""

    name: str
    objects: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class AwsResources:
    """What to create on the endpoint before the first execution starts."""

    queues: tuple[tuple[str, dict[str, str]], ...] = ()
    topics: tuple[tuple[str, dict[str, str]], ...] = ()
    tables: tuple[Table, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    event_buses: tuple[str, ...] = ()
    source: str = field(default="resources", compare=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AwsResources:
        """Read and check a resources file (JSON or YAML)."""
        try:
            document = read_settings(path)
        except SettingsFileError as exc:
            raise ResourcesError(str(exc)) from None
        return cls.from_mapping({} if document is None else document, Path(path))

    @classmethod
    def from_mapping(cls, document: Any, file: Path | None = None) -> AwsResources:
        """Check a parsed resources document; ``file`` is where relative object files are
        read from (its folder; the working directory without one)."""
        source = str(file) if file is not None else "resources"
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(_SCHEMA).iter_errors(document)
        )
        if error is not None:
            where = "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
            )
            raise ResourcesError(
                f"{source}: {where.lstrip('.') or 'the document'}: {error.message}"
            )
        folder = file.parent if file is not None else Path()
        queues = tuple(_with_attributes(q) for q in document.get("queues", ()))
        topics = tuple(_with_attributes(t) for t in document.get("topics", ()))
        tables = tuple(
            Table(
                t["name"],
                tuple(t["key"].items()),
                tuple(
                    _typed_item(item, f"{source}: table {t['name']}") for item in t.get("items", ())
                ),
            )
            for t in document.get("tables", ())
        )
        buckets = tuple(
            Bucket(
                b["name"],
                tuple((o["key"], _body(o, folder, source)) for o in b.get("objects", ())),
            )
            for b in document.get("buckets", ())
        )
        buses = tuple(document.get("event_buses", ()))
        return cls(queues, topics, tables, buckets, buses, source)

    async def create(self, clients: AwsClients) -> None:
        """Create every resource at the clients' endpoint; ``ResourcesError`` names the
        one that failed and why."""
        from botocore.exceptions import BotoCoreError, ClientError

        endpoint = await clients.endpoint_url()
        if endpoint is None:
            raise ResourcesError(
                f"{self.source}: declared resources are created only on a local endpoint "
                "(the embedded server, or ASL_AWS_ENDPOINT_URL), not on AWS itself"
            )
        what = "the endpoint"
        try:
            if self.queues:
                async with clients.client("sqs") as sqs:
                    for name, attributes in self.queues:
                        what = f"queue {name}"
                        await sqs.create_queue(QueueName=name, Attributes=attributes)
            if self.topics:
                async with clients.client("sns") as sns:
                    for name, attributes in self.topics:
                        what = f"topic {name}"
                        await sns.create_topic(Name=name, Attributes=attributes)
            if self.tables:
                async with clients.client("dynamodb") as dynamodb:
                    for table in self.tables:
                        what = f"table {table.name}"
                        await _create_table(dynamodb, table)
            if self.buckets:
                async with clients.client("s3") as s3:
                    for bucket in self.buckets:
                        what = f"bucket {bucket.name}"
                        await _create_bucket(s3, bucket, clients.config.region)
            if self.event_buses:
                async with clients.client("events") as events:
                    for name in self.event_buses:
                        what = f"event bus {name}"
                        await _create_bus(events, name)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise ResourcesError(
                f"{self.source}: cannot create {what} at {endpoint}: "
                f"{error.get('Code', 'Error')}: {error.get('Message', '')}"
            ) from None
        except BotoCoreError as exc:
            raise ResourcesError(
                f"{self.source}: cannot create {what} at {endpoint}: {exc}"
            ) from None


def _with_attributes(entry: str | Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    if isinstance(entry, str):
        return entry, {}
    return entry["name"], dict(entry.get("attributes", {}))


async def _create_table(dynamodb: Any, table: Table) -> None:
    from botocore.exceptions import ClientError

    roles = ("HASH", "RANGE")
    try:
        await dynamodb.create_table(
            TableName=table.name,
            KeySchema=[
                {"AttributeName": name, "KeyType": role}
                for (name, _), role in zip(table.key, roles, strict=False)
            ],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": kind} for name, kind in table.key
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
    for item in table.items:
        await dynamodb.put_item(TableName=table.name, Item=item)


async def _create_bucket(s3: Any, bucket: Bucket, region: str) -> None:
    from botocore.exceptions import ClientError

    options: dict[str, Any] = {}
    if region != "us-east-1":  # S3 refuses a LocationConstraint of us-east-1
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        await s3.create_bucket(Bucket=bucket.name, **options)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise
    for key, body in bucket.objects:
        await s3.put_object(Bucket=bucket.name, Key=key, Body=body)


async def _create_bus(events: Any, name: str) -> None:
    from botocore.exceptions import ClientError

    if name == "default":
        return
    try:
        await events.create_event_bus(Name=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
            raise


def _typed_item(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    """An item in DynamoDB's typed form: as given when every attribute already is
    (``{"S": "x"}``, ...), else converted from plain JSON."""
    if item and all(
        isinstance(v, Mapping) and len(v) == 1 and next(iter(v)) in _TYPE_KEYS
        for v in item.values()
    ):
        return dict(item)
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    try:
        return {name: serializer.serialize(_decimals(v)) for name, v in item.items()}
    except (TypeError, ValueError) as exc:
        raise ResourcesError(f"{where}: item {json.dumps(item, default=str)}: {exc}") from None


def _decimals(value: Any) -> Any:
    """DynamoDB numbers are decimals; JSON and YAML read floats."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def _body(entry: Mapping[str, Any], folder: Path, source: str) -> bytes:
    if "json" in entry:
        return json.dumps(entry["json"], ensure_ascii=False).encode("utf-8")
    if "text" in entry:
        return str(entry["text"]).encode("utf-8")
    try:
        return read_file_bytes(folder / entry["file"], OBJECT_FILE_MAX_BYTES)
    except TextFileError as exc:
        raise ResourcesError(f"{source}: object {entry['key']}: {exc}") from None


ResourcesSource = AwsResources | Mapping[str, Any] | str | os.PathLike[str]


def as_resources(source: ResourcesSource) -> AwsResources:
    """Resources from an ``AwsResources``, a parsed document or a file path."""
    if isinstance(source, AwsResources):
        return source
    if isinstance(source, str | os.PathLike):
        return AwsResources.load(source)
    return AwsResources.from_mapping(source)
