"""TestState: one state run by the engine (``runtime.testing.test_state``), served.

The members are botocore's (``definition``, ``roleArn``, ``input``, ``stateName``,
``mock``, ``inspectionLevel``, ``revealSecrets``, ``context``, ``variables``,
``stateConfiguration``); what the API carries as JSON text (``input``, ``mock.result``,
``context``, ``variables``, ``stateConfiguration.mapItemReaderData``, and the answer's
``output`` and inspection data) is parsed on the way in and written on the way out.
A Task without ``roleArn`` is refused with AWS's recorded words (localstack
test_test_state_scenarios, test_base_lambda_service_task_state_no_role_arn_validation).
"""

from __future__ import annotations

from typing import Any

from asl.jsontext import json_text, parse_json
from runtime.api_limits import ValidationException
from runtime.executions import Engine
from runtime.service.backend import Backend, Operation
from runtime.service.runs import execution_input
from runtime.testing.test_state import test_state as run_test_state

__all__ = ["OPERATIONS", "answer"]

#: InspectionData's members that the API carries as JSON text (botocore: SensitiveData).
_TEXT_MEMBERS = frozenset(
    {
        "input",
        "afterArguments",
        "afterInputPath",
        "afterParameters",
        "result",
        "afterResultSelector",
        "afterResultPath",
        "variables",
        "afterItemsPath",
        "afterItemSelector",
        "afterItemBatcher",
        "afterItemsPointer",
    }
)
_NO_ROLE = "RoleArn must be specified when testing a Task state"


def _json_member(body: dict[str, Any], name: str) -> Any:
    """A member that is JSON text, parsed (None when absent); ValidationException in our
    words for text that is not JSON (AWS's are not recorded)."""
    text = body.get(name)
    if text is None:
        return None
    try:
        return parse_json(text)
    except ValueError as exc:
        raise ValidationException(f"The {name} is not valid JSON: {exc}") from None


def _parsed_within(body: dict[str, Any], name: str, member: str) -> dict[str, Any] | None:
    """The structure ``name`` with its JSON-text ``member`` parsed (None when absent)."""
    given = body.get(name)
    if given is None:
        return None
    parsed = dict(given)
    if member in given:
        parsed[member] = _json_member(given, member)
    return parsed


def _tests_a_task(body: dict[str, Any]) -> bool:
    """Whether the state under test is a Task (False for a definition not even JSON: the
    engine refuses it in AWS's words)."""
    try:
        document = parse_json(body["definition"])
        if "stateName" in body:
            document = document["States"][body["stateName"]]
        return bool(document.get("Type") == "Task")
    except (ValueError, TypeError, KeyError, AttributeError):
        return False


def _wire(response: dict[str, Any]) -> dict[str, Any]:
    """The answer as the API carries it: output and inspection data as JSON text."""
    wired = dict(response)
    if "output" in wired:
        wired["output"] = json_text(wired["output"])
    inspection = wired.get("inspectionData")
    if inspection is not None:
        wired["inspectionData"] = {
            key: json_text(value) if key in _TEXT_MEMBERS else value
            for key, value in inspection.items()
        }
    return wired


async def answer(body: dict[str, Any], engine: Engine) -> dict[str, Any]:
    """TestState's answer to a request's members (as botocore's model has them), a Task
    without a mock calling its integration on ``engine``; the API's errors raised."""
    response = await run_test_state(
        body["definition"],
        execution_input(body.get("input")),
        state_name=body.get("stateName"),
        mock=_parsed_within(body, "mock", "result"),
        context=_json_member(body, "context"),
        variables=_json_member(body, "variables"),
        inspection_level=body.get("inspectionLevel", "INFO"),
        reveal_secrets=body.get("revealSecrets", False),
        state_configuration=_parsed_within(body, "stateConfiguration", "mapItemReaderData"),
        role_arn=body.get("roleArn"),
        engine=engine,
    )
    return _wire(response)


async def test_state(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """TestState."""
    if body.get("roleArn") is None and _tests_a_task(body):
        raise ValidationException(_NO_ROLE)
    return await answer(body, backend.engine)


test_state.__test__ = False  # type: ignore[attr-defined]  # not a test for pytest to collect

OPERATIONS: dict[str, Operation] = {"TestState": test_state}
