"""The HTTP Task: ``arn:aws:states:::http:invoke``, sent with an aiohttp client.

As AWS documents it [aws:call-https-apis, aws:connect-third-party-apis]: ``ApiEndpoint``,
``Method`` (GET POST PUT DELETE PATCH OPTIONS HEAD) and a connection are required
(``Authentication.ConnectionArn``, or ``InvocationConfig.ConnectionArn`` for private APIs;
see :mod:`integrations.connections`); ``Headers``, ``QueryParameters``, ``RequestBody``
and ``Transform`` (``RequestBodyEncoding`` NONE | URL_ENCODED,
``RequestEncodingOptions.ArrayFormat`` INDICES (default) | REPEAT | COMMAS | BRACKETS) are
optional. Refused headers fail with ``States.Runtime``; the User-Agent is
``Amazon|StepFunctions|HttpInvoke|<region>``; URL_ENCODED sends
``application/x-www-form-urlencoded`` (CDK docs); the connection's parameters win over
the task's of the same name (EventBridge); a status outside 2xx is
``States.Http.StatusCode.<code>``, the 60-second socket timeout ``States.Http.Socket``
(whatever TimeoutSeconds, which the engine applies); JSON responses are parsed; binary
and media responses are refused.

Chosen here, not recorded against AWS (? UNVERIFIED):

- causes: refused headers give the wording of AWS's definition check, ``The 'Headers'
  field contains unsupported values: [authorization]`` (console, 2025-04), Authorization
  included; a status error's cause is the result as compact JSON; the others are ours;
- the result ``{"Headers": {name: [values]}, "ResponseBody": ..., "StatusCode": <number>,
  "StatusText": <reason>}``: names as the server spells them, repeats gathered;
  ResponseBody parsed for ``application/json`` and ``*+json`` when it parses, else text;
- the request: ``Range: bytes=0-262144`` (recalled from AWS's TestState traces); a body
  without Content-Type is ``application/json; charset=UTF-8``; a text body is sent as is,
  other JSON compact; connection body parameters merge only into an object body (or make
  one); QueryParameters use the body's encoder and ArrayFormat; a user Content-Length,
  User-Agent or Range is replaced;
- refused responses (``States.Runtime``): image/, audio/, video/, font/,
  application/octet-stream, or a body that is not text in its charset; a body over
  262,145 bytes (what the Range asks for) is ``States.DataLimitExceeded``;
- redirects are not followed (a 3xx is a status error); a refused connection, a DNS or a
  TLS failure is ``States.Http.Socket`` too; a field of the wrong shape ``States.Runtime``.

Locally only: ``http://`` is accepted for loopback hosts (localhost, 127.0.0.0/8, ::1) so
tests can run a plain server; other hosts need HTTPS unless ``allow_http=True``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import re
import socket
import ssl as ssl_module
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import yarl
from multidict import CIMultiDict

from asl.errors import DATA_LIMIT_EXCEEDED, HTTP_PREFIX, RUNTIME, StatesError
from asl.http_task import ARRAY_FORMATS, HTTP_METHODS, is_forbidden_header
from asl.jsontext import json_text, parse_json
from integrations.base import Registry, TaskRequest, TaskServices, before
from integrations.connections import (
    ApiKey,
    Basic,
    Connection,
    ConnectionSource,
    OAuthClientCredentials,
    OAuthTokens,
    Parameters,
    as_connections,
    basic_credentials,
    not_found,
)

__all__ = [
    "ARRAY_FORMATS",
    "EXCHANGES",
    "METHODS",
    "HttpCall",
    "HttpExchange",
    "HttpInvoke",
    "HttpRequest",
    "build_request",
    "encode_form",
    "parse_call",
    "status_error",
    "task_result",
]

METHODS: Final = HTTP_METHODS
SOCKET_TIMEOUT: Final = 60.0
MAX_RESPONSE_BYTES: Final = 262_145
SOCKET = f"{HTTP_PREFIX}Socket"
_RANGE = "bytes=0-262144"
_JSON_TYPE = "application/json; charset=UTF-8"
_FORM_TYPE = "application/x-www-form-urlencoded"

_SET_BY_CLIENT: Final = frozenset({"content-length", "user-agent", "range"})
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BINARY_PREFIXES: Final = ("image/", "audio/", "video/", "font/")
_BINARY_TYPES: Final = frozenset({"application/octet-stream"})
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)
_ABSENT: Final = object()

Pairs = tuple[tuple[str, str], ...]


def _runtime(cause: str) -> StatesError:
    return StatesError(RUNTIME, cause)


# ---------------------------------------------------------------------------------------
# URL encoding (Transform.RequestEncodingOptions.ArrayFormat), in the style of the
# JavaScript ``qs`` library whose four array formats AWS names: for {"array": ["a","b","c"]}
# INDICES gives array[0]=a&array[1]=b&array[2]=c, REPEAT array=a&array=b&array=c,
# COMMAS array=a,b,c and BRACKETS array[]=a&array[]=b&array[]=c [aws:call-https-apis].
# Nested objects use brackets (a[b][c]=1) in every format. Names and values are
# percent-encoded (RFC 3986: all but letters, digits and -._~); the brackets that
# structure a name and the commas of COMMAS are written as the AWS examples show them.
# An empty array or object adds nothing; null is an empty value (a=). Choices where AWS
# is silent: a COMMAS array that holds an array or an object is written with indices as
# INDICES would (a scalar-only array inside it still joins with commas); text that UTF-8
# cannot carry (a lone surrogate) becomes '?'.


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _utf8(text: str) -> bytes:
    # JSON text may hold lone surrogates, which UTF-8 cannot carry: they become '?'.
    return text.encode("utf-8", "replace")


def _quote(text: str) -> str:
    return quote(text, safe="", errors="replace")


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _encode_into(name: str, value: Any, array_format: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _encode_into(f"{name}[{_quote(key)}]", item, array_format, out)
    elif isinstance(value, list):
        if array_format == "COMMAS" and value and all(_is_scalar(v) for v in value):
            out.append(f"{name}={','.join(_quote(_scalar(v)) for v in value)}")
            return
        for index, item in enumerate(value):
            if array_format == "REPEAT":
                key = name
            elif array_format == "BRACKETS":
                key = f"{name}[]"
            else:
                key = f"{name}[{index}]"
            _encode_into(key, item, array_format, out)
    else:
        out.append(f"{name}={_quote(_scalar(value))}")


def encode_form(value: Mapping[str, Any], array_format: str = "INDICES") -> str:
    """A JSON object as ``application/x-www-form-urlencoded`` text in an ArrayFormat."""
    if array_format not in ARRAY_FORMATS:
        raise ValueError(f"unknown ArrayFormat {array_format!r}")
    out: list[str] = []
    for key, item in value.items():
        _encode_into(_quote(str(key)), item, array_format, out)
    return "&".join(out)


# ---------------------------------------------------------------------------------------
# Parameters -> HttpCall -> HttpRequest (pure).


@dataclass(frozen=True, slots=True)
class HttpCall:
    """An HTTP Task's Parameters, checked."""

    endpoint: yarl.URL
    method: str
    connection_arn: str
    headers: Pairs = ()
    query: Mapping[str, Any] | None = None
    body: Any = _ABSENT
    url_encoded: bool = False
    array_format: str = "INDICES"

    @property
    def has_body(self) -> bool:
        """Whether the Parameters gave a ``RequestBody`` (null included)."""
        return self.body is not _ABSENT


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """The request to send: ``url`` is already percent-encoded."""

    method: str
    url: str
    headers: Pairs
    body: bytes | None


