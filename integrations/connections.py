"""EventBridge connections, configured locally, that authorize HTTP Tasks.

On AWS an HTTP Task names an EventBridge connection (``Authentication.ConnectionArn``)
whose secret holds the credentials. Here the connections come from a local mapping or
a JSON/YAML file, keyed by connection name or full ARN::

    stripe:                                   # matches .../connection/stripe/<any id>
      type: API_KEY
      key: x-api-key                          # the header that carries the key
      value: sk_test_123
    "arn:aws:events:us-east-1:123456789012:connection/crm/6f1c":
      type: BASIC
      username: alice
      password: s3cret
    billing:
      type: OAUTH_CLIENT_CREDENTIALS
      tokenEndpoint: https://auth.example.com/oauth/token
      clientId: my-client
      clientSecret: my-secret
      httpMethod: POST                        # GET | POST | PUT (default POST)
      scopes: [read, write]                   # optional, sent as "scope"
      oauthParameters:                        # optional, added to the token request
        headers: {}; queryParameters: {}; body: {audience: api}
      invocationParameters:                   # optional, on every type: added to each call
        headers: {x-tenant: acme}; queryParameters: {}; body: {}

The token request (OAuth client credentials, RFC 6749 §4.4): the client id and secret as
HTTP Basic authentication, ``grant_type=client_credentials`` and ``scope`` form-encoded
(in the query string for GET), plus ``oauthParameters``. The token is cached until its
``expires_in`` runs out (forever without one) and dropped when the API answers 401 or
407, as EventBridge documents ("OAUTH tokens are refreshed when a 401 or 407 response is
returned"). A token request that fails is ``Events.ConnectionResource.InvalidConnectionState``
and a connection not configured is ``Events.ConnectionResource.ResourceNotFound``: the
family is AWS's, the exact names and causes are not recorded (? UNVERIFIED).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from asl.errors import StatesError
from asl.http_task import CONNECTION_ARN
from asl.jsontext import parse_json
from integrations.base import TaskServices, Timer, before
from integrations.settings_file import SettingsFileError, read_settings

__all__ = [
    "ApiKey",
    "Basic",
    "Connection",
    "ConnectionSource",
    "Connections",
    "ConnectionsError",
    "OAuthClientCredentials",
    "OAuthTokens",
    "Parameters",
    "as_connections",
    "parse_connection",
]

INVALID_CONNECTION_STATE = "Events.ConnectionResource.InvalidConnectionState"
RESOURCE_NOT_FOUND = "Events.ConnectionResource.ResourceNotFound"

_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_OAUTH_METHODS = ("GET", "POST", "PUT")
_PARAMETER_KINDS = ("headers", "queryParameters", "body")

Pairs = tuple[tuple[str, str], ...]


class ConnectionsError(ValueError):
    """A connections configuration that cannot be used."""


@dataclass(frozen=True, slots=True)
class Parameters:
    """Extra headers, query string parameters and body parameters (EventBridge's
    ``ConnectionHttpParameters``)."""

    headers: Pairs = ()
    query: Pairs = ()
    body: Pairs = ()


@dataclass(frozen=True, slots=True)
class ApiKey:
    """``API_KEY``: the key is sent in the header ``name``."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Basic:
    """``BASIC``: HTTP Basic authentication."""

    username: str
    password: str


@dataclass(frozen=True, slots=True)
class OAuthClientCredentials:
    """``OAUTH_CLIENT_CREDENTIALS``: a bearer token from a token endpoint."""

    token_endpoint: str
    client_id: str
    client_secret: str
    http_method: str = "POST"
    scopes: tuple[str, ...] = ()
    parameters: Parameters = field(default_factory=Parameters)


Auth = ApiKey | Basic | OAuthClientCredentials


@dataclass(frozen=True, slots=True)
class Connection:
    """A connection: its name, how it authorizes, and what it adds to every call."""

    name: str
    auth: Auth
    invocation: Parameters = field(default_factory=Parameters)


# ---------------------------------------------------------------------------------------
# Reading the configuration.


