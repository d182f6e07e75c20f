"""Spec cases of kind ``execution``: a whole execution through the public Python API.

Case fields:
- ``definition``: the state machine; ``input`` (default ``{}``); ``machineType``;
  ``executionName`` (default: a UUID).
- ``mocks``: ``{"<State>": [<response>, ...]}`` — the n-th invocation of a Task state
  gets the n-th response (the last repeats), each ``{"Return": <JSON>}`` or
  ``{"Throw": {"Error": ..., "Cause": ...}}``; run through the MockConfigFile machinery.
- ``functions``: ``{"<name>": <spec>}`` — local Lambda functions the definition calls by
  name or ARN. A spec is ``"echo"`` (returns its event), ``{"return": <JSON>}``, or
  ``{"raise": "<ErrorType>", "message": "..."}``.
- ``taskDurations``: ``{"<State>": <seconds> | [<seconds>, ...]}`` — how long each
  invocation of a Task state's resource takes on the virtual clock (the n-th invocation
  takes the n-th duration; the last repeats). Used to reach TimeoutSeconds.
- Anywhere in ``definition``, ``input``, ``mocks`` and ``functions``,
  ``{"$repeat": [<text>, <count>]}`` stands for the text repeated ``count`` times (big
  payloads without big files).
- Expected: ``status``; ``output``; ``error``; ``cause`` (exact) or ``causeContains``;
  ``events`` (the exact sequence of history event types); ``eventsTail`` (the types the
  history ends with); ``lastEvent`` (the type of the last event); ``path`` (state names entered);
  ``history``: ``[[<type>, <previousEventId>], ...]`` — the whole history, event ids being
  the positions from 1; ``links``: ``[[<index in history>, <previousEventId>], ...]`` — the
  links of some events only; ``eventDetails``: ``[[<index in history>, <details (subset)>], ...]``
  (a negative index counts from the end); ``eventDetailsExact``: the same, all of the
  details; ``eventDetailsMatch``: the same with regular
  expressions that whole detail values must match; ``timestamps``:
  ``[[<index>, <seconds after ExecutionStarted>], ...]`` on the virtual clock;
  ``timestampRanges``: ``[[<index>, <at least>, <at most>], ...]`` (jittered delays).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, cast

from asl.events import details_key
from integrations.base import TaskRequest
from integrations.lambdas import Isolation, LocalFunctions
from runtime.executions import Engine
from runtime.host import Host
from runtime.testing import local_engine
from runtime.testing import run as run_execution

MACHINE, _CASE = "SpecMachine", "SpecCase"
_EXPANDED = frozenset({"definition", "input", "mocks", "functions"})


def _expand(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$repeat"}:
            text, count = value["$repeat"]
            return text * count
        return {key: _expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item) for item in value]
    return value


def _mock_config(mocks: dict[str, list[Any]]) -> dict[str, Any]:
    names = {state: f"Response{i}" for i, state in enumerate(mocks)}
    return {
        "StateMachines": {MACHINE: {"TestCases": {_CASE: names}}},
        "MockedResponses": {
            names[state]: {str(n): response for n, response in enumerate(responses)}
            for state, responses in mocks.items()
        },
    }


def _handler(spec: Any, asynchronous: bool = False) -> Any:
    if asynchronous:  # the same handler as ``async def``, answering without waiting
        sync = _handler(spec)

        async def answer(event: Any, context: Any) -> Any:
            return sync(event, context)

        return answer
    if spec == "echo":
        return lambda event, context: event
    if "return" in spec:
        value = spec["return"]
        return lambda event, context: value
    error_type = type(spec["raise"], (Exception,), {})

    def fail(event: Any, context: Any) -> Any:
        raise error_type(spec.get("message", ""))

    return fail


class _TimedHost:
    """A Host whose Task invocations take virtual time before they answer (a fake)."""

    def __init__(self, inner: Host, durations: dict[str, Any]) -> None:
        self._inner = inner
        self._durations = {
            state: seconds if isinstance(seconds, list) else [seconds]
            for state, seconds in durations.items()
        }
        self._calls: dict[str, int] = {}
        self.clock = inner.clock
        self.entropy = inner.entropy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # the rest of the Host, unchanged

    def now(self) -> float:
        return self._inner.now()

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    def new_uuid(self) -> str:
        return self._inner.new_uuid()

    def new_task_token(self) -> str:
        return self._inner.new_task_token()

    async def invoke(self, request: TaskRequest) -> Any:
        durations = self._durations.get(request.state_name)
        if durations:
            n = self._calls.get(request.state_name, 0)
            self._calls[request.state_name] = n + 1
            await self._inner.sleep(durations[min(n, len(durations) - 1)])
        return await self._inner.invoke(request)

    async def wait_for_token(
        self, request: TaskRequest, input_value: Any, heartbeat: int | None, timeout: int | None
    ) -> Any:
        return await self._inner.wait_for_token(request, input_value, heartbeat, timeout)


def _engine(
    case: dict[str, Any], seed: int, isolation: Isolation, asynchronous: bool = False
) -> Engine:
    options: dict[str, Any] = {"state_machine_name": MACHINE, "seed": seed}
    if "mocks" in case:
        options.update(mock_config=_mock_config(case["mocks"]), test_case=_CASE)
    if "functions" in case:
        functions = LocalFunctions()
        for name, spec in case["functions"].items():
            functions.register(name, _handler(spec, asynchronous), isolation=isolation)
        options["functions"] = functions
    engine = local_engine(**options)
    if "taskDurations" in case:
        engine.host = cast(Host, _TimedHost(engine.host, case["taskDurations"]))
    return engine


def _seconds(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def _details(event: dict[str, Any]) -> dict[str, Any]:
    found = event.get(details_key(event["type"]) or "", {})
    assert isinstance(found, dict)
    return found


def _check_history(case: dict[str, Any], history: list[dict[str, Any]], summary: Any) -> None:
    if "events" in case:
        assert [e["type"] for e in history] == case["events"], summary
    if "eventsTail" in case:
        tail = case["eventsTail"]
        assert [e["type"] for e in history[-len(tail) :]] == tail, summary
    if "lastEvent" in case:
        assert history[-1]["type"] == case["lastEvent"], summary
    if "history" in case:
        links = [[e["type"], e["previousEventId"]] for e in history]
        assert links == case["history"], links
        assert [e["id"] for e in history] == list(range(1, len(history) + 1))
    for index, previous in case.get("links", []):
        assert history[index]["previousEventId"] == previous, (index, history[index])
    for index, expected in case.get("eventDetails", []):
        found = _details(history[index])
        assert {k: found.get(k) for k in expected} == expected, (index, history[index])
    for index, expected in case.get("eventDetailsExact", []):
        assert _details(history[index]) == expected, (index, history[index])
    for index, patterns in case.get("eventDetailsMatch", []):
        found = _details(history[index])
        for key, pattern in patterns.items():
            assert re.fullmatch(pattern, str(found.get(key))), (index, key, history[index])
    start = _seconds(history[0]["timestamp"])
    for index, seconds in case.get("timestamps", []):
        elapsed = _seconds(history[index]["timestamp"]) - start
        assert abs(elapsed - seconds) < 0.01, (index, elapsed, seconds)
    for index, low, high in case.get("timestampRanges", []):
        elapsed = _seconds(history[index]["timestamp"]) - start
        assert low - 0.01 <= elapsed <= high + 0.01, (index, elapsed, low, high)


def expanded(case: dict[str, Any]) -> dict[str, Any]:
    """The case with its ``$repeat`` values written out."""
    return {key: _expand(value) if key in _EXPANDED else value for key, value in case.items()}


def integrations(case: dict[str, Any], seed: int = 7) -> Engine:
    """A local engine with the case's mocks and functions (for its Host and invoker)."""
    return _engine(case, seed, "thread")


