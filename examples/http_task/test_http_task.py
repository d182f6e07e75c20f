"""Tests of the HTTP Task example with the asl pytest plugin: each MockConfigFile test case
stands in for one answer of the billing API."""

import json
from pathlib import Path

import pytest

from runtime.testing import (
    WorkflowEngine,
    assert_caught,
    assert_failed,
    assert_path,
    assert_retries,
    assert_succeeded,
)

HERE = Path(__file__).parent
MACHINE = HERE / "http_task.asl.json"
INVOICE = json.loads((HERE / "input.json").read_text())
SENT = {"invoiceId": "in_1PJ2nX", "status": "open", "sentTo": "billing@customer.example.org"}


@pytest.fixture
def engine(asl_engine: WorkflowEngine) -> WorkflowEngine:
    asl_engine.mock_config(HERE / "mock_config.json")
    return asl_engine


def test_a_created_invoice_is_sent(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, INVOICE, test_case="Created")
    assert_succeeded(execution, SENT)
    assert_path(execution, ["Create invoice", "Invoice created?", "Send invoice", "Invoice sent"])


def test_a_busy_api_is_retried(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, INVOICE, test_case="BusyThenCreated")
    assert_succeeded(execution, SENT)
    assert_retries(execution, "Create invoice", 2)
    assert execution.states["Create invoice"].errors == ["States.Http.StatusCode.503"] * 2


def test_a_replayed_request_sends_nothing_again(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, INVOICE, test_case="Replayed")
    assert_succeeded(execution)
    assert_path(execution, ["Create invoice", "Invoice created?", "Invoice already exists"])


def test_an_unknown_customer_is_caught_then_fails(engine: WorkflowEngine) -> None:
    execution = engine.run(MACHINE, INVOICE, test_case="UnknownCustomer")
    assert_caught(execution, "Create invoice", "States.Http.StatusCode.404")
    assert_failed(execution, "CustomerNotFound", "No such customer: 'cus_8842'")
