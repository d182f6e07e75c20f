"""A Distributed Map's ItemReader: turning what S3 returned into the Map's items.

Pure: the runtime fetches (``s3:getObject``, ``s3:listObjectsV2``) through the
integration registry; this module parses what came back per ``ReaderConfig``:

- ``InputType`` JSON (an array, or the array ``ItemsPointer`` points at), JSONL (one value
  a line), CSV (``CSVHeaderLocation`` FIRST_ROW | GIVEN with ``CSVHeaders``,
  ``CSVDelimiter`` COMMA | PIPE | SEMICOLON | SPACE | TAB; every value a string) and
  MANIFEST (an S3 Inventory ``manifest.json``, whose data files are CSV);
- no ``InputType`` with ``s3:listObjectsV2``: one item per object listed;
- ``MaxItems``: at most that many items (0 or absent: all).

Failures are ``States.ItemReaderFailed`` with AWS's cause where one is recorded
(localstack test_base_scenarios, recorded against AWS).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from asl.errors import ITEM_READER_FAILED, StatesError
from asl.jsontext import parse_json

__all__ = [
    "MAX_ITEMS_LIMIT",
    "ReaderConfig",
    "body_text",
    "csv_items",
    "inventory_files",
    "inventory_items",
    "limit_items",
    "listed_objects",
    "parse_items",
    "reader_config",
]

#: The largest MaxItems AWS takes; a larger value reads everything (recorded: 100000001).
MAX_ITEMS_LIMIT = 100_000_000
_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}
_NOT_ITERABLE = "Attempting to map over non-iterable node."
_DUPLICATE_HEADERS = "CSV headers cannot contain duplicates."
_MAX_ITEMS_NEGATIVE = "field MaxItems must be positive"


def _failed(cause: str) -> StatesError:
    return StatesError(ITEM_READER_FAILED, cause)


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    """The parts of ``ReaderConfig`` that say how to parse (MaxItems is evaluated apart,
    since it may be a path or an expression)."""

    input_type: str | None = None
    csv_header_location: str = "FIRST_ROW"
    csv_headers: tuple[str, ...] = ()
    csv_delimiter: str = "COMMA"
    items_pointer: str | None = None
    manifest_type: str | None = None
    transformation: str = "NONE"


def reader_config(config: Mapping[str, Any]) -> ReaderConfig:
    """A :class:`ReaderConfig` from the definition's ``ReaderConfig`` object."""
    headers = config.get("CSVHeaders")
    return ReaderConfig(
        input_type=config.get("InputType"),
        csv_header_location=config.get("CSVHeaderLocation", "FIRST_ROW"),
        csv_headers=tuple(headers) if isinstance(headers, list) else (),
        csv_delimiter=config.get("CSVDelimiter", "COMMA"),
        items_pointer=config.get("ItemsPointer"),
        manifest_type=config.get("ManifestType"),
        transformation=config.get("Transformation", "NONE"),
    )


def body_text(body: Any) -> str:
    """An object's body as text: str, UTF-8 bytes (gzip-compressed or not), or an
    SDK-style ``{"Body": ...}`` response."""
    if isinstance(body, Mapping) and "Body" in body:
        body = body["Body"]
    if isinstance(body, bytes | bytearray):
        raw = bytes(body)
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return raw.decode("utf-8-sig")
    if isinstance(body, str):
        return body
    # A getObject that answered a parsed JSON document already.
    return json.dumps(body)


def parse_items(body: Any, config: ReaderConfig) -> list[Any]:
    """The items of one object's body per ``config.input_type`` (JSON, JSONL, CSV)."""
    text = body_text(body)
    kind = config.input_type
    if kind == "JSON":
        return _json_items(text, config.items_pointer)
    if kind == "JSONL":
        return [_json_value(line) for line in text.splitlines() if line.strip()]
    if kind == "CSV":
        return csv_items(text, config)
    raise _failed(f"InputType {kind} is not supported by this engine's ItemReader.")


