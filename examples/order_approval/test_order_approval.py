"""Tests of the order approval workflow with the asl pytest plugin: a model to copy.

The ``asl_engine`` fixture runs workflows on a virtual clock; register the functions and
the MockConfigFile once, then pick a test case per run."""

import json
from pathlib import Path

import pytest

from runtime.testing import WorkflowEngine, assert_failed, assert_path, assert_succeeded, state

HERE = Path(__file__).parent
MACHINE = HERE / "order_approval.asl.json"
ORDER = json.loads((HERE / "input.json").read_text())


@pytest.fixture
def engine(asl_engine: WorkflowEngine) -> WorkflowEngine:
    asl_engine.functions(HERE / "functions.json")
    asl_engine.mock_config(HERE / "mock_config.json")
    return asl_engine


def test_an_approved_order_is_charged_and_fulfilled(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, ORDER, test_case="Approved")
    assert_succeeded(execution)
    assert_path(
        execution,
        [
            "Validate order",
            "Needs approval?",
            "Request approval",
            "Approved?",
            "Charge payment",
            "Fulfil order",
            "Send confirmation",
            "Update inventory",
            "Order complete",
        ],
    )
    assert state(execution, "Validate order").output["pricing"]["total"] == 894.24


def test_a_rejected_order_fails(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, ORDER, test_case="Rejected")
    assert_failed(execution, "OrderRejected", "An approver rejected the order.")
    assert execution.path[-1] == "Order rejected"
