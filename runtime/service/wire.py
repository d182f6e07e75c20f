"""The AWS JSON 1.0 protocol: ``POST /`` with ``X-Amz-Target: AWSStepFunctions.<Operation>``
and a JSON body, answered with JSON (``application/x-amz-json-1.0``) and dates as epoch
seconds.

Routing reads ``X-Amz-Target`` only, never ``Host``: boto3 and the AWS CLI send
StartSyncExecution and TestState to a ``sync-`` host prefix. Errors are ``{"__type":
code, "message": text}`` with status 400, which botocore raises as the operation's
modelled exception class (``client.exceptions.ExecutionDoesNotExist``) and never retries;
a client's mistake is never a 5xx, which botocore retries (a StartExecution could run
twice). A fault of this server is logged with its traceback here and answered as AWS's
common ``InternalFailure`` (status 500), without the traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from asl.bindings import uuid4_text
from asl.jsontext import parse_json
from runtime.api_limits import ValidationException
from runtime.service.backend import Backend, Operation
from runtime.service.errors import RequestTimeout, SerializationException, UnknownOperation
from runtime.service.shapes import check_request
from runtime.store import ApiError

__all__ = [
    "API",
    "BODY_SECONDS",
    "CONTENT_TYPE",
    "HTTP_LOG",
    "MAX_BODY_BYTES",
    "TARGET_PREFIX",
    "Api",
    "Reply",
    "build_app",
]

_log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "AWSStepFunctions."
#: How long a request's body may take to come in (botocore's default read timeout): a
#: client that sends less than its Content-Length holds its connection no longer.
BODY_SECONDS = 60.0
#: A definition is up to 1,048,576 characters, each up to 6 bytes once escaped in JSON.
MAX_BODY_BYTES = 8 * 1024 * 1024
#: Replies as compact JSON, non-ASCII escaped; the encoder made once, not per reply, with
#: no circularity check (a reply is a tree).
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)


class _ClientMistakes(logging.Filter):
    """aiohttp answers a request it cannot parse (a header line over 8 KiB, a bad chunk
    size, a Content-Length that is no number) with 400 itself, and logs it with its
    traceback, as it does a body it cannot decode again when it reads the rest of it after
    the answer: the client's mistake, not the server's, so not logged here."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, HttpProcessingError | web.RequestPayloadError)


#: The logger of the server's HTTP connections (aiohttp's request handling, given to its
#: runner): what goes wrong in a handler is logged, a request aiohttp could not parse not.
HTTP_LOG = logging.getLogger(f"{__name__}.http")
HTTP_LOG.addFilter(_ClientMistakes())


@dataclass(slots=True)  # one a request: not frozen, whose __init__ costs more
class Reply:
    """An answer to one request: its status, headers and JSON body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Api:
    """The operations served on a backend, whatever carries the requests to them (aiohttp's
    handler, :mod:`runtime.service.lean_http`)."""

    backend: Backend
    operations: Mapping[str, Operation]

    async def answer(self, target: str, read: Callable[[], Awaitable[bytes]]) -> Reply | None:
        """The reply to a request with header ``X-Amz-Target: target`` whose body ``read()``
        gives; None when the client hung up before its body ended (no one to answer)."""
        request_id = _request_id()
        name = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
        try:
            operation = self.operations.get(name)
            if operation is None:
                # Our wording: AWS answers this code with no message of note.
                raise UnknownOperation(f"Unknown operation '{target}'")
            body = _body(await read())
            check_request(name, body)
            answer = await operation(self.backend, body)
        except ApiError as error:
            failed = {"__type": error.code, "message": error.message}
            return _reply(failed, error.status, request_id)
        except _HungUp:
            return None
        except Exception:
            _log.exception("%s failed (request %s)", name or target, request_id)
            failure = {
                "__type": "InternalFailure",
                "message": f"Internal failure (request {request_id})",
            }
            return _reply(failure, 500, request_id)
        return _reply(answer, 200, request_id)


#: Where the application keeps its :class:`Api` (the lean HTTP path answers through it too).
API: web.AppKey[Api] = web.AppKey("api", Api)


def build_app(backend: Backend, operations: Mapping[str, Operation]) -> web.Application:
    """The aiohttp application serving ``operations`` on ``backend``."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[API] = Api(backend, operations)
    app.router.add_post("/", _handle)
    return app


async def _handle(request: web.Request) -> web.Response:
    target = request.headers.get("X-Amz-Target", "")
    reply = await request.app[API].answer(target, partial(_read, request))
    if reply is None:
        return web.Response(status=400)  # never sent: only ends the request, unlogged
    return web.Response(body=reply.body, status=reply.status, headers=reply.headers)


async def _read(request: web.Request) -> bytes:
    try:
        async with asyncio.timeout(BODY_SECONDS):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        # Our wording: more than any member of this API can hold, a client's mistake.
        raise ValidationException(
            f"The request body is larger than {MAX_BODY_BYTES} bytes"
        ) from None
    except TimeoutError:
        raise RequestTimeout() from None
    except web.RequestPayloadError:  # a Content-Encoding its bytes are not in
        raise SerializationException("The request body could not be decoded") from None
    except ConnectionResetError:
        raise _HungUp() from None


#: Where request ids are drawn from: seeded from the system's randomness once, not asked of
#: it (a system call) for each request.
_REQUEST_IDS = random.Random(os.urandom(32))


def _request_id() -> str:
    """A random (version 4) UUID, as AWS's request ids are: one per request."""
    return uuid4_text(_REQUEST_IDS.getrandbits(128))


class _HungUp(Exception):
    """The client closed its connection before its body ended: no one to answer."""


def _body(raw: bytes) -> dict[str, Any]:
    """The request's members; ``SerializationException`` for anything but a JSON object."""
    try:
        body = parse_json(raw.decode("utf-8")) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise SerializationException("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise SerializationException("The request body is not a JSON object")
    return body


def _reply(payload: dict[str, Any], status: int, request_id: str) -> Reply:
    headers = {"x-amzn-RequestId": request_id}
    if status != 200:
        headers["x-amzn-ErrorType"] = str(payload["__type"])
    headers["Content-Type"] = CONTENT_TYPE  # as AWS sends it, with no charset parameter
    return Reply(status, headers, _ENCODER.encode(payload).encode())