def _json_value(text: str) -> Any:
    try:
        return parse_json(text)
    except ValueError:
        raise _failed(f"The S3 object is not valid JSON: {text[:200]}") from None


def _json_items(text: str, pointer: str | None) -> list[Any]:
    value = _json_value(text)
    if pointer is not None:
        value = _at_pointer(value, pointer)
    if not isinstance(value, list):
        raise _failed(_NOT_ITERABLE)
    return value


def _at_pointer(value: Any, pointer: str) -> Any:
    """The value a JSON Pointer (RFC 6901) selects; missing: not iterable."""
    if pointer in ("", "/"):
        return value
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            raise _failed(_NOT_ITERABLE)
    return value


def csv_items(text: str, config: ReaderConfig) -> list[dict[str, str]]:
    """CSV rows as objects keyed by the header (every value a string)."""
    delimiter = _DELIMITERS.get(config.csv_delimiter, ",")
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = [row for row in reader if row]
    except csv.Error as error:
        # Not recorded against AWS: the wording is ours.
        raise _failed(f"The S3 object is not valid CSV: {error}") from None
    if config.csv_header_location == "GIVEN":
        headers = list(config.csv_headers)
    else:
        if not rows:
            return []
        headers, rows = rows[0], rows[1:]
    if len(set(headers)) != len(headers):
        raise _failed(_DUPLICATE_HEADERS)
    return [dict(zip(headers, row, strict=False)) for row in rows]


def limit_items(items: list[Any], max_items: int | None) -> list[Any]:
    """At most ``max_items`` items: 0 or None reads all; a negative count fails."""
    if max_items is None or max_items == 0:
        return items
    if max_items < 0:
        raise _failed(_MAX_ITEMS_NEGATIVE)
    return items[: min(max_items, MAX_ITEMS_LIMIT)]


def listed_objects(response: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The items of one ``ListObjectsV2`` page (one per object, ``ETag`` spelt ``Etag``
    as the Map's items have it) and the continuation token of the next page, if any."""
    if not isinstance(response, Mapping):
        raise _failed(_NOT_ITERABLE)
    items = [_object_item(entry) for entry in response.get("Contents") or ()]
    truncated = response.get("IsTruncated") is True
    token = response.get("NextContinuationToken") if truncated else None
    return items, token if isinstance(token, str) else None


def _object_item(entry: Any) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise _failed(_NOT_ITERABLE)
    item: dict[str, Any] = {}
    for key, value in entry.items():
        item["Etag" if key == "ETag" else key] = value
    return item


def inventory_files(body: Any) -> tuple[str, list[str], list[str]]:
    """An S3 Inventory ``manifest.json``: the bucket of its data files, their keys and
    the column names of their CSV rows (``fileSchema``)."""
    manifest = _json_value(body_text(body))
    if not isinstance(manifest, Mapping) or not isinstance(manifest.get("files"), list):
        raise _failed(_NOT_ITERABLE)
    bucket = manifest.get("destinationBucket", "")
    if isinstance(bucket, str) and bucket.startswith("arn:aws:s3:::"):
        bucket = bucket.removeprefix("arn:aws:s3:::")
    schema = manifest.get("fileSchema", "")
    columns = [c.strip() for c in schema.split(",")] if isinstance(schema, str) else []
    keys = [f["key"] for f in manifest["files"] if isinstance(f, Mapping) and "key" in f]
    return str(bucket), keys, columns


def inventory_items(bodies: Iterable[Any], columns: list[str]) -> list[dict[str, str]]:
    """The rows of S3 Inventory CSV data files (no header row) keyed by ``columns``."""
    given = ReaderConfig(input_type="CSV", csv_header_location="GIVEN", csv_headers=tuple(columns))
    items: list[dict[str, str]] = []
    for body in bodies:
        items.extend(csv_items(body_text(body), given))
    return items