def _endpoint(value: Any) -> yarl.URL:
    if not isinstance(value, str):
        raise _runtime(f"The field 'ApiEndpoint' must be a text, got {json_text(value)}")
    try:
        url = yarl.URL(value)
        usable = url.absolute and url.scheme in ("http", "https") and bool(url.host)
    except (ValueError, TypeError):
        usable = False
    if not usable:
        raise _runtime(f"The field 'ApiEndpoint' is not an HTTPS URL: {json_text(value)}")
    return url


def _connection_arn(params: Mapping[str, Any]) -> str:
    for field in ("Authentication", "InvocationConfig"):
        holder = params.get(field)
        if isinstance(holder, Mapping) and isinstance(holder.get("ConnectionArn"), str):
            return str(holder["ConnectionArn"])
    raise _runtime(
        "The HTTP Task needs a connection: 'Authentication.ConnectionArn' must be a text"
    )


def _header_values(name: str, value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    texts = []
    for item in items:
        if isinstance(item, dict | list):
            raise _runtime(
                f"The value of the header '{name}' must be a text, got {json_text(value)}"
            )
        text = _utf8(_scalar(item)).decode("utf-8")
        if "\r" in text or "\n" in text:
            raise _runtime(f"The value of the header '{name}' contains a line break")
        texts.append(text)
    return texts


def _headers(value: Any) -> Pairs:
    if value is _ABSENT or value is None:
        return ()
    if not isinstance(value, dict):
        raise _runtime(f"The field 'Headers' must be an object, got {json_text(value)}")
    refused = [name.lower() for name in value if is_forbidden_header(name)]
    if refused:
        raise _runtime(f"The 'Headers' field contains unsupported values: [{', '.join(refused)}]")
    pairs: list[tuple[str, str]] = []
    for name, item in value.items():
        if not _TOKEN.match(name):
            raise _runtime(f"The 'Headers' field has an invalid header name: {json_text(name)}")
        pairs += [(name, text) for text in _header_values(name, item)]
    return tuple(pairs)


def _transform(value: Any) -> tuple[bool, str]:
    if value is _ABSENT or value is None:
        return False, "INDICES"
    if not isinstance(value, dict):
        raise _runtime(f"The field 'Transform' must be an object, got {json_text(value)}")
    encoding = value.get("RequestBodyEncoding", "NONE")
    if encoding not in ("NONE", "URL_ENCODED"):
        raise _runtime(
            "The field 'Transform.RequestBodyEncoding' must be NONE or URL_ENCODED, "
            f"got {json_text(encoding)}"
        )
    options = value.get("RequestEncodingOptions", {})
    array_format = options.get("ArrayFormat", "INDICES") if isinstance(options, dict) else None
    if array_format not in ARRAY_FORMATS:
        raise _runtime(
            "The field 'Transform.RequestEncodingOptions.ArrayFormat' must be one of "
            f"{', '.join(ARRAY_FORMATS)}, got {json_text(options)}"
        )
    return encoding == "URL_ENCODED", str(array_format)


def parse_call(parameters: Any) -> HttpCall:
    """Check an HTTP Task's Parameters; raises ``States.Runtime`` for a wrong shape."""
    if not isinstance(parameters, dict):
        raise _runtime(
            f"The Parameters of an HTTP Task must be an object, got {json_text(parameters)}"
        )
    method = parameters.get("Method")
    if method not in METHODS:
        raise _runtime(
            f"The field 'Method' must be one of {', '.join(METHODS)}, got "
            f"{json_text(parameters.get('Method'))}"
        )
    query = parameters.get("QueryParameters")
    if query is not None and not isinstance(query, dict):
        raise _runtime(f"The field 'QueryParameters' must be an object, got {json_text(query)}")
    url_encoded, array_format = _transform(parameters.get("Transform", _ABSENT))
    return HttpCall(
        endpoint=_endpoint(parameters.get("ApiEndpoint")),
        method=str(method),
        connection_arn=_connection_arn(parameters),
        headers=_headers(parameters.get("Headers", _ABSENT)),
        query=query,
        body=parameters.get("RequestBody", _ABSENT),
        url_encoded=url_encoded,
        array_format=array_format,
    )


def _merge_headers(base: Iterable[tuple[str, str]], over: Iterable[tuple[str, str]]) -> Pairs:
    """``base`` with every header named in ``over`` replaced by ``over``'s values."""
    over = tuple(over)
    replaced = {name.lower() for name, _ in over}
    return tuple((n, v) for n, v in base if n.lower() not in replaced) + over


def _body(call: HttpCall, connection: Connection) -> tuple[bytes | None, str | None]:
    """The body bytes and the Content-Type the encoding imposes (None: the default)."""
    body = call.body
    extra = connection.invocation.body
    if extra and (body is _ABSENT or isinstance(body, dict)):
        body = {**(body if isinstance(body, dict) else {}), **dict(extra)}
    if body is _ABSENT:
        return None, None
    if isinstance(body, str):
        return _utf8(body), (_FORM_TYPE if call.url_encoded else None)
    if call.url_encoded:
        if not isinstance(body, dict):
            raise _runtime(
                f"A URL_ENCODED 'RequestBody' must be an object or a text, got {json_text(body)}"
            )
        return encode_form(body, call.array_format).encode("ascii"), _FORM_TYPE
    return _utf8(json_text(body)), None


def _url(call: HttpCall, connection: Connection) -> str:
    query: dict[str, Any] = dict(call.query or {})
    query.update(connection.invocation.query)
    encoded = encode_form(query, call.array_format)
    endpoint = call.endpoint.with_fragment(None)
    existing = endpoint.raw_query_string
    text = "&".join(part for part in (existing, encoded) if part)
    base = str(endpoint.with_query(None))
    return f"{base}?{text}" if text else base


def _authorization(connection: Connection, bearer: str | None) -> Pairs:
    auth = connection.auth
    if isinstance(auth, ApiKey):
        return ((auth.name, auth.value),)
    if isinstance(auth, Basic):
        return (("Authorization", basic_credentials(auth.username, auth.password)),)
    if bearer is None:
        raise ValueError("an OAuth connection needs its bearer token")
    return (("Authorization", f"Bearer {bearer}"),)


def build_request(
    call: HttpCall,
    connection: Connection,
    region: str,
    bearer: str | None = None,
    *,
    secrets: bool = True,
) -> HttpRequest:
    """The request AWS would send for a call through a connection (``bearer``: the
    token of an OAuth connection); without ``secrets``, the request without what the
    connection adds (its headers, query and body parameters, and authorization)."""
    if not secrets:
        connection = replace(connection, invocation=Parameters())
    body, forced_type = _body(call, connection)
    headers = tuple((n, v) for n, v in call.headers if n.lower() not in _SET_BY_CLIENT)
    headers = _merge_headers(headers, connection.invocation.headers)
    if secrets:
        headers = _merge_headers(headers, _authorization(connection, bearer))
    if forced_type is not None:
        headers = _merge_headers(headers, (("Content-Type", forced_type),))
    elif body is not None and not any(n.lower() == "content-type" for n, _ in headers):
        headers += (("Content-Type", _JSON_TYPE),)
    headers = _merge_headers(
        headers, (("User-Agent", f"Amazon|StepFunctions|HttpInvoke|{region}"), ("Range", _RANGE))
    )
    return HttpRequest(call.method, _url(call, connection), headers, body)


# ---------------------------------------------------------------------------------------
# Response -> result (pure).


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _decode(body: bytes, content_type: str | None) -> str:
    match = _CHARSET.search(content_type or "")
    charset = match.group(1) if match else "utf-8"
    try:
        return body.decode(charset)
    except LookupError:
        return body.decode("utf-8")


def _response_body(body: bytes, content_type: str | None) -> Any:
    media = _media_type(content_type)
    if media in _BINARY_TYPES or media.startswith(_BINARY_PREFIXES):
        raise _runtime(f"The HTTP response has an unsupported content type: '{media}'")
    try:
        text = _decode(body, content_type)
    except UnicodeDecodeError:
        raise _runtime("The HTTP response body is binary, which is not supported") from None
    if media == "application/json" or media.endswith("+json"):
        try:
            return parse_json(text)
        except ValueError:
            return text
    return text


def task_result(
    status: int, reason: str | None, headers: Iterable[tuple[str, str]], body: bytes
) -> dict[str, Any]:
    """The HTTP Task's result for a response (any status)."""
    grouped: dict[str, list[str]] = {}
    spelled: dict[str, str] = {}
    content_type = None
    for name, value in headers:
        key = spelled.setdefault(name.lower(), name)
        grouped.setdefault(key, []).append(value)
        if name.lower() == "content-type" and content_type is None:
            content_type = value
    if not reason:
        reason = _phrase(status)
    return {
        "Headers": grouped,
        "ResponseBody": _response_body(body, content_type),
        "StatusCode": status,
        "StatusText": reason,
    }


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def status_error(result: Mapping[str, Any]) -> StatesError:
    """``States.Http.StatusCode.<code>`` with the result as the cause."""
    return StatesError(f"{HTTP_PREFIX}StatusCode.{result['StatusCode']}", json_text(result))


# ---------------------------------------------------------------------------------------
# The integration (I/O).


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


#: A response: status, reason, headers as sent, body.
_Response = tuple[int, str | None, list[tuple[str, str]], bytes]


@dataclass(frozen=True, slots=True)
class HttpExchange:
    """One call as sent and answered; ``plain`` is the request without its connection's
    secrets (see :func:`build_request`)."""

    sent: HttpRequest
    plain: HttpRequest
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


#: Where the calls made in this context are kept, when a caller sets a list here
#: (TestState's TRACE inspection data); None, the default, keeps nothing.
EXCHANGES: ContextVar[list[HttpExchange] | None] = ContextVar("http_exchanges", default=None)


class HttpInvoke:
    """The ``http:invoke`` integration.

    ``connections``: a :class:`~integrations.connections.Connections`, a mapping or a
    JSON/YAML file path. ``socket_timeout``: AWS's 60 seconds (shorter in tests).
    ``allow_http``: accept ``http://`` for every host, not only loopback ones. ``ssl``:
    what aiohttp's ``ssl`` takes (True: verify certificates). Timeouts and OAuth token
    expiry run on the Host's clock (the request's ``services``).
    """

    def __init__(
        self,
        connections: ConnectionSource | None = None,
        *,
        socket_timeout: float = SOCKET_TIMEOUT,
        allow_http: bool = False,
        ssl: ssl_module.SSLContext | bool = True,
    ) -> None:
        self.connections = as_connections(connections)
        self._timeout = socket_timeout
        self._allow_http = allow_http
        self._ssl = ssl
        self._tokens = OAuthTokens()

    def install(self, registry: Registry) -> None:
        """Serve ``arn:aws:states:::http:invoke`` from this registry."""
        registry.register("http:invoke", self)

    async def invoke(self, request: TaskRequest) -> Any:
        """Send the request; the result, or the HTTP Task's error."""
        call = parse_call(request.parameters)
        self._check_scheme(call.endpoint)
        connection = self.connections.find(call.connection_arn)
        if connection is None:
            raise not_found(call.connection_arn)
        async with aiohttp.ClientSession(
            cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        ) as session:
            bearer = None
            if isinstance(connection.auth, OAuthClientCredentials):
                bearer = await self._tokens.token(
                    connection, session, self._timeout, request.services
                )
            outgoing = build_request(call, connection, request.region, bearer)
            status, reason, headers, body = await self._send(session, outgoing, request.services)
        exchanges = EXCHANGES.get()
        if exchanges is not None:
            plain = build_request(call, connection, request.region, secrets=False)
            exchange = HttpExchange(outgoing, plain, status, reason or _phrase(status),
                                    tuple(headers), body)  # fmt: skip
            exchanges.append(exchange)
        if bearer is not None and status in (401, 407):
            self._tokens.invalidate(connection)
        result = task_result(status, reason, headers, body)
        if not 200 <= status < 300:
            raise status_error(result)
        return result

    def _check_scheme(self, url: yarl.URL) -> None:
        if url.scheme == "https" or self._allow_http or _is_loopback(url.host):
            return
        raise _runtime(
            f"The field 'ApiEndpoint' must be an HTTPS URL, got '{url}' (plain HTTP is "
            "accepted locally for loopback hosts only)"
        )

    async def _send(
        self, session: aiohttp.ClientSession, outgoing: HttpRequest, services: TaskServices
    ) -> _Response:
        """The response, within the socket timeout on the Host's clock (aiohttp's own
        socket timeouts stay as a safety net)."""
        exchange = asyncio.ensure_future(self._exchange(session, outgoing))
        try:
            return await before(exchange, services.timer(self._timeout))
        except TimeoutError:
            raise StatesError(
                SOCKET,
                f"Timed out after {self._timeout:g} seconds waiting for the response of "
                f"{outgoing.method} {_shown(outgoing.url)}",
            ) from None
        except aiohttp.ClientError as exc:
            raise StatesError(SOCKET, _socket_cause(outgoing, exc)) from None

    async def _exchange(self, session: aiohttp.ClientSession, outgoing: HttpRequest) -> _Response:
        limits = aiohttp.ClientTimeout(
            total=None, sock_connect=self._timeout, sock_read=self._timeout
        )
        async with session.request(
            outgoing.method,
            yarl.URL(outgoing.url, encoded=True),
            headers=CIMultiDict(outgoing.headers),
            data=outgoing.body,
            allow_redirects=False,
            timeout=limits,
            ssl=self._ssl,
            skip_auto_headers=("Content-Type",),
        ) as response:
            body = await _read(response)
            headers = [
                (n.decode("utf-8", "replace"), v.decode("utf-8", "replace"))
                for n, v in response.raw_headers
            ]
            return response.status, response.reason, headers, body


def _shown(url: str) -> str:
    return str(yarl.URL(url, encoded=True).with_query(None))


def _socket_cause(outgoing: HttpRequest, exc: aiohttp.ClientError) -> str:
    target = f"{outgoing.method} {_shown(outgoing.url)}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"Unable to connect to {exc.host}:{exc.port} for {target}: {_reason(exc.os_error)}"
    return f"The connection failed during {target}: {type(exc).__name__}: {exc}"


def _reason(error: OSError) -> str:
    if isinstance(error, socket.gaierror):  # a DNS failure: its own message
        return error.strerror or str(error)
    if error.errno is not None and error.errno > 0:
        return os.strerror(error.errno)
    return str(error) or type(error).__name__


async def _read(response: aiohttp.ClientResponse) -> bytes:
    """The response body, refusing one larger than AWS reads."""
    data = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        data += chunk
        if len(data) > MAX_RESPONSE_BYTES:
            raise StatesError(
                DATA_LIMIT_EXCEEDED,
                f"The HTTP response body is larger than {MAX_RESPONSE_BYTES} bytes",
            )
    return bytes(data)
