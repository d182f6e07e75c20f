"""The S3 resources of a Distributed Map: ``s3:getObject`` and ``s3:listObjectsV2`` (its
ItemReader) and ``s3:putObject`` (its ResultWriter), through aiobotocore.

What each returns is what :mod:`runtime.states.distributed_map` reads:

- ``s3:getObject`` (Parameters ``Bucket``, ``Key``, ``VersionId``, any GetObject member):
  ``{"Body": <the object as UTF-8 text>}`` (a gzip object is decompressed first, as
  :func:`asl.item_readers.body_text` does);
- ``s3:listObjectsV2`` (``Bucket``, ``Prefix``, ``ContinuationToken``, any ListObjectsV2
  member): the API's response, members in PascalCase and alphabetical order
  (``IsTruncated``, ``NextContinuationToken``, ``KeyCount`` ...), each of its ``Contents``
  reduced to the fields a child execution receives, ``ETag``, ``Key``, ``LastModified``
  (epoch seconds), ``Size``, ``StorageClass`` (AWS's example of a child's input:
  https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html);
- ``s3:putObject`` (``Bucket``, ``Key``, ``Body``, any PutObject member): stores a text
  ``Body`` as it is (the ResultWriter's manifest and result files are text; unlike
  ``aws-sdk:s3:putObject``, which stores the JSON text of the string) and any other value
  as its JSON text; returns the API's response (``{"ETag": ..., ...}``).

Errors are named as ``aws-sdk:s3:*`` names them, in the AWS SDK for Java 2.x style:
``S3.NoSuchKeyException``, ``S3.NoSuchBucketException``, ``S3.SdkClientException``
(:mod:`integrations.aws.errors`).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from botocore.model import OperationModel

from asl.jsontext import json_text
from integrations.aws.client import AwsClients
from integrations.aws.config import S3_KEYS
from integrations.aws.errors import ErrorStyle, sdk_style
from integrations.aws.shapes import from_response, to_request
from integrations.base import TaskRequest, not_served, object_parameters

__all__ = ["S3ItemIntegration", "listed_object", "object_text"]

_SERVICE = "s3"
_GZIP_MAGIC = b"\x1f\x8b"
#: The fields of a listed object that a child execution receives, in AWS's order.
_LISTED_FIELDS = ("ETag", "Key", "LastModified", "Size", "StorageClass")

_Call = Callable[[AwsClients, OperationModel, dict[str, Any], ErrorStyle], Awaitable[Any]]


def object_text(body: bytes) -> str:
    """An object's bytes as text: gzip decompressed, a UTF-8 byte order mark dropped,
    bytes that are not UTF-8 replaced (the reader then fails to parse them)."""
    raw = body
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raw = body
    return raw.decode("utf-8-sig", "replace")


def listed_object(entry: dict[str, Any]) -> dict[str, Any]:
    """One ``Contents`` entry of a botocore ListObjectsV2 response as the Map lists it."""
    item: dict[str, Any] = {}
    for name in _LISTED_FIELDS:
        value = entry.get(name)
        if value is None:
            continue
        item[name] = int(value.timestamp()) if isinstance(value, datetime) else value
    return item


async def _get_object(
    clients: AwsClients, operation: OperationModel, params: dict[str, Any], style: ErrorStyle
) -> dict[str, Any]:
    kwargs = to_request(params, operation, _SERVICE)
    response = await clients.call(_SERVICE, operation, kwargs, style)
    body = response.get("Body")
    return {"Body": object_text(body if isinstance(body, bytes) else b"")}


async def _list_objects_v2(
    clients: AwsClients, operation: OperationModel, params: dict[str, Any], style: ErrorStyle
) -> dict[str, Any]:
    kwargs = to_request(params, operation, _SERVICE)
    response = await clients.call(_SERVICE, operation, kwargs, style)
    result = from_response(response, operation.output_shape)
    contents = response.get("Contents")
    if isinstance(contents, list):
        result["Contents"] = [listed_object(entry) for entry in contents]
    return result


async def _put_object(
    clients: AwsClients, operation: OperationModel, params: dict[str, Any], style: ErrorStyle
) -> dict[str, Any]:
    body = params.get("Body")
    rest = {name: value for name, value in params.items() if name != "Body"}
    kwargs = to_request(rest, operation, _SERVICE)
    if body is not None:
        kwargs["Body"] = (body if isinstance(body, str) else json_text(body)).encode()
    response = await clients.call(_SERVICE, operation, kwargs, style)
    return from_response(response, operation.output_shape)


_ACTIONS: dict[str, tuple[str, _Call]] = {
    "s3:getObject": ("GetObject", _get_object),
    "s3:listObjectsV2": ("ListObjectsV2", _list_objects_v2),
    "s3:putObject": ("PutObject", _put_object),
}


class S3ItemIntegration:
    """Serves ``arn:aws:states:::s3:getObject``, ``s3:listObjectsV2`` and ``s3:putObject``."""

    #: The resource keys this integration serves.
    keys: tuple[str, ...] = S3_KEYS

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    async def invoke(self, request: TaskRequest) -> Any:
        """Call the S3 action with the request's Parameters; its result, or ``StatesError``."""
        resource = request.resource
        action = _ACTIONS.get(resource.key)
        if action is None or resource.pattern != "request-response":
            raise not_served(request)
        params = object_parameters(request)
        operation_name, call = action
        model = await self._clients.service_model(_SERVICE)
        operation = model.operation_model(operation_name)
        return await call(self._clients, operation, params, sdk_style(str(model.service_id)))
