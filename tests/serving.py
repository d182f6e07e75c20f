"""Servers for tests, and their clients. Tests run in parallel (pytest-xdist workers,
other runs of the suite on the machine), so a server is started on port 0 and its test
reads the port the system gave it, never a port probed free and handed over, which
another process could take in between."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import boto3
from aiohttp import web
from botocore.config import Config

from runtime.service import OPERATIONS, ServiceSettings, build_backend
from runtime.service.backend import Backend
from runtime.service.console import add_console
from runtime.service.wire import build_app
from tests.polling import until

ROOT = Path(__file__).resolve().parents[1]
#: A machine that waits for a task token handed to the local function ``notify``.
APPROVAL = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
            "ResultPath": "$.approval",
            "End": True,
        }
    },
}
#: No host prefix (``sync-127.0.0.1`` cannot connect) and no retry: a test sees each answer.
CLIENT_CONFIG = Config(inject_host_prefix=False, retries={"mode": "standard", "max_attempts": 1})
_ANNOUNCED = re.compile(r"asl serve: Step Functions API on http://[^\s:]+:(\d+) ")


def announced_port(line: str) -> int:
    """The port in ``asl serve``'s first line, ``asl serve: Step Functions API on URL ...``
    (started with ``--port 0``: the port the system chose)."""
    found = _ANNOUNCED.match(line)
    assert found is not None, f"not asl serve's announcement: {line!r}"
    return int(found.group(1))


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections while the block runs: bound and never
    listening, so no other process can take it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def sfn_client(url: str, region: str = "us-east-1") -> Any:
    """A boto3 Step Functions client of the server at ``url``."""
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=CLIENT_CONFIG,
    )


def cli_env() -> dict[str, str]:
    """The environment of an ``asl`` subprocess: this checkout first on its path."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def one_line(stderr: str) -> str:
    """A command's error output, asserted to be one line and no traceback."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr
    return lines[0]


def ended(sfn: Any, arn: str, bound: float = 30.0) -> dict[str, Any]:
    """The execution's DescribeExecution once it is no longer RUNNING (asked until it is,
    for at most ``bound`` seconds)."""
    return until(  # type: ignore[no-any-return]
        lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
        bound,
    )


@asynccontextmanager
async def console_server(
    console_operations: Any = None, **console: Any
) -> AsyncIterator[tuple[Backend, str]]:
    """A backend and its API and console on 127.0.0.1, built as ``asl serve`` builds them
    (aiohttp's own runner, so a handler is not cancelled when its client goes, as under
    aiohttp's test server): the backend and the server's URL. ``console_operations`` (by
    default the API's) are what the console calls; ``console`` goes to ``add_console``."""
    backend = build_backend(ServiceSettings())
    app = build_app(backend, OPERATIONS)
    add_console(app, backend, console_operations or OPERATIONS, **console)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield backend, f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
        await backend.engine.aclose()
