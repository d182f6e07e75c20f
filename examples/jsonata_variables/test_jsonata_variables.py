"""Tests of the JSONata quote workflow with the asl pytest plugin."""

import json
from pathlib import Path

import pytest

from runtime.testing import WorkflowEngine, assert_path, assert_succeeded, state

HERE = Path(__file__).parent
MACHINE = HERE / "jsonata_variables.asl.json"
CART = json.loads((HERE / "input.json").read_text())


@pytest.fixture
def engine(asl_engine: WorkflowEngine) -> WorkflowEngine:
    asl_engine.functions(HERE / "functions.json")
    return asl_engine


def test_a_cart_gets_a_discounted_quote(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, CART)
    assert_succeeded(execution)
    assert_path(
        execution,
        [
            "Load cart",
            "Price items",
            "Price item",
            "Price item",
            "Price item",
            "Choose discount",
            "Apply discount",
            "Quote shipping",
            "Build quote",
        ],
    )
    assert execution.output["cartId"] == "cart-7f3a9c"
    assert len(state(execution, "Price item").outputs) == 3
