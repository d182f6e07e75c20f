"""HTTP Tasks end to end: real executions against a real aiohttp server on 127.0.0.1.

The server echoes what it receives (method, path, raw query, headers, body), serves text,
JSON, media and error responses, a flaky endpoint, a slow one, and an OAuth token
endpoint. Executions run through ``runtime.testing.start`` on an engine whose registry
serves ``http:invoke`` with :class:`integrations.http.HttpInvoke`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

import asl
from asl.diagnostics import DefinitionError
from asl.errors import StatesError
from integrations.base import Registry, TaskRequest, parse_resource
from integrations.http import METHODS, HttpInvoke
from runtime.executions import Engine, Execution
from runtime.host import LocalHost
from runtime.testing import start
from tests.services import FakeServices
from tests.serving import refused_port

RESOURCE = "arn:aws:states:::http:invoke"


def arn(name: str) -> str:
    return f"arn:aws:events:us-east-1:123456789012:connection/{name}/7f3e2d1c-aaaa-bbbb"


CONNECTIONS: dict[str, Any] = {
    "key": {"type": "API_KEY", "key": "x-api-key", "value": "sk-123"},
    "basic": {"type": "BASIC", "username": "alice", "password": "s3cret"},
    "extras": {
        "type": "API_KEY",
        "key": "x-api-key",
        "value": "sk-456",
        "invocationParameters": {
            "headers": {"X-Tenant": "acme"},
            "queryParameters": {"region": "eu", "page": "9"},
            "body": {"source": "connection", "kind": "from-connection"},
        },
    },
}


class Server:
    """The test server and what it saw."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.token_requests: list[dict[str, Any]] = []
        self.calls: dict[str, int] = {}
        self.release = asyncio.Event()
        self.base = ""
        self.valid_tokens: set[str] = set()

    async def _seen(self, request: web.Request) -> dict[str, Any]:
        seen = {
            "method": request.method,
            "path": request.path,
            "query": request.rel_url.raw_query_string,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "header_lists": {k.lower(): request.headers.getall(k) for k in request.headers},
            "body": await request.text(),
        }
        self.requests.append(seen)
        return seen

    async def echo(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(await self._seen(request))

    async def text(self, request: web.Request) -> web.StreamResponse:
        await self._seen(request)
        return web.Response(text="plain words", content_type="text/plain")

    async def vendor_json(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text='{"a": [1, 2]}', content_type="application/vnd.api+json")

    async def headers(self, request: web.Request) -> web.StreamResponse:
        response = web.Response(text="ok", content_type="text/plain")
        response.headers.add("X-Multi", "one")
        response.headers.add("X-Multi", "two")
        return response

    async def status(self, request: web.Request) -> web.StreamResponse:
        code = int(request.match_info["code"])
        await self._seen(request)
        return web.json_response({"message": f"status {code}"}, status=code)

    async def flaky(self, request: web.Request) -> web.StreamResponse:
        key = request.path
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] <= int(request.match_info["failures"]):
            return web.Response(text="busy", status=503, content_type="text/plain")
        return web.json_response({"attempt": self.calls[key]})

    async def slow(self, request: web.Request) -> web.StreamResponse:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.release.wait(), 5)
        return web.json_response({"late": True})

    async def image(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"\x89PNG\r\n\x1a\n", content_type="image/png")

    async def redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/echo")

    async def token(self, request: web.Request) -> web.StreamResponse:
        form = dict(await request.post())
        self.token_requests.append(
            {"method": request.method, "headers": dict(request.headers), "form": form}
        )
        expected = "Basic " + base64.b64encode(b"client-1:secret-1").decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"token-{len(self.token_requests)}"
        self.valid_tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 3600})

    async def protected(self, request: web.Request) -> web.StreamResponse:
        seen = await self._seen(request)
        auth = seen["headers"].get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.valid_tokens:
            return web.json_response({"error": "bad token"}, status=401)
        return web.json_response({"authorization": auth})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/echo", self.echo)
        app.router.add_route("*", "/echo/{tail:.*}", self.echo)
        app.router.add_get("/text", self.text)
        app.router.add_get("/vendor-json", self.vendor_json)
        app.router.add_get("/headers", self.headers)
        app.router.add_route("*", "/status/{code}", self.status)
        app.router.add_get("/flaky/{failures}", self.flaky)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/image", self.image)
        app.router.add_get("/redirect", self.redirect)
        app.router.add_post("/oauth/token", self.token)
        app.router.add_get("/protected", self.protected)
        return app


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    runner = web.AppRunner(state.app(), shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.base = f"http://{host}:{port}"
    yield state
    state.release.set()
    await runner.cleanup()


def engine(connections: Any = None, **options: Any) -> Engine:
    registry = Registry()
    configured = CONNECTIONS if connections is None else connections
    HttpInvoke(configured, **options).install(registry)
    return Engine(LocalHost(invoker=registry))


def http_task(endpoint: str, method: str = "GET", connection: str = "key", **fields: Any) -> dict:
    parameters = {
        "ApiEndpoint": endpoint,
        "Method": method,
        "Authentication": {"ConnectionArn": arn(connection)},
        **fields,
    }
    return {"Type": "Task", "Resource": RESOURCE, "Parameters": parameters, "End": True}


def machine(task: dict[str, Any], **more_states: Any) -> dict[str, Any]:
    return {"StartAt": "Call", "States": {"Call": task, **more_states}}


async def execute(definition: dict[str, Any], eng: Engine | None = None) -> Execution:
    execution = await start(definition, {}, engine=eng if eng is not None else engine())
    return await execution.wait()


async def call(server: Server, path: str, **fields: Any) -> Execution:
    return await execute(machine(http_task(server.base + path, **fields)))


# ---------------------------------------------------------------------------------------
# Requests


@pytest.mark.parametrize("method", [m for m in METHODS if m != "HEAD"])
async def test_every_method_reaches_the_server(server: Server, method: str) -> None:
    execution = await call(server, "/echo/items/42", method=method)
    assert execution.status == "SUCCEEDED", execution.cause
    body = execution.output["ResponseBody"]
    assert (body["method"], body["path"]) == (method, "/echo/items/42")
    assert execution.output["StatusCode"] == 200
    assert execution.output["StatusText"] == "OK"


async def test_head_has_an_empty_body(server: Server) -> None:
    execution = await call(server, "/echo", method="HEAD")
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["ResponseBody"] == ""
    assert execution.output["StatusCode"] == 200
    assert server.requests[-1]["method"] == "HEAD"


async def test_headers_user_agent_range_and_json_body(server: Server) -> None:
    headers = {"X-Trace": "abc", "X-Count": 3, "X-Many": ["a", "b"], "User-Agent": "mine"}
    execution = await call(
        server, "/echo", method="POST", Headers=headers, RequestBody={"n": 1, "s": "é"}
    )
    assert execution.status == "SUCCEEDED", execution.cause
    seen = server.requests[-1]
    assert seen["headers"]["x-trace"] == "abc"
    assert seen["headers"]["x-count"] == "3"
    assert seen["header_lists"]["x-many"] == ["a", "b"]
    assert seen["headers"]["user-agent"] == "Amazon|StepFunctions|HttpInvoke|us-east-1"
    assert seen["headers"]["range"] == "bytes=0-262144"
    assert seen["headers"]["content-type"] == "application/json; charset=UTF-8"
    assert seen["headers"]["x-api-key"] == "sk-123"
    assert seen["body"] == '{"n":1,"s":"é"}'


async def test_text_body_is_sent_as_is_with_its_content_type(server: Server) -> None:
    execution = await call(
        server,
        "/echo",
        method="PUT",
        Headers={"Content-Type": "text/csv"},
        RequestBody="a,b\n1,2",
    )
    assert execution.status == "SUCCEEDED", execution.cause
    seen = server.requests[-1]
    assert (seen["body"], seen["headers"]["content-type"]) == ("a,b\n1,2", "text/csv")


async def test_query_parameters_join_the_endpoint_query(server: Server) -> None:
    query = {"q": "a b&c", "ids": [1, 2], "filter": {"state": "open"}}
    execution = await call(server, "/echo?fixed=1", QueryParameters=query)
    assert execution.status == "SUCCEEDED", execution.cause
    assert server.requests[-1]["query"] == (
        "fixed=1&q=a%20b%26c&ids[0]=1&ids[1]=2&filter[state]=open"
    )


FORM = {"array": ["a", "b", "c"], "name": "Jo Doe", "nested": {"x": [1, {"y": True}]}}


@pytest.mark.parametrize(
    ("array_format", "expected"),
    [
        ("INDICES", "array[0]=a&array[1]=b&array[2]=c&name=Jo%20Doe"
         "&nested[x][0]=1&nested[x][1][y]=true"),
        ("REPEAT", "array=a&array=b&array=c&name=Jo%20Doe&nested[x]=1&nested[x][y]=true"),
        ("COMMAS", "array=a,b,c&name=Jo%20Doe&nested[x][0]=1&nested[x][1][y]=true"),
        ("BRACKETS", "array[]=a&array[]=b&array[]=c&name=Jo%20Doe"
         "&nested[x][]=1&nested[x][][y]=true"),
    ],
)  # fmt: skip
async def test_url_encoded_body_in_each_array_format(
    server: Server, array_format: str, expected: str
) -> None:
    transform = {
        "RequestBodyEncoding": "URL_ENCODED",
        "RequestEncodingOptions": {"ArrayFormat": array_format},
    }
    execution = await call(server, "/echo", method="POST", RequestBody=FORM, Transform=transform)
    assert execution.status == "SUCCEEDED", execution.cause
    seen = server.requests[-1]
    assert seen["body"] == expected
    assert seen["headers"]["content-type"] == "application/x-www-form-urlencoded"


async def test_url_encoded_defaults_to_indices(server: Server) -> None:
    transform = {"RequestBodyEncoding": "URL_ENCODED"}
    body = {"array": ["a", "b"]}
    execution = await call(server, "/echo", method="POST", RequestBody=body, Transform=transform)
    assert execution.status == "SUCCEEDED", execution.cause
    assert server.requests[-1]["body"] == "array[0]=a&array[1]=b"


async def test_jsonata_arguments(server: Server) -> None:
    task = {
        "Type": "Task",
        "QueryLanguage": "JSONata",
        "Resource": RESOURCE,
        "Arguments": {
            "ApiEndpoint": "{% '" + server.base + "/echo/' & $states.input.id %}",
            "Method": "POST",
            "Authentication": {"ConnectionArn": arn("key")},
            "RequestBody": {"id": "{% $states.input.id %}"},
        },
        "Output": "{% $states.result.ResponseBody %}",
        "End": True,
    }
    execution = await start(machine(task), {"id": "z9"}, engine=engine())
    await execution.wait()
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["path"] == "/echo/z9"
    assert execution.output["body"] == '{"id":"z9"}'


async def test_history_names_the_http_resource(server: Server) -> None:
    execution = await call(server, "/echo")
    types = [e.type for e in execution.history]
    assert types[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    scheduled = execution.history_json()["events"][2]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("http", "invoke")


# ---------------------------------------------------------------------------------------
# Connections


async def test_basic_authentication(server: Server) -> None:
    execution = await call(server, "/echo", connection="basic")
    assert execution.status == "SUCCEEDED", execution.cause
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert server.requests[-1]["headers"]["authorization"] == expected


async def test_connection_parameters_merge_and_win(server: Server) -> None:
    execution = await call(
        server,
        "/echo",
        method="POST",
        connection="extras",
        Headers={"x-tenant": "mine", "X-Own": "kept"},
        QueryParameters={"page": "1", "size": "10"},
        RequestBody={"kind": "from-task", "id": 7},
    )
    assert execution.status == "SUCCEEDED", execution.cause
    seen = server.requests[-1]
    assert seen["headers"]["x-tenant"] == "acme"
    assert seen["headers"]["x-own"] == "kept"
    assert seen["headers"]["x-api-key"] == "sk-456"
    assert seen["query"] == "page=9&size=10&region=eu"
    assert json.loads(seen["body"]) == {"kind": "from-connection", "id": 7, "source": "connection"}


def oauth_connections(base: str) -> dict[str, Any]:
    return {
        "oauth": {
            "type": "OAUTH_CLIENT_CREDENTIALS",
            "tokenEndpoint": f"{base}/oauth/token",
            "clientId": "client-1",
            "clientSecret": "secret-1",
            "httpMethod": "POST",
            "scopes": ["read", "write"],
            "oauthParameters": {"body": {"audience": "api"}},
        }
    }


async def test_oauth_token_is_fetched_once_and_sent_as_bearer(server: Server) -> None:
    eng = engine(oauth_connections(server.base))
    definition = machine(http_task(server.base + "/protected", connection="oauth"))
    first = await execute(definition, eng)
    second = await execute(definition, eng)
    assert first.status == second.status == "SUCCEEDED", (first.cause, second.cause)
    assert second.output["ResponseBody"] == {"authorization": "Bearer token-1"}
    assert len(server.token_requests) == 1
    token_request = server.token_requests[0]
    assert token_request["form"] == {
        "grant_type": "client_credentials",
        "scope": "read write",
        "audience": "api",
    }
    assert token_request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


async def test_oauth_token_expires_on_the_hosts_clock(server: Server) -> None:
    services = FakeServices(1000.0)
    invoke = HttpInvoke(oauth_connections(server.base))
    task = http_task(server.base + "/protected", connection="oauth")
    request = TaskRequest(parse_resource(RESOURCE), task["Parameters"], "Call", "e", "m",
                          "us-east-1", "123456789012", services=services)  # fmt: skip
    await invoke.invoke(request)
    services.advance(3599)
    await invoke.invoke(request)
    assert len(server.token_requests) == 1
    services.advance(1)
    result = await invoke.invoke(request)
    assert result["ResponseBody"] == {"authorization": "Bearer token-2"}
    assert len(server.token_requests) == 2


async def test_oauth_token_refused_by_the_api_is_dropped(server: Server) -> None:
    eng = engine(oauth_connections(server.base))
    definition = machine(http_task(server.base + "/protected", connection="oauth"))
    await execute(definition, eng)
    server.valid_tokens.clear()
    refused = await execute(definition, eng)
    assert refused.error == "States.Http.StatusCode.401"
    again = await execute(definition, eng)
    assert again.status == "SUCCEEDED", again.cause
    assert again.output["ResponseBody"] == {"authorization": "Bearer token-2"}


async def test_oauth_token_endpoint_refusing_fails_the_task(server: Server) -> None:
    connections = oauth_connections(server.base)
    connections["oauth"]["clientSecret"] = "wrong"
    definition = machine(http_task(server.base + "/protected", connection="oauth"))
    execution = await execute(definition, engine(connections))
    assert execution.error == "Events.ConnectionResource.InvalidConnectionState"
    assert execution.cause == (
        f"The OAuth token endpoint '{server.base}/oauth/token' of connection 'oauth' "
        'answered 401: {"error": "invalid_client"}'
    )
    assert server.requests == []


async def test_unknown_connection(server: Server) -> None:
    execution = await call(server, "/echo", connection="nobody")
    assert execution.error == "Events.ConnectionResource.ResourceNotFound"
    assert execution.cause == (
        f"Connection '{arn('nobody')}' does not exist. Configure it in the local connections "
        "(by its name or its ARN)."
    )
    assert server.requests == []


# ---------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    ("headers", "listed"),
    [
        ({"Authorization": "Bearer x"}, "authorization"),
        ({"Host": "example.com"}, "host"),
        ({"X-Amz-Date": "now", "x-amzn-trace-id": "1"}, "x-amz-date, x-amzn-trace-id"),
        ({"X-Forwarded-For": "1.2.3.4"}, "x-forwarded-for"),
        ({"Transfer-Encoding": "chunked", "Connection": "close"}, "transfer-encoding, connection"),
    ],
)
async def test_forbidden_headers(server: Server, headers: dict[str, str], listed: str) -> None:
    # Static headers are refused when the definition is created (see the next test); headers
    # known only at run time are refused by the Task.
    definition = machine(http_task(server.base + "/echo", **{"Headers.$": "$.headers"}))
    execution = await (await start(definition, {"headers": headers}, engine=engine())).wait()
    assert execution.status == "FAILED"
    assert execution.error == "States.Runtime"
    assert execution.cause == f"The 'Headers' field contains unsupported values: [{listed}]"
    assert server.requests == []


def test_static_forbidden_headers_are_refused_with_the_definition() -> None:
    definition = machine(http_task("https://api.example.com", Headers={"Host": "x"}))
    with pytest.raises(DefinitionError) as info:
        asl.load(definition)
    (diagnostic,) = [d for d in info.value.diagnostics if d.severity == "ERROR"]
    assert diagnostic.message == "The 'Headers' field contains unsupported values: [host]"
    assert diagnostic.location == "/States/Call/Parameters"


async def test_plain_http_is_for_loopback_only() -> None:
    definition = machine(http_task("http://example.com/api"))
    execution = await execute(definition)
    assert execution.error == "States.Runtime"
    assert execution.cause == (
        "The field 'ApiEndpoint' must be an HTTPS URL, got 'http://example.com/api' "
        "(plain HTTP is accepted locally for loopback hosts only)"
    )


# ---------------------------------------------------------------------------------------
# Responses


async def test_json_response_is_parsed(server: Server) -> None:
    execution = await call(server, "/vendor-json")
    assert execution.output["ResponseBody"] == {"a": [1, 2]}


async def test_text_response_stays_text(server: Server) -> None:
    execution = await call(server, "/text")
    assert execution.status == "SUCCEEDED", execution.cause
    output = execution.output
    assert output["ResponseBody"] == "plain words"
    assert output["Headers"]["Content-Type"] == ["text/plain; charset=utf-8"]
    assert sorted(output) == ["Headers", "ResponseBody", "StatusCode", "StatusText"]


async def test_repeated_response_headers_gather(server: Server) -> None:
    execution = await call(server, "/headers")
    assert execution.output["Headers"]["X-Multi"] == ["one", "two"]


async def test_media_response_is_refused(server: Server) -> None:
    execution = await call(server, "/image")
    assert execution.error == "States.Runtime"
    assert execution.cause == "The HTTP response has an unsupported content type: 'image/png'"


@pytest.mark.parametrize("code", [404, 500])
async def test_error_status(server: Server, code: int) -> None:
    execution = await call(server, f"/status/{code}")
    assert execution.status == "FAILED"
    assert execution.error == f"States.Http.StatusCode.{code}"
    cause = json.loads(execution.cause or "")
    assert cause["StatusCode"] == code
    assert cause["ResponseBody"] == {"message": f"status {code}"}
    assert cause["StatusText"] == ("Not Found" if code == 404 else "Internal Server Error")
    assert cause["Headers"]["Content-Type"] == ["application/json; charset=utf-8"]


async def test_redirect_is_not_followed(server: Server) -> None:
    execution = await call(server, "/redirect")
    assert execution.error == "States.Http.StatusCode.302"
    assert json.loads(execution.cause or "")["Headers"]["Location"] == ["/echo"]


async def test_retry_on_503_then_success(server: Server) -> None:
    task = http_task(server.base + "/flaky/2")
    task["Retry"] = [
        {"ErrorEquals": ["States.Http.StatusCode.503"], "IntervalSeconds": 5, "MaxAttempts": 3}
    ]
    execution = await execute(machine(task))
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["ResponseBody"] == {"attempt": 3}
    types = [e.type for e in execution.history]
    assert types.count("TaskFailed") == 2


async def test_catch_on_404(server: Server) -> None:
    task = http_task(server.base + "/status/404")
    task["Catch"] = [
        {"ErrorEquals": ["States.Http.StatusCode.404"], "Next": "Missing", "ResultPath": "$.err"}
    ]
    execution = await execute(machine(task, Missing={"Type": "Pass", "End": True}))
    assert execution.status == "SUCCEEDED"
    assert execution.path == ["Call", "Missing"]
    error = execution.output["err"]
    assert error["Error"] == "States.Http.StatusCode.404"
    assert json.loads(error["Cause"])["StatusText"] == "Not Found"


async def test_refused_connection_is_a_socket_error() -> None:
    with refused_port() as port:
        execution = await execute(machine(http_task(f"http://127.0.0.1:{port}/gone")))
    assert execution.error == "States.Http.Socket"
    assert execution.cause == (
        f"Unable to connect to 127.0.0.1:{port} for GET http://127.0.0.1:{port}/gone: "
        "Connection refused"
    )


async def test_socket_timeout_runs_on_the_hosts_clock(server: Server) -> None:
    services = FakeServices()
    task = http_task(server.base + "/slow")
    request = TaskRequest(parse_resource(RESOURCE), task["Parameters"], "Call", "e", "m",
                          "us-east-1", "123456789012", services=services)  # fmt: skip
    call = asyncio.ensure_future(HttpInvoke(CONNECTIONS, socket_timeout=60).invoke(request))
    await services.wait_for_timer()
    assert services.timers == [60]
    services.advance(60)  # no real minute passes
    with pytest.raises(StatesError) as caught:
        await asyncio.wait_for(call, 5)
    assert caught.value.error == "States.Http.Socket"
    assert caught.value.cause == (
        f"Timed out after 60 seconds waiting for the response of GET {server.base}/slow"
    )


async def test_a_cancelled_http_task_returns_at_once(server: Server) -> None:
    services = FakeServices()
    task = http_task(server.base + "/slow")
    request = TaskRequest(parse_resource(RESOURCE), task["Parameters"], "Call", "e", "m",
                          "us-east-1", "123456789012", services=services)  # fmt: skip
    call = asyncio.ensure_future(HttpInvoke(CONNECTIONS).invoke(request))
    await services.wait_for_timer()
    call.cancel()
    done, _ = await asyncio.wait({call}, timeout=5)
    assert done and call.cancelled()
    assert services.pending == 0


async def test_socket_timeout(server: Server) -> None:
    definition = machine(http_task(server.base + "/slow?x=1"))
    execution = await execute(definition, engine(socket_timeout=0.2))
    assert execution.error == "States.Http.Socket"
    assert execution.cause == (
        f"Timed out after 0.2 seconds waiting for the response of GET {server.base}/slow"
    )
