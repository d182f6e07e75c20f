"""TagResource, UntagResource and ListTagsForResource, on state machines and activities.

A version (or anything else) is ``ResourceNotFound: Resource not found: '<arn>'``, as
recorded against AWS (localstack test_sfn_api_tagging, test_tag_state_machine_version);
tags keep the order they were first given.
"""

from __future__ import annotations

from typing import Any

from runtime.service.arns import parse_arn
from runtime.service.backend import Backend, Operation
from runtime.service.errors import ResourceNotFound, TooManyTags

__all__ = ["OPERATIONS", "tag_list"]


#: The tags a resource may have (Step Functions' quotas: 50 per resource).
MAX_TAGS = 50


def tag_list(tags: list[dict[str, Any]], arn: str) -> dict[str, str]:
    """A request's ``[{key, value}]`` for the resource ``arn`` as a mapping (a later key
    replaces an earlier one); ``TooManyTags`` past :data:`MAX_TAGS`."""
    return _within_limit(_mapping(tags), arn)


def _mapping(tags: list[dict[str, Any]]) -> dict[str, str]:
    return {tag["key"]: tag.get("value", "") for tag in tags}


def _within_limit(tags: dict[str, str], arn: str) -> dict[str, str]:
    if len(tags) > MAX_TAGS:
        raise TooManyTags(arn, MAX_TAGS)
    return tags


def _resource(backend: Backend, text: str) -> str:
    arn = parse_arn(text, "stateMachine", "activity", "execution", "express", "mapRun")
    catalog = backend.catalog
    if arn.kind == "stateMachine" and arn.qualifier is None and catalog.machine(text):
        return text
    if arn.kind == "activity" and catalog.activity(text):
        return text
    raise ResourceNotFound(text)


async def tag_resource(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """TagResource: add or replace tags (the limit counts them with those it has)."""
    arn = _resource(backend, body["resourceArn"])
    tags = backend.catalog.tags(arn) | _mapping(body["tags"])
    backend.catalog.set_tags(arn, _within_limit(tags, arn))
    return {}


async def untag_resource(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """UntagResource: remove tags by key (a key it does not have is fine)."""
    arn = _resource(backend, body["resourceArn"])
    removed = set(body["tagKeys"])
    kept = {k: v for k, v in backend.catalog.tags(arn).items() if k not in removed}
    backend.catalog.set_tags(arn, kept)
    return {}


async def list_tags_for_resource(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListTagsForResource."""
    tags = backend.catalog.tags(_resource(backend, body["resourceArn"]))
    return {"tags": [{"key": key, "value": value} for key, value in tags.items()]}


OPERATIONS: dict[str, Operation] = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
