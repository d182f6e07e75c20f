"""The Python API agrees with ``asl run`` on its defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asl.diagnostics import DefinitionError
from asl.loader import file_machine_name
from runtime.testing import run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "order_approval"


def test_a_definition_file_names_its_machine_as_on_the_cli() -> None:
    execution = run(
        EXAMPLE / "order_approval.asl.json",
        json.loads((EXAMPLE / "input.json").read_text()),
        functions=EXAMPLE / "functions.json",
        mock_config=EXAMPLE / "mock_config.json",  # its StateMachines entry: order_approval
        test_case="Rejected",
    )
    assert execution.machine.name == "order_approval"
    assert (execution.status, execution.error) == ("FAILED", "OrderRejected")


def test_the_machine_name_a_source_gives() -> None:
    assert file_machine_name("orders.asl.json") == "orders"
    assert file_machine_name(Path("dir/orders.asl.yaml")) == "orders"
    assert file_machine_name('{"StartAt": "A"}') is None
    assert file_machine_name({"StartAt": "A"}) is None
    assert run({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}).machine.name == (
        "StateMachine"
    )


def test_a_definition_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.asl.json"
    path.write_text('{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}')
    with pytest.raises(DefinitionError, match=f"{path}:1:"):
        run(path)
    path.write_text("{not json")
    with pytest.raises(DefinitionError, match=f"{path}:1:"):
        run(path)
