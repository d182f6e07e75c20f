"""Spec cases of kind ``execution``: a whole execution through the public Python API.

Case fields:
- ``definition``: the state machine; ``input`` (default ``{}``); ``machineType``.
- ``mocks``: ``{"<State>": [<response>, ...]}`` — the n-th invocation of a Task state
  gets the n-th response (the last repeats), each ``{"Return": <JSON>}`` or
  ``{"Throw": {"Error": ..., "Cause": ...}}``; run through the MockConfigFile machinery.
- ``functions``: ``{"<name>": "echo" | {"raise": "<ErrorType>", "message": "..."}}`` —
  local Lambda functions the definition calls by name or ARN.
- Expected: ``status``; ``output``; ``error``; ``cause`` (exact) or ``causeContains``;
  ``events`` (the exact sequence of history event types); ``path`` (state names entered);
  ``eventDetails``: ``[[<index in history>, <details object expected (subset)>], ...]``.
"""

from __future__ import annotations

from typing import Any

from asl.events import details_key
from runtime.testing import run as run_execution

_MACHINE, _CASE = "SpecMachine", "SpecCase"


def _mock_config(mocks: dict[str, list[Any]]) -> dict[str, Any]:
    names = {state: f"Response{i}" for i, state in enumerate(mocks)}
    return {
        "StateMachines": {_MACHINE: {"TestCases": {_CASE: names}}},
        "MockedResponses": {
            names[state]: {str(n): response for n, response in enumerate(responses)}
            for state, responses in mocks.items()
        },
    }


def _handler(spec: Any) -> Any:
    if spec == "echo":
        return lambda event, context: event
    error_type = type(spec["raise"], (Exception,), {})

    def fail(event: Any, context: Any) -> Any:
        raise error_type(spec.get("message", ""))

    return fail


def run(case: dict[str, Any]) -> None:
    """Run the case's execution and assert what AWS would report."""
    options: dict[str, Any] = {"state_machine_name": _MACHINE, "seed": 7}
    if "mocks" in case:
        options.update(mock_config=_mock_config(case["mocks"]), test_case=_CASE)
    if "functions" in case:
        options["functions"] = {name: _handler(s) for name, s in case["functions"].items()}
    execution = run_execution(
        case["definition"], case.get("input", {}), type=case.get("machineType", "STANDARD"),
        **options,
    )  # fmt: skip
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
    if "events" in case:
        assert [e["type"] for e in history] == case["events"], summary
    if "path" in case:
        assert execution.path == case["path"], summary
    for index, expected in case.get("eventDetails", []):
        event = history[index]
        found = event.get(details_key(event["type"]) or "", {})
        assert {k: found.get(k) for k in expected} == expected, (index, event)
