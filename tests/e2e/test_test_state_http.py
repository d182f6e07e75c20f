"""TestState of an HTTP Task at TRACE: the request as sent (its connection's secrets only
with ``reveal_secrets``) and the response, from a real server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from runtime.testing import test_state as run_test_state

CONNECTION = "arn:aws:events:us-east-1:123456789012:connection/extras/7f3e2d1c"
CONNECTIONS = {
    "extras": {
        "type": "API_KEY",
        "key": "x-api-key",
        "value": "sk-456",
        "invocationParameters": {"headers": {"X-Tenant": "acme"}},
    }
}


@pytest.fixture
async def base() -> AsyncIterator[str]:
    async def answer(request: web.Request) -> web.Response:
        seen = {"key": request.headers.get("x-api-key"), "body": await request.json()}
        return web.json_response(seen, headers={"X-Seen": "yes"})

    app = web.Application()
    app.router.add_post("/orders", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


def _task(base: str) -> dict[str, object]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {
            "ApiEndpoint": f"{base}/orders",
            "Method": "POST",
            "Authentication": {"ConnectionArn": CONNECTION},
            "RequestBody": {"id": 7},
        },
        "ResultSelector": {"body.$": "$.ResponseBody"},
        "End": True,
    }


@pytest.mark.parametrize("reveal", [False, True])
async def test_trace_shows_the_request_and_response(base: str, reveal: bool) -> None:
    response = await run_test_state(
        _task(base),
        {},
        inspection_level="TRACE",
        reveal_secrets=reveal,
        connections=CONNECTIONS,
    )
    assert response["status"] == "SUCCEEDED"
    assert response["output"] == {"body": {"key": "sk-456", "body": {"id": 7}}}
    request = response["inspectionData"]["request"]
    assert (request["protocol"], request["method"], request["url"]) == (
        "http",
        "POST",
        f"{base}/orders",
    )
    assert json.loads(request["body"]) == {"id": 7}
    sent = json.loads(request["headers"])
    assert ("x-api-key" in sent, "X-Tenant" in sent) == (reveal, reveal)
    assert sent["Content-Type"] == ["application/json; charset=UTF-8"]
    answered = response["inspectionData"]["response"]
    assert (answered["statusCode"], answered["statusMessage"]) == ("200", "OK")
    assert json.loads(answered["headers"])["X-Seen"] == ["yes"]
    assert json.loads(answered["body"]) == {"key": "sk-456", "body": {"id": 7}}


async def test_debug_shows_no_http_exchange(base: str) -> None:
    response = await run_test_state(
        _task(base), {}, inspection_level="DEBUG", connections=CONNECTIONS
    )
    assert "request" not in response["inspectionData"]
    assert "response" not in response["inspectionData"]
