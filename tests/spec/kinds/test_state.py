"""Spec cases of kind ``test_state``: one state run by ``runtime.testing.test_state``, as
AWS's TestState API runs it.

Case fields (TestState's request members, as Python values: ``mock.result`` is the
mocked value itself, not its JSON text):
- ``definition``: one state, or a whole machine with ``stateName``; ``input`` (default
  ``{}``); ``mock``; ``context``; ``variables``; ``inspectionLevel`` (default INFO);
  ``revealSecrets``; ``stateConfiguration``.
- Expected, one of:
  - ``response``: the whole response (``status``, ``output``, ``error``, ``cause``,
    ``nextState``, ``inspectionData``), compared exactly after dropping the members named
    in ``ignore`` (dotted paths such as ``output.context``: values AWS makes up per call,
    such as ARNs and times);
  - ``rejected``: ``{"code": <AWS error code>, "message": <text>}``, the API error the
    request gets instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from runtime.store import ApiError
from runtime.testing import test_state as run_test_state

_SEED = 7


def _drop(value: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        value = value.get(key, {})
    assert last in value, f"ignored member {dotted} is not in the response"
    del value[last]


def run(case: dict[str, Any]) -> None:
    """Run the case's request and compare the response or the rejection."""
    request = run_test_state(
        case["definition"],
        case.get("input", {}),
        state_name=case.get("stateName"),
        mock=case.get("mock"),
        context=case.get("context"),
        variables=case.get("variables"),
        inspection_level=case.get("inspectionLevel", "INFO"),
        reveal_secrets=case.get("revealSecrets", False),
        state_configuration=case.get("stateConfiguration"),
        seed=_SEED,
    )
    if "rejected" in case:
        try:
            response = asyncio.run(request)
        except ApiError as error:
            assert {"code": error.code, "message": error.message} == case["rejected"]
            return
        raise AssertionError(f"expected a rejection, got {response}")
    response = asyncio.run(request)
    for dotted in case.get("ignore", ()):
        _drop(response, dotted)
    assert response == case["response"]
