"""Task resource and HTTP Task rules beyond the spec cases: the pattern table, what is left
to the engine's registry, agreement with the HTTP integration, and robustness."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import asl
from asl.errors import StatesError
from asl.validate._base import STATE_RULES
from asl.validate.rules_task import (
    ARRAY_FORMATS,
    CONNECTION_ARN,
    FORBIDDEN_HEADER_PREFIXES,
    FORBIDDEN_HEADERS,
    HTTP_METHODS,
    OPTIMIZED,
    http_task_fields,
    is_forbidden_header,
    resource_is_known,
    resource_problem,
)
from integrations import http as http_integration
from integrations.connections import CONNECTION_ARN as RUNTIME_CONNECTION_ARN

PATTERNS = ("", ".sync", ".sync:2", ".waitForTaskToken")
CONN = "arn:aws:events:us-east-1:123456789012:connection/api/0a1b2c3d"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def _not_recognized(resource: str) -> str:
    return (
        f"The resource provided {resource} is not recognized. The value is not a valid "
        "resource ARN, or the resource is not available in this region."
    )


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    return {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": resource, **fields, "End": True}},
    }


def _errors(definition: Any) -> list[tuple[str, str | None, str]]:
    return [
        (d.code, d.location, d.message) for d in asl.validate(definition) if d.severity == "ERROR"
    ]


def test_the_rules_are_registered() -> None:
    checks = {rule.check for rule in STATE_RULES}
    assert {resource_is_known, http_task_fields} <= checks


ACTIONS = sorted((service, action) for service, actions in OPTIMIZED.items() for action in actions)


@pytest.mark.parametrize(("service", "action"), ACTIONS, ids=[f"{s}:{a}" for s, a in ACTIONS])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_each_optimized_action_offers_the_patterns_of_its_page(
    service: str, action: str, pattern: str
) -> None:
    resource = f"arn:aws:states:::{service}:{action}{pattern}"
    offered = pattern == "" or pattern in OPTIMIZED[service][action]
    assert (resource_problem(resource) is None) == offered


@pytest.mark.parametrize("service", sorted(OPTIMIZED))
def test_an_action_an_optimized_integration_lacks_is_refused(service: str) -> None:
    resource = f"arn:aws:states:::{service}:listEverything"
    assert resource_problem(resource) == _not_recognized(resource)


def test_dynamodb_query_is_the_sdk_integrations_not_the_optimized_ones() -> None:
    assert resource_problem("arn:aws:states:::aws-sdk:dynamodb:query") is None
    assert resource_problem("arn:aws:states:::dynamodb:query") is not None


@pytest.mark.parametrize(
    ("pattern", "offered"),
    [("", True), (".waitForTaskToken", True), (".sync", False), (".sync:2", False)],
)
def test_sdk_integrations_offer_request_response_and_callbacks(pattern: str, offered: bool) -> None:
    assert (resource_problem(f"arn:aws:states:::aws-sdk:s3:getObject{pattern}") is None) == offered


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::test:work",  # a locally registered integration
        "arn:aws:states:::nosuchservice:doIt.sync",  # fails at run time, not here
        "arn:aws:states:::aws-sdk:s3:noSuchAction",
        "arn:aws:swf:us-east-1:123456789012:task:X",  # other namespaces: the generic rule
        "createToken",  # not an ARN: the generic rule
        "arn:aws:lambda:local:000000000000:function:who:live",
        "arn:aws-us-gov:states:us-gov-west-1:123456789012:activity:a.b-c",
    ],
)
def test_what_this_rule_leaves_alone(resource: str) -> None:
    assert resource_problem(resource) is None


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::",
        "arn:aws:states:::lambda:",
        "arn:aws:states:::lambda:invoke.",
        "arn:aws:states::::invoke",
        "arn:aws:states:::aws-sdk::getObject",
        "arn:aws:states:us-east-1:123456789012:execution:m:e",
        "arn:aws:states:us-east-1::activity:a",
        "arn:aws:lambda:us-east-1:123456789012:function:",
        "arn:aws:lambda:us-east-1:123456789012:function:f:live:extra",
    ],
)
def test_malformed_resources_in_known_namespaces(resource: str) -> None:
    assert resource_problem(resource) == _not_recognized(resource)


def test_a_resource_with_spaces_is_reported_once() -> None:
    resource = "arn:aws:states:::lambda:invoke .sync"
    errors = _errors(_task(resource))
    assert errors == [("INVALID_RESOURCE", "/States/T/Resource", _not_recognized(resource))]


def test_http_diagnostics_are_placed_at_line_and_column() -> None:
    text = (
        '{"StartAt": "H", "States": {"H": {"Type": "Task",\n'
        '  "Resource": "arn:aws:states:::http:invoke",\n'
        '  "Parameters": {"ApiEndpoint": "https://x", "Method": "GET",\n'
        '    "Authentication": {"ConnectionArn": "' + CONN + '"},\n'
        '    "Headers": {"Host": "h"}}, "End": true}}}'
    )
    (diag,) = asl.validate(text)
    assert (diag.location, diag.line) == ("/States/H/Parameters", 3)


def test_a_non_http_task_is_not_read_as_one() -> None:
    definition = _task("arn:aws:states:::lambda:invoke", Parameters={"Headers": {"Host": "h"}})
    assert _errors(definition) == []


def test_the_method_list_agrees_with_the_integration() -> None:
    assert HTTP_METHODS == http_integration.METHODS
    assert ARRAY_FORMATS == http_integration.ARRAY_FORMATS


@pytest.mark.parametrize("name", [*sorted(FORBIDDEN_HEADERS), "x-amz-date", "X-Forwarded-Host"])
def test_refused_headers_agree_with_the_integration(name: str) -> None:
    assert is_forbidden_header(name.upper())
    parameters = {
        "ApiEndpoint": "https://x",
        "Method": "GET",
        "Authentication": {"ConnectionArn": CONN},
        "Headers": {name: "v"},
    }
    with pytest.raises(StatesError) as raised:
        http_integration.parse_call(parameters)
    assert (
        raised.value.cause == f"The 'Headers' field contains unsupported values: [{name.lower()}]"
    )


def test_ordinary_headers_are_allowed() -> None:
    for name in ("Content-Type", "Accept", "X-Amzn", "X-Forwarded", "X-Custom", "User-Agent"):
        assert not is_forbidden_header(name), name
    assert all(prefix.endswith("-") for prefix in FORBIDDEN_HEADER_PREFIXES)


@pytest.mark.parametrize(
    "arn",
    [
        CONN,
        "arn:aws-cn:events:cn-north-1:123456789012:connection/a.b_c-d/1",
        "arn:aws:events:us-east-1::connection/a/1",
        "arn:aws:events:us-east-1:123456789012:connection/a",
        "arn:aws:events:us-east-1:123:connection/a/1",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:a",
    ],
)
def test_connection_arns_agree_with_the_integration(arn: str) -> None:
    assert bool(CONNECTION_ARN.fullmatch(arn)) == bool(RUNTIME_CONNECTION_ARN.match(arn))


@settings(max_examples=200)
@given(resource=st.text(max_size=60) | st.from_regex(r"arn:aws:(states|lambda):[a-z:.0-9-]{0,30}"))
def test_resource_problem_never_raises(resource: str) -> None:
    problem = resource_problem(resource)
    assert problem is None or problem == _not_recognized(resource)


@settings(max_examples=200)
@given(
    parameters=st.dictionaries(
        st.sampled_from(
            [
                "ApiEndpoint",
                "Method",
                "Method.$",
                "Authentication",
                "InvocationConfig",
                "Headers",
                "Headers.$",
                "Transform",
                "RequestBody",
            ]
        ),
        JSON,
        max_size=6,
    ),
    jsonata=st.booleans(),
)
def test_http_rules_never_raise(parameters: dict[str, Any], jsonata: bool) -> None:
    holder = "Arguments" if jsonata else "Parameters"
    definition = _task("arn:aws:states:::http:invoke", **{holder: parameters})
    if jsonata:
        definition["QueryLanguage"] = "JSONata"
    for diagnostic in asl.validate(definition):
        assert diagnostic.code
