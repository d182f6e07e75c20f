"""Rules about what a Task calls and as whom: the shape of its Resource ARN, the actions
and integration patterns (``.sync``, ``.sync:2``, ``.waitForTaskToken``) each optimized
integration offers, the role of its ``Credentials``, and the fields of an HTTP Task
(``arn:aws:states:::http:invoke``).

Sources and choices:

- Resource shapes and patterns: AWS's tables of optimized and SDK integrations
  (https://docs.aws.amazon.com/step-functions/latest/dg/integrate-optimized.html) and each
  optimized service's page (connect-<service>.html): SDK integrations offer
  request-response and ``.waitForTaskToken`` only; an optimized integration has only the
  actions its page lists (``dynamodb:query`` is not one: AWS refuses it as INVALID_RESOURCE,
  recorded; the SDK integration ``aws-sdk:dynamodb:query`` has it), each with the patterns
  the page gives; ``.sync:2`` is Step Functions' own (``states:startExecution``,
  connect-stepfunctions). A refused Resource is reported with the same INVALID_RESOURCE
  message the generic ARN check uses (AWS's "not recognized" wording). Unlike AWS, a
  service this table does not know (``arn:aws:states:::mine:doIt``) is accepted: the
  engine's integration registry lets users plug their own in, and an unknown one fails at
  run time. ARNs of other namespaces (``arn:aws:swf:...``) are left to the generic check in
  ``rules_states``.
- ``Credentials`` names the role to assume in ``RoleArn`` (``RoleArn.$`` in JSONPath);
  without one AWS refuses the definition with "The field 'RoleArn' is required but was
  missing" at the Credentials object (recorded, localstack
  ``test_credentials_base.py::test_invalid_credentials_field``). Other fields in it are
  not judged: what AWS says of them is not recorded.
- HTTP Task fields: https://docs.aws.amazon.com/step-functions/latest/dg/call-https-apis.html
  (``ApiEndpoint``, ``Method``, a connection in ``Authentication.ConnectionArn`` or, for a
  private API, ``InvocationConfig.ConnectionArn``; ``Transform``; the refused headers).
  The refused-headers message is AWS's (console, 2025-04) and is placed, as AWS places it,
  at the state's Parameters (Arguments). The other messages are ours, in the words AWS
  uses for its schema checks (``These fields are required: [...]``,
  ``The field 'X' should have one of these values: [...]``). Only static values are
  checked: a ``.$`` field (JSONPath) or a ``{% %}`` string (JSONata) is known at run time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from asl.diagnostics import INVALID_RESOURCE, SCHEMA_VALIDATION_FAILED
from asl.graph import Location
from asl.http_task import (
    ARRAY_FORMATS,
    CONNECTION_ARN,
    FORBIDDEN_HEADER_PREFIXES,
    FORBIDDEN_HEADERS,
    HTTP_METHODS,
    REQUEST_BODY_ENCODINGS,
    is_forbidden_header,
)
from asl.validate._base import JSONATA, Report, StateInfo, field_list, state_rule

__all__ = [
    "ARRAY_FORMATS",
    "CONNECTION_ARN",
    "FORBIDDEN_HEADERS",
    "FORBIDDEN_HEADER_PREFIXES",
    "HTTP_METHODS",
    "OPTIMIZED",
    "REQUEST_BODY_ENCODINGS",
    "is_forbidden_header",
    "resource_problem",
]

_SCHEMA = SCHEMA_VALIDATION_FAILED

# --- Task resources --------------------------------------------------------------------

SYNC: Final = ".sync"
SYNC2: Final = ".sync:2"
WAIT: Final = ".waitForTaskToken"
_PATTERNS: Final = frozenset({"", SYNC, SYNC2, WAIT})


def _offers(
    *actions: str, sync: tuple[str, ...] = (), every: frozenset[str] = frozenset()
) -> Mapping[str, frozenset[str]]:
    """Action -> the patterns it offers beyond request-response: ``.sync`` for the
    actions named in ``sync``, and ``every`` for all of them."""
    return {action: every | ({SYNC} if action in sync else set()) for action in actions}


_CALLBACK: Final = frozenset({WAIT})
# The EKS actions with a .sync variant: all but ``call`` (connect-eks).
_EKS_JOBS: Final = (
    "createCluster",
    "deleteCluster",
    "createFargateProfile",
    "deleteFargateProfile",
    "createNodegroup",
    "deleteNodegroup",
    "runJob",
)
# Every EMR Serverless action has a .sync variant (connect-emr-serverless).
_EMR_SERVERLESS: Final = (
    "createApplication",
    "startApplication",
    "stopApplication",
    "deleteApplication",
    "startJobRun",
    "cancelJobRun",
)

#: The optimized integrations: by the service name their Resource uses, each action and
#: the patterns it offers beyond request-response. Actions and their ``.sync`` support
#: come from each service's page under "Integrating optimized services"
#: (connect-<service>.html); ``.waitForTaskToken`` from the table on integrate-optimized
#: ("Optimized integrations in Step Functions"), which grants it per service. Where that
#: table and a service's own page disagree (Bedrock and EKS: the table offers the
#: callback, their pages do not), the table's wider grant is kept so a definition AWS may
#: accept is never refused here.
OPTIMIZED: Final[Mapping[str, Mapping[str, frozenset[str]]]] = {
    "apigateway": _offers("invoke", every=_CALLBACK),
    "athena": _offers(
        "startQueryExecution",
        "stopQueryExecution",
        "getQueryExecution",
        "getQueryResults",
        sync=("startQueryExecution",),
    ),
    "batch": _offers("submitJob", sync=("submitJob",)),
    "bedrock": _offers(
        "invokeModel",
        "createModelCustomizationJob",
        sync=("createModelCustomizationJob",),
        every=_CALLBACK,
    ),
    "codebuild": _offers(
        "startBuild",
        "stopBuild",
        "batchDeleteBuilds",
        "batchGetReports",
        "startBuildBatch",
        "stopBuildBatch",
        "retryBuildBatch",
        "deleteBuildBatch",
        sync=("startBuild", "startBuildBatch", "retryBuildBatch"),
    ),
    "databrew": _offers("startJobRun", sync=("startJobRun",)),
    "dynamodb": _offers("getItem", "putItem", "updateItem", "deleteItem"),
    "ecs": _offers("runTask", sync=("runTask",), every=_CALLBACK),
    "eks": _offers(*_EKS_JOBS, "call", sync=_EKS_JOBS, every=_CALLBACK),
    "elasticmapreduce": _offers(
        "createCluster",
        "setClusterTerminationProtection",
        "terminateCluster",
        "addStep",
        "cancelStep",
        "modifyInstanceFleetByName",
        "modifyInstanceGroupByName",
        sync=("createCluster", "terminateCluster", "addStep"),
    ),
    "emr-containers": _offers(
        "createVirtualCluster",
        "deleteVirtualCluster",
        "startJobRun",
        sync=("deleteVirtualCluster", "startJobRun"),
    ),
    "emr-serverless": _offers(*_EMR_SERVERLESS, sync=_EMR_SERVERLESS),
    "events": _offers("putEvents", every=_CALLBACK),
    "glue": _offers("startJobRun", sync=("startJobRun",)),
    "lambda": _offers("invoke", every=_CALLBACK),
    "mediaconvert": _offers("createJob", sync=("createJob",)),
    "sagemaker": _offers(
        "createEndpoint",
        "createEndpointConfig",
        "createHyperParameterTuningJob",
        "createLabelingJob",
        "createModel",
        "createProcessingJob",
        "createTrainingJob",
        "createTransformJob",
        "updateEndpoint",
        sync=(
            "createHyperParameterTuningJob",
            "createLabelingJob",
            "createProcessingJob",
            "createTrainingJob",
            "createTransformJob",
        ),
    ),
    "sns": _offers("publish", every=_CALLBACK),
    "sqs": _offers("sendMessage", every=_CALLBACK),
    # .sync:2 is Step Functions' own (connect-stepfunctions).
    "states": {"startExecution": frozenset({SYNC, SYNC2, WAIT})},
}
_SDK_PATTERNS: Final = frozenset({WAIT})

_PARTITION = r"aws(?:-[a-z]+)*"
_ARN_HEAD = re.compile(rf"arn:{_PARTITION}:(lambda|states):")
_FUNCTION = re.compile(
    rf"arn:{_PARTITION}:lambda:[a-z0-9-]+:\d+:function:[A-Za-z0-9_-]+(?::[A-Za-z0-9_$-]+)?"
)
_ACTIVITY = re.compile(rf"arn:{_PARTITION}:states:[a-z0-9-]+:\d+:activity:[^\s:]+")
_SERVICE = re.compile(r"[a-z0-9][a-z0-9-]*")
_ACTION = re.compile(r"([A-Za-z][A-Za-z0-9]*)(\..*)?", re.DOTALL)


def _not_recognized(resource: str) -> str:
    return (
        f"The resource provided {resource} is not recognized. The value is not a valid "
        "resource ARN, or the resource is not available in this region."
    )


def resource_problem(resource: str) -> str | None:
    """Why a Task Resource in the ``lambda`` or ``states`` namespace is refused, or None.

    Resources of other namespaces, and strings that are not ARNs at all, are not judged
    here (the generic ARN rule reports those).
    """
    head = _ARN_HEAD.match(resource)
    if head is None:
        return None
    if head[1] == "lambda":
        return None if _FUNCTION.fullmatch(resource) else _not_recognized(resource)
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return _not_recognized(resource)
    if parts[3] or parts[4]:  # a region or an account: only an activity is a Task
        return None if _ACTIVITY.fullmatch(resource) else _not_recognized(resource)
    return None if _integration_ok(parts[5]) else _not_recognized(resource)


def _integration_ok(rest: str) -> bool:
    """``SERVICE:ACTION[pattern]`` or ``aws-sdk:SERVICE:ACTION[pattern]``: an action the
    integration has, with a pattern it offers."""
    service, _, action = rest.partition(":")
    sdk = service == "aws-sdk"
    if sdk:
        service, _, action = action.partition(":")
    match = _ACTION.fullmatch(action)
    if not _SERVICE.fullmatch(service) or match is None:
        return False
    pattern = match[2] or ""
    if pattern not in _PATTERNS:
        return False
    if sdk:
        return pattern in _SDK_PATTERNS or not pattern
    actions = OPTIMIZED.get(service)
    if actions is None:  # not an AWS integration: one registered locally, or none at all
        return True
    offered = actions.get(match[1])
    return offered is not None and (not pattern or pattern in offered)


@state_rule(INVALID_RESOURCE, "Task")
def resource_is_known(state: StateInfo, report: Report) -> None:
    """A Lambda function, an activity, or an integration with a pattern it offers."""
    resource = state.doc.get("Resource")
    if isinstance(resource, str):
        problem = resource_problem(resource)
        if problem is not None:
            report(problem, state.at("Resource"))


@state_rule(_SCHEMA, "Task")
def credentials_name_a_role(state: StateInfo, report: Report) -> None:
    """``Credentials`` holds ``RoleArn`` (or, in JSONPath, ``RoleArn.$``)."""
    credentials = state.doc.get("Credentials")
    if not isinstance(credentials, Mapping):  # absent, or a JSONata expression
        return
    names = ("RoleArn",) if state.language == JSONATA else ("RoleArn", "RoleArn.$")
    if not any(name in credentials for name in names):
        report("The field 'RoleArn' is required but was missing", state.at("Credentials"))


# --- HTTP Task -------------------------------------------------------------------------

_HTTP = re.compile(rf"arn:{_PARTITION}:states:::http:invoke(\..*)?", re.DOTALL)
# A value known only at run time.
_DYNAMIC: Any = object()
_ABSENT: Any = object()


def _one_of(field: str, values: tuple[str, ...]) -> str:
    return f"The field '{field}' should have one of these values: {field_list(values)}"


class _Fields:
    """Reads the fields of an HTTP Task's payload template, static or known at run time."""

    def __init__(self, language: str) -> None:
        self.jsonata = language == JSONATA

    def get(self, obj: Mapping[str, Any], name: str) -> Any:
        """The static value, :data:`_DYNAMIC`, or :data:`_ABSENT`."""
        if name in obj:
            value = obj[name]
            return _DYNAMIC if self.jsonata and _is_expression(value) else value
        if not self.jsonata and f"{name}.$" in obj:
            return _DYNAMIC
        return _ABSENT

    def header_name(self, key: str) -> str:
        """The header a key of ``Headers`` sets."""
        return key[:-2] if not self.jsonata and key.endswith(".$") else key


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 4 and value[:2] == "{%" and value[-2:] == "%}"