def execute(
    case: dict[str, Any],
    seed: int = 7,
    isolation: Isolation = "thread",
    *,
    asynchronous: bool = False,
) -> Any:
    """Run the case's execution (on an engine seeded with ``seed``, its functions
    registered with ``isolation``, as ``async def`` handlers if ``asynchronous``) and
    return it."""
    case = expanded(case)
    engine = _engine(case, seed, isolation, asynchronous)
    return run_execution(
        case["definition"], case.get("input", {}), engine=engine,
        state_machine_name=MACHINE, type=case.get("machineType", "STANDARD"),
        name=case.get("executionName"),
    )  # fmt: skip


def observed(case: dict[str, Any], seed: int = 7, isolation: Isolation = "thread") -> str:
    """Everything a caller can read of the case's ended execution, as one JSON text."""
    execution = execute(case, seed, isolation)
    return json.dumps(
        [execution.status, execution.output, execution.error, execution.cause,
         execution.start_time, execution.stop_time, execution.history_json()],
        sort_keys=True,
    )  # fmt: skip


def run(case: dict[str, Any]) -> None:
    """Run the case's execution and assert what AWS would report."""
    check(case, execute(case))


def check(case: dict[str, Any], execution: Any) -> None:
    """Assert what AWS would report of the case's ended ``execution`` (its status, output,
    error, cause, path and ``history_json()``)."""
    history = execution.history_json()["events"]
    summary = (execution.status, execution.error, execution.cause, [e["type"] for e in history])
    assert execution.status == case["status"], summary
    if "output" in case:
        assert execution.output == case["output"], summary
    if "error" in case:
        assert execution.error == case["error"], summary
    if "cause" in case:
        assert execution.cause == case["cause"], summary
    if "causeContains" in case:
        assert case["causeContains"] in (execution.cause or ""), summary
    if "path" in case:
        assert execution.path == case["path"], summary
    _check_history(case, history, summary)
