"""AWS API output shapes (botocore's service models), to check mocked Task results.

TestState's ``mock.fieldValidationMode`` checks a mocked ``result`` against the output
shape of the API the Task calls [botocore: MockInput]:

- ``STRICT`` (the default): the shape's required fields are present, and every present
  field conforms to the shape;
- ``PRESENT``: every present field conforms;
- ``NONE``: nothing is checked.

What conforms, as recorded against AWS (localstack
``tests/aws/services/stepfunctions/v2/test_state/test_field_validation_mode*.snapshot.json``):
only fields the shape names are checked (others pass); field names are the shape's member
names with a capital first letter (``ExecutionArn`` for Step Functions'
``executionArn``), as Step Functions writes them; strings, timestamps and blobs must be
JSON strings; integers, longs, floats and doubles JSON numbers; lists arrays; enums one of
their values; blob and string lengths and number ranges within the model's ``min``/``max``.
A problem names the field alone, not its path: ``Field 'EventId' must be a string``.
Beyond the recordings (same wording, unverified): a structure or map must be an object
(``must be an object``), a boolean a JSON boolean (``must be a boolean``), a string at most
its maximum length (``exceeds the maximum length``); a null field counts as absent; a
result that is not an object at all is reported as ``Mocked result must be a JSON object.``
(AWS's wording for that problem in a Map state's mock).

Which API a resource calls: ``aws-sdk:SERVICE:ACTION`` is that operation of that SDK
service (SDK names such as ``sfn`` or ``eventbridge`` mapped to botocore's); an optimized
integration ``arn:aws:states:::SERVICE:ACTION`` is the same operation of the service
(``states`` is Step Functions, ``bedrock:invokeModel`` is Bedrock Runtime). Resources
with no API shape are not checked: a Lambda function ARN (its result is the function's
own), activities, ``http:invoke``, ``.waitForTaskToken`` (the result is whatever the
callback sends) and ``.sync``/``.sync:2`` (the result is a later Describe call's, which
Step Functions reshapes), and services or actions botocore does not know.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Literal

from integrations.base import Resource

__all__ = ["MODES", "FieldValidationMode", "check_output", "output_shape"]

_log = logging.getLogger(__name__)

FieldValidationMode = Literal["STRICT", "PRESENT", "NONE"]
MODES: tuple[FieldValidationMode, ...] = ("STRICT", "PRESENT", "NONE")
NOT_AN_OBJECT = "Mocked result must be a JSON object."

# Optimized integrations whose service is not botocore's name; the first that has the
# operation wins.
_OPTIMIZED: dict[str, tuple[str, ...]] = {
    "states": ("stepfunctions",),
    "bedrock": ("bedrock-runtime", "bedrock"),
    "elasticmapreduce": ("emr",),
}
# AWS SDK integration service names (the Java SDK's) that are not botocore's name with
# its dashes removed.
_SDK: dict[str, str] = {
    "sfn": "stepfunctions",
    "eventbridge": "events",
    "cloudwatchevents": "events",
    "cloudwatchlogs": "logs",
    "elasticloadbalancingv2": "elbv2",
    "elasticloadbalancing": "elb",
    "costexplorer": "ce",
    "databasemigration": "dms",
    "cognitoidentityprovider": "cognito-idp",
    "lexruntime": "lex-runtime",
    "lexmodelbuilding": "lex-models",
    "marketplacemetering": "meteringmarketplace",
    "migrationhub": "mgh",
    "iot1clickdevices": "iot1click-devices",
    "iot1clickprojects": "iot1click-projects",
}


def output_shape(resource: Resource) -> Any | None:
    """The botocore output shape of the API a Task resource calls, or None when it has none."""
    if resource.kind != "task" or resource.pattern != "request-response":
        return None
    if resource.resource_type.startswith("aws-sdk:"):
        sdk_name = resource.resource_type.removeprefix("aws-sdk:")
        services: tuple[str, ...] = (_SDK.get(sdk_name) or _by_plain_name(sdk_name) or sdk_name,)
    else:
        name = resource.resource_type
        services = _OPTIMIZED.get(name, (name,))
    for service in services:
        model = _service_model(service)
        operation = _operation(model, resource.resource_name) if model is not None else None
        if operation is not None:
            return operation.output_shape
    return None


def check_output(resource: Resource, value: Any, mode: FieldValidationMode) -> list[str]:
    """What is wrong with ``value`` as the result of ``resource``'s API, in AWS's words.

    An empty list when it conforms, when ``mode`` is ``NONE`` or when the resource has no
    known shape.
    """
    if mode not in MODES:
        raise ValueError(f"fieldValidationMode must be one of {list(MODES)}, not {mode!r}")
    if mode == "NONE":
        return []
    shape = output_shape(resource)
    if shape is None:
        return []
    if not isinstance(value, dict):
        return [NOT_AN_OBJECT]
    problems: list[str] = []
    _check_structure(shape, value, "", mode == "STRICT", problems)
    return problems


# ---------------------------------------------------------------------------------------
# botocore's models, loaded on first use.


@functools.cache
def _loader() -> Any:
    from botocore.loaders import create_loader

    return create_loader()


@functools.cache
def _plain_names() -> dict[str, str]:
    """botocore service names by the name with dashes removed (``bedrockruntime``)."""
    names = _loader().list_available_services("service-2")
    return {name.replace("-", ""): name for name in names}


def _by_plain_name(name: str) -> str | None:
    return _plain_names().get(name.replace("-", "").lower())


@functools.cache
def _service_model(service: str) -> Any | None:
    from botocore.exceptions import DataNotFoundError
    from botocore.model import ServiceModel

    try:
        return ServiceModel(_loader().load_service_model(service, "service-2"), service)
    except DataNotFoundError:
        _log.debug("botocore has no service %s", service)
        return None


def _operation(model: Any, action: str) -> Any | None:
    names = _operation_names(model)
    name = names.get(action.lower())
    return model.operation_model(name) if name is not None else None


@functools.cache
def _operation_names(model: Any) -> dict[str, str]:
    return {name.lower(): name for name in model.operation_names}


# ---------------------------------------------------------------------------------------
# The checks, one per shape type.


def _field_name(member: str) -> str:
    return member[:1].upper() + member[1:]


def _check(shape: Any, value: Any, name: str, strict: bool, problems: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"Field '{name}' must be an object")
        else:
            _check_structure(shape, value, name, strict, problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"Field '{name}' must be an array")
        else:
            for item in value:
                if item is not None:
                    _check(shape.member, item, name, strict, problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"Field '{name}' must be an object")
        else:
            for item in value.values():
                if item is not None:
                    _check(shape.value, item, name, strict, problems)
    elif kind in ("string", "blob", "timestamp"):
        _check_text(shape, value, name, problems)
    elif kind in ("integer", "long", "float", "double"):
        _check_number(shape, value, name, problems)
    elif kind == "boolean" and not isinstance(value, bool):
        problems.append(f"Field '{name}' must be a boolean")


def _check_structure(
    shape: Any, value: dict[str, Any], name: str, strict: bool, problems: list[str]
) -> None:
    if strict:
        for member in shape.required_members:
            if value.get(_field_name(member)) is None:
                problems.append(f"Required field '{_field_name(member)}' is missing")
    for member, member_shape in shape.members.items():
        field_name = _field_name(member)
        item = value.get(field_name)
        if item is not None:
            _check(member_shape, item, field_name, strict, problems)


def _check_text(shape: Any, value: Any, name: str, problems: list[str]) -> None:
    if not isinstance(value, str):
        problems.append(f"Field '{name}' must be a string")
        return
    if shape.type_name == "timestamp":
        return
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        problems.append(f"Field '{name}' is not an expected value")
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if isinstance(low, int) and len(value) < low:
        problems.append(f"Field '{name}' is smaller than the minimum length")
    if isinstance(high, int) and len(value) > high:
        problems.append(f"Field '{name}' exceeds the maximum length")


def _check_number(shape: Any, value: Any, name: str, problems: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"Field '{name}' must be a number")
        return
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if isinstance(low, int | float) and value < low:
        problems.append(f"Field '{name}' is less than the minimum value")
    if isinstance(high, int | float) and value > high:
        problems.append(f"Field '{name}' exceeds the maximum value")
