"""The console's event stream of a running execution (``/console/live``) with a keep-alive
interval set small: a quiet stream receives keep-alive comments and stays open, and the
stream of a client that went away ends, leaving no task behind.

Server-sent events' comment lines (a line starting with ``:``) are ignored by browsers
(HTML Living Standard, "Server-sent events", interpreting an event stream); the console
is ours, AWS has none to copy.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession

from runtime.service.backend import Backend
from runtime.service.console import live
from runtime.service.server import OPERATIONS
from tests.serving import console_server

KEEP_ALIVE = 0.05
BOUND = 10.0
WAITING = {
    "StartAt": "Pause",
    "States": {"Pause": {"Type": "Wait", "Seconds": 600, "End": True}},
}


@pytest.fixture
async def served() -> AsyncIterator[tuple[Backend, str]]:
    """A server built as ``asl serve`` builds it (``tests.serving.console_server``)."""
    async with console_server(keep_alive_seconds=KEEP_ALIVE) as served:
        yield served


async def _waiting_execution(backend: Backend) -> str:
    created = await OPERATIONS["CreateStateMachine"](
        backend,
        {"name": "quiet", "definition": json.dumps(WAITING), "roleArn": "arn:aws:iam::1:role/r"},
    )
    started = await OPERATIONS["StartExecution"](
        backend, {"stateMachineArn": created["stateMachineArn"]}
    )
    return str(started["executionArn"])


def _streaming() -> list[asyncio.Task[Any]]:
    """The tasks running the console's event stream, found on each one's await chain."""
    found = []
    for task in asyncio.all_tasks():
        awaited: Any = task.get_coro()
        while awaited is not None:
            if getattr(awaited, "cr_code", None) is live.stream.__code__:
                found.append(task)
                break
            awaited = getattr(awaited, "cr_await", None)
    return found


async def test_a_quiet_stream_gets_keep_alives_and_stays_open(
    served: tuple[Backend, str],
) -> None:
    backend, url = served
    arn = await _waiting_execution(backend)
    async with ClientSession() as session:
        response = await session.get(url + "/console/live", params={"arn": arn})
        assert response.headers["Content-Type"] == "text/event-stream"
        for _ in range(4):
            chunk = await asyncio.wait_for(response.content.readuntil(b"\n\n"), BOUND)
            assert chunk == b": waiting\n\n"
        assert not response.content.at_eof()
        assert len(_streaming()) == 1
        response.close()


async def test_the_stream_of_a_client_gone_away_ends(
    served: tuple[Backend, str],
) -> None:
    backend, url = served
    arn = await _waiting_execution(backend)
    async with ClientSession() as session:
        response = await session.get(url + "/console/live", params={"arn": arn})
        await asyncio.wait_for(response.content.readuntil(b"\n\n"), BOUND)
        (task,) = _streaming()
        response.close()  # the browser closed the page: its connection is gone
    # Nothing tells the handler but the write of its next keep-alive, which fails.
    await asyncio.wait({task}, timeout=BOUND)
    assert task.done()
    assert _streaming() == []
    # The execution it watched goes on.
    described = await OPERATIONS["DescribeExecution"](backend, {"executionArn": arn})
    assert described["status"] == "RUNNING"
