"""Versions and aliases: PublishStateMachineVersion, List/DeleteStateMachineVersion,
Create/Describe/Update/Delete/ListStateMachineAlias(es), and what a qualified ARN given to
StartExecution runs.

A version is ``<machine ARN>:<n>``, numbers counting up from 1 and never given twice; an
alias is ``<machine ARN>:<name>`` and routes each execution to one of one or two versions
by weight (AWS's versioning guide; ``stateMachineVersionArn`` ``...:1`` recorded in
localstack's test_sfn_api snapshots).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from runtime.api_limits import ValidationException
from runtime.service.arns import parse_arn
from runtime.service.backend import Backend, Operation
from runtime.service.catalog import AliasRecord, MachineRecord, Target, VersionRecord
from runtime.service.errors import ConflictException, ResourceNotFound, StateMachineDoesNotExist
from runtime.service.paging import page

__all__ = ["OPERATIONS", "describe_machine", "publish", "target"]


def target(backend: Backend, text: str) -> Target:
    """The target of a (possibly qualified) state machine ARN."""
    arn = parse_arn(text, "stateMachine")
    record = backend.machine_record(arn.base)
    qualifier = arn.qualifier
    if qualifier is None:
        return Target(record, record.definition, record.role_arn, record.revision_id)
    if qualifier.isdigit():
        return _version_target(backend, record, text, None)
    alias = backend.catalog.alias(text)
    if alias is None:
        raise StateMachineDoesNotExist(text)
    versions = [version_arn for version_arn, _ in alias.routing]
    weights = [weight for _, weight in alias.routing]
    chosen = backend.random.choices(versions, weights)[0]
    return _version_target(backend, record, chosen, alias.arn)


def _version_target(
    backend: Backend, record: MachineRecord, version_arn: str, alias_arn: str | None
) -> Target:
    version = backend.catalog.version(version_arn)
    if version is None:
        raise StateMachineDoesNotExist(version_arn)
    return Target(
        record, version.definition, version.role_arn, version.revision_id, version.arn, alias_arn
    )


def publish(backend: Backend, record: MachineRecord, description: str | None) -> VersionRecord:
    """A version of the machine's latest revision: the existing one if it was published."""
    versions = backend.catalog.versions(record.arn)
    if versions and versions[0].revision_id == record.revision_id:
        return versions[0]
    number = record.last_version + 1
    version = VersionRecord(
        arn=f"{record.arn}:{number}",
        machine_arn=record.arn,
        number=number,
        definition=record.definition,
        role_arn=record.role_arn,
        created=backend.now(),
        revision_id=record.revision_id or "",
        description=description,
    )
    backend.catalog.put_version(version)
    backend.catalog.put_machine(replace(record, last_version=number))
    return version


def describe_machine(backend: Backend, arn: str) -> dict[str, Any]:
    """DescribeStateMachine of a machine, or of one of its versions."""
    record = backend.machine_record(parse_arn(arn, "stateMachine").base)
    version = backend.catalog.version(arn) if arn != record.arn else None
    if arn != record.arn and version is None:
        raise StateMachineDoesNotExist(arn)
    answer: dict[str, Any] = {
        "stateMachineArn": arn,
        "name": record.name,
        "status": "ACTIVE",
        "definition": record.definition if version is None else version.definition,
        "roleArn": record.role_arn if version is None else version.role_arn,
        "type": record.type,
        "creationDate": record.created if version is None else version.created,
        "loggingConfiguration": record.logging,
        "tracingConfiguration": record.tracing,
    }
    if version is not None:
        answer["revisionId"] = version.revision_id
        if version.description is not None:
            answer["description"] = version.description
    elif record.updated is not None:
        answer["revisionId"] = record.revision_id
    return answer