@state_rule(_SCHEMA, "Task")
def http_task_fields(state: StateInfo, report: Report) -> None:
    """An HTTP Task names its endpoint, method and connection; static values are valid."""
    resource = state.doc.get("Resource")
    if not isinstance(resource, str) or not _HTTP.fullmatch(resource):
        return
    holder = "Arguments" if state.language == JSONATA else "Parameters"
    fields = _Fields(state.language)
    payload = fields.get(state.doc, holder)
    if payload is _ABSENT:
        report(f"These fields are required: [{holder}]", state.loc)
        return
    if not isinstance(payload, Mapping):  # known at run time, or reported by the schema
        return
    where = state.at(holder)
    _required(payload, fields, where, report)
    method = fields.get(payload, "Method")
    if _static(method) and method not in HTTP_METHODS:
        report(_one_of("Method", HTTP_METHODS), (*where, "Method"))
    _headers(payload, fields, where, report)
    _transform(fields.get(payload, "Transform"), fields, (*where, "Transform"), report)
    for name in ("Authentication", "InvocationConfig"):
        _connection(fields.get(payload, name), fields, (*where, name), report)


def _required(payload: Mapping[str, Any], fields: _Fields, where: Location, report: Report) -> None:
    missing = [name for name in ("ApiEndpoint", "Method") if fields.get(payload, name) is _ABSENT]
    holders = [fields.get(payload, name) for name in ("Authentication", "InvocationConfig")]
    if all(value is _ABSENT for value in holders):
        missing.append("Authentication")
    if missing:
        report(f"These fields are required: {field_list(missing)}", where)
    authentication, invocation = holders
    if (
        isinstance(authentication, Mapping)
        and not _has_connection(invocation, fields)
        and fields.get(authentication, "ConnectionArn") is _ABSENT
    ):
        report("These fields are required: [ConnectionArn]", (*where, "Authentication"))


