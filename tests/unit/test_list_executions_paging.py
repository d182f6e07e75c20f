"""ListExecutions on a durable server pages in SQL: each page reads its own rows (and one
more, to know whether another follows) from the store, never every execution of the
machine; its ``nextToken`` names the place of the page's last row. Counted through the
store's API (``ExecutionStore.execution_page``), not timed.

AWS's behaviour asserted here is that of the API reference (ListExecutions: results are
newest first, ``maxResults`` defaults to 100, ``nextToken`` is opaque) and of the
recordings the spec cases cite (tests/spec/api/executions.json)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from runtime.service import OPERATIONS, ServiceSettings, build_backend
from runtime.service.backend import Backend
from runtime.service.wire import build_app
from runtime.store.executions import ExecutionStore

ROLE = "arn:aws:iam::123456789012:role/r"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
MANY = 250


class _Api:
    def __init__(self, client: TestClient) -> None:  # type: ignore[type-arg]
        self._client = client

    async def __call__(self, operation: str, body: dict[str, Any]) -> tuple[int, Any]:
        reply = await self._client.post(
            "/",
            data=json.dumps(body).encode(),
            headers={"X-Amz-Target": f"AWSStepFunctions.{operation}"},
        )
        return reply.status, await reply.json(content_type=None)


def _count_rows(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows each call of the store's ``execution_page`` gave, call by call."""
    store = backend.engine.store
    assert isinstance(store, ExecutionStore)
    read = store.execution_page
    counted: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        rows = read(*args, **kwargs)
        counted.append(len(rows))
        return rows

    monkeypatch.setattr(store, "execution_page", counting)
    return counted


async def _list_all(api: _Api, body: dict[str, Any]) -> list[list[str]]:
    pages: list[list[str]] = []
    token = None
    while True:
        status, answer = await api("ListExecutions", body | ({"nextToken": token} if token else {}))
        assert status == 200, answer
        pages.append([e["name"] for e in answer["executions"]])
        token = answer.get("nextToken")
        if token is None:
            return pages


def test_each_page_reads_only_its_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        backend = build_backend(ServiceSettings(clock="virtual", db=tmp_path / "db.sqlite3"))
        async with TestClient(TestServer(build_app(backend, OPERATIONS))) as client:
            api = _Api(client)
            _, made = await api(
                "CreateStateMachine",
                {"name": "m", "definition": json.dumps(PASS), "roleArn": ROLE},
            )
            machine = made["stateMachineArn"]
            names = [f"e{i:03}" for i in range(MANY)]
            for name in names:
                await api("StartExecution", {"stateMachineArn": machine, "name": name})
            counted = _count_rows(backend, monkeypatch)

            pages = await _list_all(api, {"stateMachineArn": machine})
            assert [len(p) for p in pages] == [100, 100, 50]
            assert [n for p in pages for n in p] == names[::-1]  # newest first, each once
            assert counted == [101, 101, 50]  # a page's rows and one more, never all

            counted.clear()
            pages = await _list_all(api, {"stateMachineArn": machine, "maxResults": 7})
            assert [n for p in pages for n in p] == names[::-1]
            assert max(counted) == 8

            _, version = await api("PublishStateMachineVersion", {"stateMachineArn": machine})
            by_version = version["stateMachineVersionArn"]
            for name in ("v1", "v2", "v3"):
                await api("StartExecution", {"stateMachineArn": by_version, "name": name})
            pages = await _list_all(api, {"stateMachineArn": by_version, "maxResults": 2})
            assert pages == [["v3", "v2"], ["v1"]]
            body = {"stateMachineArn": machine, "statusFilter": "SUCCEEDED", "maxResults": 300}
            while len((await _list_all(api, body))[0]) < MANY + 3:
                await asyncio.sleep(0.01)  # every execution ends on the virtual clock
            body["statusFilter"] = "RUNNING"
            assert await _list_all(api, body) == [[]]

            for bad in ("not one of ours", "eyJvZmZzZXQiOiAxfQ==", "eyJhZnRlciI6IFsxLCAiMiJdfQ=="):
                status, answer = await api(
                    "ListExecutions", {"stateMachineArn": machine, "nextToken": bad}
                )
                assert (status, answer["__type"]) == (400, "InvalidToken"), bad
                assert answer["message"] == "Invalid Token: 'Invalid pagination token'"
        await backend.engine.aclose()
        backend.catalog.close()

    asyncio.run(main())


@pytest.mark.parametrize("durable", [True, False])
def test_a_token_is_refused_with_other_arguments(tmp_path: Path, durable: bool) -> None:
    """The API reference of each ``nextToken``: "Make the call again using the returned
    token to retrieve the next page. Keep all other arguments unchanged", a token it cannot
    use answered with ``InvalidToken`` (HTTP 400). What AWS does with other arguments is
    not documented: refused here (rather than a page of another list), but for
    ``maxResults``, a page's size, which boto3's paginators let change."""

    async def main() -> None:
        db = tmp_path / "db.sqlite3" if durable else ":memory:"
        backend = build_backend(ServiceSettings(clock="virtual", db=db))
        async with TestClient(TestServer(build_app(backend, OPERATIONS))) as client:
            api = _Api(client)
            machines = []
            for name in ("a", "b"):
                _, made = await api(
                    "CreateStateMachine",
                    {"name": name, "definition": json.dumps(PASS), "roleArn": ROLE},
                )
                machines.append(made["stateMachineArn"])
                for _ in range(3):
                    await api("StartExecution", {"stateMachineArn": made["stateMachineArn"]})
            first = {"stateMachineArn": machines[0], "maxResults": 1}
            _, answer = await api("ListExecutions", first)
            token = answer["nextToken"]
            for other in (
                {"stateMachineArn": machines[1]},
                {"statusFilter": "SUCCEEDED"},
                {"statusFilter": "RUNNING"},
            ):
                status, refused = await api("ListExecutions", first | other | {"nextToken": token})
                assert (status, refused["__type"]) == (400, "InvalidToken"), other
            status, next_page = await api(
                "ListExecutions", first | {"maxResults": 5, "nextToken": token}
            )
            assert status == 200 and len(next_page["executions"]) == 2

            arn = answer["executions"][0]["executionArn"]
            history = {"executionArn": arn, "maxResults": 1}
            _, events = await api("GetExecutionHistory", history)
            again = history | {"nextToken": events["nextToken"]}
            assert (await api("GetExecutionHistory", again))[0] == 200
            status, refused = await api("GetExecutionHistory", again | {"reverseOrder": True})
            assert (status, refused["__type"]) == (400, "InvalidToken")
        await backend.engine.aclose()
        backend.catalog.close()

    asyncio.run(main())