async def publish_state_machine_version(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """PublishStateMachineVersion."""
    arn = parse_arn(body["stateMachineArn"], "stateMachine")
    record = backend.machine_record(arn.text)
    expected = body.get("revisionId")
    if expected is not None and expected != record.revision_id:
        # Our wording: AWS's text for a stale revision id is not recorded.
        raise ConflictException(
            f"Failed to publish the State Machine version for revision {expected}. "
            f"The current State Machine revision is {record.revision_id}."
        )
    version = publish(backend, record, body.get("description"))
    return {"stateMachineVersionArn": version.arn, "creationDate": version.created}


async def list_state_machine_versions(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListStateMachineVersions, the newest first."""
    arn = parse_arn(body["stateMachineArn"], "stateMachine")
    shown, more = page(backend.catalog.versions(backend.machine_record(arn.text).arn), body)
    versions = [{"stateMachineVersionArn": v.arn, "creationDate": v.created} for v in shown]
    return {"stateMachineVersions": versions, **more}


async def delete_state_machine_version(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteStateMachineVersion: refused while an alias routes to the version."""
    arn = parse_arn(body["stateMachineVersionArn"], "stateMachine")
    for alias in backend.catalog.aliases(arn.base):
        if any(version == arn.text for version, _ in alias.routing):
            raise ConflictException(
                f"Version to be deleted must not be referenced by an alias. Current list of "
                f"aliases referencing this version: [{alias.name}]"
            )
    backend.catalog.delete_version(arn.text)
    backend.forget_machine(arn.text)
    return {}


def _routing(
    backend: Backend, machine_arn: str, routes: list[dict[str, Any]]
) -> tuple[tuple[str, int], ...]:
    """An alias's routing: versions of this machine, one or two, weights summing to 100."""
    routing = tuple((route["stateMachineVersionArn"], route["weight"]) for route in routes)
    for version_arn, _ in routing:
        arn = parse_arn(version_arn, "stateMachine")
        if arn.base != machine_arn or arn.qualifier is None or not arn.qualifier.isdigit():
            raise ValidationException(f"Routing configuration must contain state machine "
                                      f"versions of {machine_arn}: '{version_arn}'")  # fmt: skip
        if backend.catalog.version(version_arn) is None:
            raise ResourceNotFound(version_arn)
    if len({arn for arn, _ in routing}) != len(routing) or sum(w for _, w in routing) != 100:
        # Our wording: AWS's texts for these are not recorded.
        raise ValidationException(
            "Routing configuration must name distinct versions whose weights sum to 100"
        )
    return routing


async def create_state_machine_alias(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """CreateStateMachineAlias."""
    routes = body["routingConfiguration"]
    machine_arn = parse_arn(routes[0]["stateMachineVersionArn"], "stateMachine").base
    backend.machine_record(machine_arn)
    alias = AliasRecord(
        arn=f"{machine_arn}:{body['name']}",
        machine_arn=machine_arn,
        name=body["name"],
        routing=_routing(backend, machine_arn, routes),
        created=backend.now(),
        description=body.get("description"),
    )
    existing = backend.catalog.alias(alias.arn)
    if existing is not None:
        if (existing.routing, existing.description) != (alias.routing, alias.description):
            raise ConflictException(f"Alias already exists: '{alias.arn}'")
        alias = existing
    backend.catalog.put_alias(alias)
    return {"stateMachineAliasArn": alias.arn, "creationDate": alias.created}


def _alias(backend: Backend, text: str) -> AliasRecord:
    arn = parse_arn(text, "stateMachine")
    alias = backend.catalog.alias(arn.text) if arn.qualifier is not None else None
    if alias is None:
        raise ResourceNotFound(text)
    return alias


async def describe_state_machine_alias(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeStateMachineAlias."""
    alias = _alias(backend, body["stateMachineAliasArn"])
    answer: dict[str, Any] = {
        "stateMachineAliasArn": alias.arn,
        "name": alias.name,
        "routingConfiguration": [
            {"stateMachineVersionArn": arn, "weight": weight} for arn, weight in alias.routing
        ],
        "creationDate": alias.created,
    }
    if alias.description is not None:
        answer["description"] = alias.description
    if alias.updated is not None:
        answer["updateDate"] = alias.updated
    return answer


async def update_state_machine_alias(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """UpdateStateMachineAlias: its description, its routing, or both."""
    alias = _alias(backend, body["stateMachineAliasArn"])
    routes = body.get("routingConfiguration")
    alias = replace(
        alias,
        routing=alias.routing if routes is None else _routing(backend, alias.machine_arn, routes),
        description=body.get("description", alias.description),
        updated=backend.now(),
    )
    backend.catalog.put_alias(alias)
    return {"updateDate": alias.updated}


async def delete_state_machine_alias(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DeleteStateMachineAlias."""
    backend.catalog.delete_alias(_alias(backend, body["stateMachineAliasArn"]).arn)
    return {}


async def list_state_machine_aliases(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListStateMachineAliases, by name."""
    arn = parse_arn(body["stateMachineArn"], "stateMachine")
    shown, more = page(backend.catalog.aliases(backend.machine_record(arn.base).arn), body)
    aliases = [{"stateMachineAliasArn": a.arn, "creationDate": a.created} for a in shown]
    return {"stateMachineAliases": aliases, **more}


OPERATIONS: dict[str, Operation] = {
    "PublishStateMachineVersion": publish_state_machine_version,
    "ListStateMachineVersions": list_state_machine_versions,
    "DeleteStateMachineVersion": delete_state_machine_version,
    "CreateStateMachineAlias": create_state_machine_alias,
    "DescribeStateMachineAlias": describe_state_machine_alias,
    "UpdateStateMachineAlias": update_state_machine_alias,
    "DeleteStateMachineAlias": delete_state_machine_alias,
    "ListStateMachineAliases": list_state_machine_aliases,
}