def _text(where: str, entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or value == "":
        raise ConnectionsError(f"{where}: '{key}' must be a non-empty text")
    return value


def _scalar_text(where: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    raise ConnectionsError(f"{where}: values must be texts, numbers or booleans")


def _pairs(where: str, value: Any) -> Pairs:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise ConnectionsError(f"{where}: must be a mapping of names to values")
    return tuple((str(k), _scalar_text(f"{where}.{k}", v)) for k, v in value.items())


def _parameters(where: str, value: Any) -> Parameters:
    if value is None:
        return Parameters()
    if not isinstance(value, Mapping):
        raise ConnectionsError(f"{where}: must be a mapping")
    unknown = sorted(set(value) - set(_PARAMETER_KINDS))
    if unknown:
        raise ConnectionsError(f"{where}: unknown keys {unknown}; use {list(_PARAMETER_KINDS)}")
    return Parameters(
        _pairs(f"{where}.headers", value.get("headers")),
        _pairs(f"{where}.queryParameters", value.get("queryParameters")),
        _pairs(f"{where}.body", value.get("body")),
    )


def _scopes(where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return tuple(value)
    raise ConnectionsError(f"{where}: 'scopes' must be a text or a list of texts")


def _oauth(where: str, entry: Mapping[str, Any]) -> OAuthClientCredentials:
    method = entry.get("httpMethod", "POST")
    if method not in _OAUTH_METHODS:
        raise ConnectionsError(f"{where}: 'httpMethod' must be one of {list(_OAUTH_METHODS)}")
    endpoint = _text(where, entry, "tokenEndpoint")
    if not endpoint.startswith(("https://", "http://")):
        raise ConnectionsError(f"{where}: 'tokenEndpoint' must be an http(s) URL")
    return OAuthClientCredentials(
        token_endpoint=endpoint,
        client_id=_text(where, entry, "clientId"),
        client_secret=_text(where, entry, "clientSecret"),
        http_method=method,
        scopes=_scopes(where, entry.get("scopes")),
        parameters=_parameters(f"{where}.oauthParameters", entry.get("oauthParameters")),
    )


def _auth(where: str, entry: Mapping[str, Any]) -> Auth:
    kind = entry.get("type")
    if kind == "API_KEY":
        return ApiKey(_text(where, entry, "key"), _text(where, entry, "value"))
    if kind == "BASIC":
        return Basic(_text(where, entry, "username"), _text(where, entry, "password"))
    if kind == "OAUTH_CLIENT_CREDENTIALS":
        return _oauth(where, entry)
    raise ConnectionsError(
        f"{where}: 'type' must be API_KEY, BASIC or OAUTH_CLIENT_CREDENTIALS, got {kind!r}"
    )


def parse_connection(key: str, entry: Any) -> Connection:
    """One configured connection; ``key`` is its name or its ARN."""
    where = f"connection '{key}'"
    if not isinstance(entry, Mapping):
        raise ConnectionsError(f"{where}: must be a mapping")
    match = CONNECTION_ARN.match(key)
    name = match["name"] if match else key
    if not _NAME.match(name):
        raise ConnectionsError(
            f"{where}: a connection name is 1-64 characters of letters, digits, '.', '-', '_'"
        )
    invocation = _parameters(f"{where}.invocationParameters", entry.get("invocationParameters"))
    return Connection(name, _auth(where, entry), invocation)


class Connections:
    """The configured connections, found by the ARN an HTTP Task names.

    A connection configured under a full ARN answers only that ARN; one configured under
    a name answers every ARN with that name (any region, account and id).
    """

    def __init__(self) -> None:
        self._by_arn: dict[str, Connection] = {}
        self._by_name: dict[str, Connection] = {}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Connections:
        """Connections from ``{name or ARN: settings}``."""
        if not isinstance(mapping, Mapping):
            raise ConnectionsError("the connections configuration must be a mapping")
        connections = cls()
        for key, entry in mapping.items():
            connections.add(str(key), parse_connection(str(key), entry))
        return connections

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Connections:
        """Connections from a JSON or YAML file."""
        try:
            data = read_settings(path)
        except SettingsFileError as exc:
            raise ConnectionsError(str(exc)) from None
        try:
            return cls.from_mapping({} if data is None else data)
        except ConnectionsError as exc:
            raise ConnectionsError(f"{Path(path)}: {exc}") from exc

    def add(self, key: str, connection: Connection) -> None:
        """Configure a connection under a name or an ARN."""
        table = self._by_arn if CONNECTION_ARN.match(key) else self._by_name
        if key in table:
            raise ConnectionsError(f"connection '{key}' is configured twice")
        table[key] = connection

    def find(self, arn: str) -> Connection | None:
        """The connection an ARN names, or None."""
        if arn in self._by_arn:
            return self._by_arn[arn]
        match = CONNECTION_ARN.match(arn)
        return self._by_name.get(match["name"]) if match else None


ConnectionSource = Connections | Mapping[str, Any] | str | os.PathLike[str]


def as_connections(source: ConnectionSource | None) -> Connections:
    """Connections from a ``Connections``, a mapping or a file path (None: none)."""
    if source is None:
        return Connections()
    if isinstance(source, Connections):
        return source
    if isinstance(source, str | os.PathLike):
        return Connections.load(source)
    return Connections.from_mapping(source)


# ---------------------------------------------------------------------------------------
# Authorizing a call.


def basic_credentials(username: str, password: str) -> str:
    """The value of an ``Authorization`` header for HTTP Basic authentication."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class OAuthTokens:
    """Bearer tokens of OAuth connections, fetched on demand and cached until they expire
    on the Host's clock. Concurrent first calls may each fetch a token; the last one
    fetched is kept.
    """

    def __init__(self) -> None:
        self._tokens: dict[Connection, tuple[str, float | None]] = {}

    async def token(
        self,
        connection: Connection,
        session: aiohttp.ClientSession,
        timeout: float,
        services: TaskServices,
    ) -> str:
        """A valid token for the connection at ``services.now()``, fetching a new one when
        needed within ``timeout`` seconds on ``services.timer``."""
        assert isinstance(connection.auth, OAuthClientCredentials)
        cached = self._tokens.get(connection)
        started = services.now()
        if cached is not None and (cached[1] is None or started < cached[1]):
            return cached[0]
        token, lifetime = await _fetch_token(connection, session, timeout, services.timer)
        self._tokens[connection] = (token, None if lifetime is None else started + lifetime)
        return token

    def invalidate(self, connection: Connection) -> None:
        """Forget the connection's token (the API refused it)."""
        self._tokens.pop(connection, None)


def _token_request(oauth: OAuthClientCredentials) -> dict[str, Any]:
    form = {"grant_type": "client_credentials"}
    if oauth.scopes:
        form["scope"] = " ".join(oauth.scopes)
    form.update(oauth.parameters.body)
    headers = {"Authorization": basic_credentials(oauth.client_id, oauth.client_secret)}
    headers["Accept"] = "application/json"
    headers.update(oauth.parameters.headers)
    query = list(oauth.parameters.query)
    request: dict[str, Any] = {"method": oauth.http_method, "url": oauth.token_endpoint}
    if oauth.http_method == "GET":
        query += list(form.items())
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        request["data"] = urlencode(form)
    request["headers"] = headers
    if query:
        request["params"] = query
    return request


async def _fetch_token(
    connection: Connection,
    session: aiohttp.ClientSession,
    timeout: float,
    timer: Timer,
) -> tuple[str, float | None]:
    oauth = connection.auth
    assert isinstance(oauth, OAuthClientCredentials)
    where = f"The OAuth token endpoint '{oauth.token_endpoint}' of connection '{connection.name}'"
    fetch = asyncio.ensure_future(_request_token(oauth, session, timeout))
    try:
        status, text = await before(fetch, timer(timeout))
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise StatesError(
            INVALID_CONNECTION_STATE, f"{where} could not be reached: {exc!r}"
        ) from None
    if not 200 <= status < 300:
        raise StatesError(INVALID_CONNECTION_STATE, f"{where} answered {status}: {text}")
    return _parse_token(where, text)


async def _request_token(
    oauth: OAuthClientCredentials, session: aiohttp.ClientSession, timeout: float
) -> tuple[int, str]:
    """The token endpoint's status and text (aiohttp's socket timeouts as a safety net)."""
    limits = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
    async with session.request(
        **_token_request(oauth), timeout=limits, allow_redirects=False
    ) as response:
        return response.status, await response.text(errors="replace")


def _parse_token(where: str, text: str) -> tuple[str, float | None]:
    try:
        body = parse_json(text)
    except ValueError:
        body = None
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or token == "":
        raise StatesError(INVALID_CONNECTION_STATE, f"{where} answered no access_token: {text}")
    lifetime = body.get("expires_in") if isinstance(body, dict) else None
    if isinstance(lifetime, str) and lifetime.isdigit():
        lifetime = int(lifetime)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float):
        return token, None
    return token, float(lifetime)


def not_found(arn: str) -> StatesError:
    """The error of an HTTP Task whose connection is not configured."""
    return StatesError(
        RESOURCE_NOT_FOUND,
        f"Connection '{arn}' does not exist. Configure it in the local connections "
        "(by its name or its ARN).",
    )
