"""The API server's pieces that the spec cases and the end-to-end tests do not reach:
a fault of ours, Step Functions Local's variables, several breaches in one request."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from runtime.api_limits import ValidationException
from runtime.service import ServiceSettings, SettingsError, build_backend, from_environment
from runtime.service.backend import Backend
from runtime.service.shapes import check_request
from runtime.service.wire import build_app


async def _broken(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("a bug of ours")


def test_a_fault_is_logged_and_answered_internal_failure_without_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> tuple[int, dict[str, Any]]:
        backend = build_backend(ServiceSettings(clock="virtual"))
        app = build_app(backend, {"ListActivities": _broken})
        async with TestClient(TestServer(app)) as client:
            reply = await client.post(
                "/", data=b"{}", headers={"X-Amz-Target": "AWSStepFunctions.ListActivities"}
            )
            return reply.status, await reply.json(content_type=None)

    with caplog.at_level(logging.ERROR, logger="runtime.service.wire"):
        status, answer = asyncio.run(main())
    assert status == 500 and answer["__type"] == "InternalFailure"
    assert "a bug of ours" not in answer["message"] and "Traceback" not in answer["message"]
    assert "a bug of ours" in caplog.text  # the traceback is in the server's log


def test_step_functions_local_variables_fill_the_settings() -> None:
    environment = {
        "SFN_MOCK_CONFIG": "/mocks.json",
        "SQS_ENDPOINT": "http://localhost:4566",
        "DYNAMODB_ENDPOINT": "http://localhost:4566",
        "LAMBDA_ENDPOINT": "http://localhost:3001",
    }
    settings, warnings = from_environment(environment, ServiceSettings())
    assert settings.mock_config == Path("/mocks.json")
    assert settings.aws_endpoint == "http://localhost:4566"
    assert warnings == [
        "LAMBDA_ENDPOINT is not used: Lambda Tasks run the local handlers of --functions"
    ]
    given = ServiceSettings(mock_config=Path("/given.json"))
    assert from_environment(environment, given)[0].mock_config == Path("/given.json")


def test_endpoints_that_differ_cannot_be_honoured() -> None:
    environment = {"SQS_ENDPOINT": "http://a:1", "SNS_ENDPOINT": "http://b:2"}
    with pytest.raises(SettingsError, match="SQS_ENDPOINT=http://a:1, SNS_ENDPOINT=http://b:2"):
        from_environment(environment, ServiceSettings())


def test_every_breach_is_named_and_a_sensitive_value_left_out() -> None:
    body = {"executionArn": "", "cause": "c" * 32_769}
    with pytest.raises(ValidationException) as raised:
        check_request("StopExecution", body)
    assert raised.value.message == (
        "2 validation errors detected: Value '' at 'executionArn' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1; Value at 'cause' failed to "
        "satisfy constraint: Member must have length less than or equal to 32768"
    )
    with pytest.raises(ValidationException, match="Value null at 'name' failed"):
        check_request("CreateActivity", {})
    with pytest.raises(ValidationException, match=r"at 'tags\.1\.member\.key' failed"):
        check_request("CreateActivity", {"name": "a", "tags": [{"key": ""}]})
