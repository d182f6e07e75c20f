"""`asl serve --db FILE` restarted on its file: boto3 finds the state machines, versions,
aliases, activities and tags it made, and the executions that ended before the restart
listed, described and with their histories, as the last server answered them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runtime.service import ServiceSettings
from runtime.service.server import serve_in_thread
from tests.serving import sfn_client

ROLE = "arn:aws:iam::123456789012:role/r"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "done", "End": True}}}
FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "No", "Cause": "why"}}}


def _client(url: str) -> Any:
    return sfn_client(url)


def _answers(sfn: Any, machine: str, version: str, executions: list[str]) -> dict[str, Any]:
    """What the API says of everything the first server made, without request metadata."""

    def strip(answer: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in answer.items() if k != "ResponseMetadata"}

    return {
        "machine": strip(sfn.describe_state_machine(stateMachineArn=machine)),
        "versions": strip(sfn.list_state_machine_versions(stateMachineArn=machine)),
        "aliases": strip(sfn.list_state_machine_aliases(stateMachineArn=machine)),
        "tags": strip(sfn.list_tags_for_resource(resourceArn=machine)),
        "activities": strip(sfn.list_activities()),
        "listed": strip(sfn.list_executions(stateMachineArn=machine)),
        "by version": strip(sfn.list_executions(stateMachineArn=version)),
        "failed": strip(sfn.list_executions(stateMachineArn=machine, statusFilter="FAILED")),
        "described": [strip(sfn.describe_execution(executionArn=arn)) for arn in executions],
        "histories": [strip(sfn.get_execution_history(executionArn=arn)) for arn in executions],
        "for execution": [
            strip(sfn.describe_state_machine_for_execution(executionArn=arn)) for arn in executions
        ],
    }


def test_a_restarted_server_answers_as_the_last_one_did(tmp_path: Path) -> None:
    settings = ServiceSettings(clock="virtual", db=tmp_path / "state.sqlite3")
    with serve_in_thread(settings) as first:
        sfn = _client(first.url)
        machine = sfn.create_state_machine(name="m", definition=json.dumps(PASS), roleArn=ROLE)[
            "stateMachineArn"
        ]
        version = sfn.publish_state_machine_version(stateMachineArn=machine)[
            "stateMachineVersionArn"
        ]
        sfn.create_state_machine_alias(
            name="live", routingConfiguration=[{"stateMachineVersionArn": version, "weight": 100}]
        )
        sfn.update_state_machine(stateMachineArn=machine, definition=json.dumps(FAIL))
        sfn.tag_resource(resourceArn=machine, tags=[{"key": "team", "value": "x"}])
        sfn.create_activity(name="approve")
        executions = [
            sfn.start_execution(stateMachineArn=version, name="old")["executionArn"],
            sfn.start_execution(stateMachineArn=machine, name="new")["executionArn"],
        ]
        for arn in executions:
            while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                pass
        before = _answers(sfn, machine, version, executions)
    assert [e["status"] for e in before["described"]] == ["SUCCEEDED", "FAILED"]
    assert [e["name"] for e in before["listed"]["executions"]] == ["new", "old"]
    assert [e["name"] for e in before["by version"]["executions"]] == ["old"]

    with serve_in_thread(settings) as second:
        sfn = _client(second.url)
        assert _answers(sfn, machine, version, executions) == before
        # The names of ended executions stay taken across the restart.
        with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
            sfn.start_execution(stateMachineArn=machine, name="old")
