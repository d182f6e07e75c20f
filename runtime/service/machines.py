"""State machine operations: Create/Describe/Update/Delete/ListStateMachines and
ValidateStateMachineDefinition.

Recorded against AWS (localstack test_sfn_api snapshots): creating a machine again with
the very same definition and role answers the first creation; another definition under
the name is ``StateMachineAlreadyExists``; deleting a machine that does not exist
succeeds; ``revisionId`` appears once the machine has been updated; machines are listed
by ARN.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from runtime.api_limits import valid_name
from runtime.service.arns import check_role_arn, parse_arn
from runtime.service.backend import Backend, Operation
from runtime.service.catalog import MachineRecord
from runtime.service.definitions import compile_definition, validation_result
from runtime.service.errors import (
    InvalidName,
    MissingRequiredParameter,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
)
from runtime.service.paging import page
from runtime.service.tagging import tag_list
from runtime.service.versions import describe_machine, publish

__all__ = ["OPERATIONS"]

_LOGGING_OFF = {"level": "OFF", "includeExecutionData": False}


async def create_state_machine(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """CreateStateMachine."""
    name, machine_type = body["name"], body.get("type", "STANDARD")
    if not valid_name(name):
        raise InvalidName(name)
    check_role_arn(body["roleArn"])
    compile_definition(body["definition"], machine_type)
    arn = backend.arn("stateMachine", name)
    tags = tag_list(body.get("tags") or [], arn)
    existing = backend.catalog.machine(arn)
    if existing is not None:
        same = (existing.definition, existing.role_arn, existing.type) == (
            body["definition"], body["roleArn"], machine_type,
        )  # fmt: skip
        if not same:
            raise StateMachineAlreadyExists(arn)
        return {"stateMachineArn": arn, "creationDate": existing.created}
    record = MachineRecord(
        arn=arn,
        name=name,
        type=machine_type,
        definition=body["definition"],
        role_arn=body["roleArn"],
        created=backend.now(),
        revision_id=backend.new_id(),
        logging=body.get("loggingConfiguration") or dict(_LOGGING_OFF),
        tracing=body.get("tracingConfiguration") or {"enabled": False},
    )
    backend.catalog.put_machine(record)
    backend.catalog.set_tags(arn, tags)
    answer: dict[str, Any] = {"stateMachineArn": arn, "creationDate": record.created}
    if body.get("publish"):
        version = publish(backend, record, body.get("versionDescription"))
        answer["stateMachineVersionArn"] = version.arn
    return answer


async def describe_state_machine(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeStateMachine, of a machine or of one of its versions."""
    return describe_machine(backend, body["stateMachineArn"])


async def update_state_machine(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """UpdateStateMachine: a new revision (and a new version when ``publish``)."""
    arn = parse_arn(body["stateMachineArn"], "stateMachine")
    if arn.qualifier is not None:
        raise StateMachineDoesNotExist(arn.text)
    record = backend.machine_record(arn.text)
    changes = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration")
    if not any(body.get(key) is not None for key in changes):
        # Our wording: AWS's text for an update that changes nothing is not recorded.
        raise MissingRequiredParameter(
            "Either the definition, the role ARN, the LoggingConfiguration, or the "
            "TracingConfiguration must be specified"
        )
    if body.get("roleArn") is not None:
        check_role_arn(body["roleArn"])
    definition = body.get("definition", record.definition)
    compile_definition(definition, record.type)
    record = replace(
        record,
        definition=definition,
        role_arn=body.get("roleArn", record.role_arn),
        logging=body.get("loggingConfiguration", record.logging),
        tracing=body.get("tracingConfiguration", record.tracing),
        revision_id=backend.new_id(),
        updated=backend.now(),
    )
    backend.catalog.put_machine(record)
    answer: dict[str, Any] = {"updateDate": record.updated, "revisionId": record.revision_id}
    if body.get("publish"):
        answer["stateMachineVersionArn"] = publish(
            backend, record, body.get("versionDescription")
        ).arn
    return answer


async def delete_state_machine(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteStateMachine: running executions go on; a machine that is not there is fine."""
    arn = parse_arn(body["stateMachineArn"], "stateMachine")
    if arn.qualifier is None:
        for version in backend.catalog.versions(arn.text):
            backend.forget_machine(version.arn)
        backend.catalog.delete_machine(arn.text)
        backend.forget_machine(arn.text)
    return {}


async def list_state_machines(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListStateMachines, by ARN."""
    shown, more = page(backend.catalog.machines(), body)
    machines = [
        {"stateMachineArn": r.arn, "name": r.name, "type": r.type, "creationDate": r.created}
        for r in shown
    ]
    return {"stateMachines": machines, **more}


async def validate_state_machine_definition(
    backend: Backend, body: dict[str, Any]
) -> dict[str, Any]:
    """ValidateStateMachineDefinition."""
    return validation_result(body)


OPERATIONS: dict[str, Operation] = {
    "CreateStateMachine": create_state_machine,
    "DescribeStateMachine": describe_state_machine,
    "UpdateStateMachine": update_state_machine,
    "DeleteStateMachine": delete_state_machine,
    "ListStateMachines": list_state_machines,
    "ValidateStateMachineDefinition": validate_state_machine_definition,
}