def _has_connection(holder: Any, fields: _Fields) -> bool:
    if holder is _DYNAMIC:
        return True
    return isinstance(holder, Mapping) and fields.get(holder, "ConnectionArn") is not _ABSENT


def _connection(holder: Any, fields: _Fields, where: Location, report: Report) -> None:
    arn = fields.get(holder, "ConnectionArn") if isinstance(holder, Mapping) else _ABSENT
    if arn is _ABSENT or arn is _DYNAMIC:
        return
    if not isinstance(arn, str) or not CONNECTION_ARN.fullmatch(arn):
        report(
            "The field 'ConnectionArn' should be the ARN of an EventBridge connection "
            "(arn:aws:events:<region>:<account>:connection/<name>/<id>)",
            (*where, "ConnectionArn"),
        )


def _headers(payload: Mapping[str, Any], fields: _Fields, where: Location, report: Report) -> None:
    headers = fields.get(payload, "Headers")
    if not isinstance(headers, Mapping):
        return
    names = (fields.header_name(str(key)) for key in headers)
    refused = [name.lower() for name in names if is_forbidden_header(name)]
    if refused:
        report(f"The 'Headers' field contains unsupported values: {field_list(refused)}", where)


def _transform(transform: Any, fields: _Fields, where: Location, report: Report) -> None:
    if not isinstance(transform, Mapping):
        return
    encoding = fields.get(transform, "RequestBodyEncoding")
    if _static(encoding) and encoding not in REQUEST_BODY_ENCODINGS:
        report(
            _one_of("RequestBodyEncoding", REQUEST_BODY_ENCODINGS),
            (*where, "RequestBodyEncoding"),
        )
    options = fields.get(transform, "RequestEncodingOptions")
    if not isinstance(options, Mapping):
        return
    array_format = fields.get(options, "ArrayFormat")
    if _static(array_format) and array_format not in ARRAY_FORMATS:
        report(
            _one_of("ArrayFormat", ARRAY_FORMATS),
            (*where, "RequestEncodingOptions", "ArrayFormat"),
        )


def _static(value: Any) -> bool:
    return value is not _ABSENT and value is not _DYNAMIC
