"""Locally configured EventBridge connections (integrations.connections).

The ARN pattern is EventBridge's (API reference, Connection.ConnectionArn); the OAuth
token request is RFC 6749 §4.4 with the client's credentials in Basic authentication.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from asl.errors import StatesError
from integrations.base import SYSTEM_SERVICES
from integrations.connections import (
    ApiKey,
    Basic,
    Connection,
    Connections,
    ConnectionsError,
    OAuthClientCredentials,
    OAuthTokens,
    Parameters,
    as_connections,
    parse_connection,
)
from tests.serving import refused_port

REGION_ARN = "arn:aws:events:us-east-1:123456789012:connection/{}/81210c42-8af1-456b"


def arn(name: str) -> str:
    return REGION_ARN.format(name)


OAUTH = {
    "type": "OAUTH_CLIENT_CREDENTIALS",
    "tokenEndpoint": "https://auth.example.com/token",
    "clientId": "id",
    "clientSecret": "secret",
}


def test_api_key() -> None:
    connection = parse_connection("k", {"type": "API_KEY", "key": "x-api-key", "value": "v"})
    assert connection == Connection("k", ApiKey("x-api-key", "v"))


def test_basic_with_invocation_parameters() -> None:
    entry = {
        "type": "BASIC",
        "username": "u",
        "password": "p",
        "invocationParameters": {
            "headers": {"X-A": "a"},
            "queryParameters": {"n": 1, "b": True},
            "body": {"f": 1.5},
        },
    }
    assert parse_connection("b", entry) == Connection(
        "b",
        Basic("u", "p"),
        Parameters(
            headers=(("X-A", "a"),), query=(("n", "1"), ("b", "true")), body=(("f", "1.5"),)
        ),
    )


def test_oauth() -> None:
    entry = {
        **OAUTH,
        "httpMethod": "GET",
        "scopes": "read write",
        "oauthParameters": {"body": {"audience": "api"}},
    }
    auth = parse_connection("o", entry).auth
    assert auth == OAuthClientCredentials(
        "https://auth.example.com/token",
        "id",
        "secret",
        "GET",
        ("read", "write"),
        Parameters(body=(("audience", "api"),)),
    )


def test_an_arn_key_names_the_connection() -> None:
    connection = parse_connection(arn("crm"), {"type": "BASIC", "username": "u", "password": "p"})
    assert connection.name == "crm"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("text", "connection 'c': must be a mapping"),
        ({"type": "TOKEN"}, "connection 'c': 'type' must be API_KEY, BASIC or "
         "OAUTH_CLIENT_CREDENTIALS, got 'TOKEN'"),
        ({"type": "API_KEY", "key": "k"}, "connection 'c': 'value' must be a non-empty text"),
        ({"type": "BASIC", "username": "", "password": "p"}, "connection 'c': 'username' "
         "must be a non-empty text"),
        ({**OAUTH, "httpMethod": "DELETE"}, "connection 'c': 'httpMethod' must be one of "
         "['GET', 'POST', 'PUT']"),
        ({**OAUTH, "tokenEndpoint": "auth.example.com"}, "connection 'c': 'tokenEndpoint' "
         "must be an http(s) URL"),
        ({**OAUTH, "scopes": [1]}, "connection 'c': 'scopes' must be a text or a list of texts"),
        ({**OAUTH, "invocationParameters": {"cookies": {}}}, "connection "
         "'c'.invocationParameters: unknown keys ['cookies']; use ['headers', "
         "'queryParameters', 'body']"),
        ({**OAUTH, "invocationParameters": {"headers": ["a"]}}, "connection "
         "'c'.invocationParameters.headers: must be a mapping of names to values"),
        ({**OAUTH, "invocationParameters": {"body": {"a": {"b": 1}}}}, "connection "
         "'c'.invocationParameters.body.a: values must be texts, numbers or booleans"),
        ({**OAUTH, "oauthParameters": []}, "connection 'c'.oauthParameters: must be a mapping"),
    ],
)  # fmt: skip
def test_wrong_entries(entry: Any, message: str) -> None:
    with pytest.raises(ConnectionsError) as caught:
        parse_connection("c", entry)
    assert str(caught.value) == message


def test_a_wrong_name() -> None:
    with pytest.raises(ConnectionsError, match="a connection name is 1-64 characters"):
        parse_connection("has space", {"type": "BASIC", "username": "u", "password": "p"})


def test_find_by_name_or_arn() -> None:
    basic = {"type": "BASIC", "username": "u", "password": "p"}
    connections = Connections.from_mapping(
        {"shared": basic, arn("exact"): {**basic, "username": "x"}}
    )
    assert connections.find(arn("shared")) is not None
    other_region = "arn:aws:events:eu-west-3:210987654321:connection/shared/ffff"
    assert connections.find(other_region) == connections.find(arn("shared"))
    exact = connections.find(arn("exact"))
    assert exact is not None and exact.auth == Basic("x", "p")
    assert connections.find(arn("exact").replace("8af1", "0000")) is None
    assert connections.find("shared") is None
    assert connections.find(arn("missing")) is None


def test_configured_twice() -> None:
    connections = Connections()
    connections.add("a", Connection("a", ApiKey("k", "v")))
    with pytest.raises(ConnectionsError, match="connection 'a' is configured twice"):
        connections.add("a", Connection("a", ApiKey("k", "v")))


def test_load_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "connections.yaml"
    yaml_file.write_text("svc:\n  type: API_KEY\n  key: x-key\n  value: v\n", encoding="utf-8")
    json_file = tmp_path / "connections.json"
    json_file.write_text(json.dumps({"svc": {"type": "BASIC", "username": "u", "password": "p"}}))
    for file, auth in ((yaml_file, ApiKey("x-key", "v")), (json_file, Basic("u", "p"))):
        found = as_connections(str(file)).find(arn("svc"))
        assert found is not None and found.auth == auth


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("svc: {type: NOPE}\n", encoding="utf-8")
    with pytest.raises(ConnectionsError, match=r"bad\.yaml: connection 'svc': 'type' must be"):
        Connections.load(file)
    with pytest.raises(ConnectionsError, match=r"missing\.yaml"):
        Connections.load(tmp_path / "missing.yaml")
    file.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ConnectionsError, match="must be a mapping"):
        Connections.load(file)


def test_an_empty_file_has_no_connections(tmp_path: Path) -> None:
    file = tmp_path / "empty.yaml"
    file.write_text("", encoding="utf-8")
    assert Connections.load(file).find(arn("any")) is None


def test_as_connections_passes_connections_through() -> None:
    connections = Connections()
    assert as_connections(connections) is connections
    assert as_connections(None).find(arn("x")) is None


# ---------------------------------------------------------------------------------------
# OAuthTokens against a token endpoint on 127.0.0.1


class TokenEndpoint:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[web.StreamResponse] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            {
                "method": request.method,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": await request.text(),
            }
        )
        return self.answers.pop(0)


async def serve(endpoint: TokenEndpoint) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/token", endpoint.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/token"


def oauth_connection(url: str, **settings: Any) -> Connection:
    return parse_connection("oauth", {**OAUTH, "tokenEndpoint": url, **settings})


async def fetch(tokens: OAuthTokens, connection: Connection) -> str:
    async with aiohttp.ClientSession() as session:
        return await tokens.token(connection, session, 5, SYSTEM_SERVICES)


async def test_get_token_request_and_no_expiry() -> None:
    endpoint = TokenEndpoint()
    runner, url = await serve(endpoint)
    try:
        endpoint.answers.append(web.json_response({"access_token": "t1"}))
        connection = oauth_connection(
            url, httpMethod="GET", scopes=["a"], oauthParameters={"queryParameters": {"x": "1"}}
        )
        tokens = OAuthTokens()
        assert await fetch(tokens, connection) == "t1"
        assert await fetch(tokens, connection) == "t1"
        seen = endpoint.requests[0]
        assert seen["method"] == "GET"
        assert seen["query"] == {"x": "1", "grant_type": "client_credentials", "scope": "a"}
        assert seen["headers"]["Authorization"] == "Basic aWQ6c2VjcmV0"
        assert len(endpoint.requests) == 1
        tokens.invalidate(connection)
        endpoint.answers.append(web.json_response({"access_token": "t2", "expires_in": "60"}))
        assert await fetch(tokens, connection) == "t2"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("answer", "cause_end"),
    [
        (lambda: web.json_response({"token": "x"}), 'answered no access_token: {"token": "x"}'),
        (lambda: web.Response(text="nope", status=500), "answered 500: nope"),
        (lambda: web.Response(text="<html>"), "answered no access_token: <html>"),
    ],
)
async def test_token_endpoint_failures(answer: Any, cause_end: str) -> None:
    endpoint = TokenEndpoint()
    runner, url = await serve(endpoint)
    try:
        endpoint.answers.append(answer())
        with pytest.raises(StatesError) as caught:
            await fetch(OAuthTokens(), oauth_connection(url))
        assert caught.value.error == "Events.ConnectionResource.InvalidConnectionState"
        prefix = f"The OAuth token endpoint '{url}' of connection 'oauth' "
        assert caught.value.cause == prefix + cause_end
    finally:
        await runner.cleanup()


async def test_unreachable_token_endpoint() -> None:
    with refused_port() as port, pytest.raises(StatesError) as caught:
        await fetch(OAuthTokens(), oauth_connection(f"http://127.0.0.1:{port}/token"))
    assert caught.value.error == "Events.ConnectionResource.InvalidConnectionState"
    assert (caught.value.cause or "").startswith(
        f"The OAuth token endpoint 'http://127.0.0.1:{port}/token' of connection 'oauth' "
        "could not be reached: "
    )
