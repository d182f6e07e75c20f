"""Short readable text for Choice rules, Retry, Catch, Tasks, Waits and Maps."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from asl import model as m
from asl.compile import build_machine
from visualizer import describe, labels
from visualizer.trace import Trace


def _rule(rule: dict[str, Any]) -> str:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [{**rule, "Next": "D"}], "Default": "D"},
            "D": {"Type": "Succeed"},
        },
    }
    state = build_machine(definition).states["C"]
    assert isinstance(state, m.Choice)
    return labels.rule_text(state.choices[0])


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({"Variable": "$.amount", "NumericGreaterThan": 100}, "$.amount > 100"),
        ({"Variable": "$.amount", "NumericLessThanEquals": 0.5}, "$.amount <= 0.5"),
        ({"Variable": "$.n", "NumericEquals": 2.0}, "$.n == 2"),
        ({"Variable": "$.s", "StringEquals": "a b"}, '$.s == "a b"'),
        ({"Variable": "$.s", "StringGreaterThanEquals": "m"}, '$.s >= "m"'),
        ({"Variable": "$.s", "StringEqualsPath": "$.t"}, "$.s == $.t"),
        ({"Variable": "$.f", "StringMatches": "log-*.txt"}, '$.f matches "log-*.txt"'),
        ({"Variable": "$.f", "StringMatches": "a\\\\b\\*"}, '$.f matches "a\\\\b\\*"'),
        ({"Variable": "$.b", "BooleanEquals": False}, "$.b == false"),
        ({"Variable": "$.b", "BooleanEqualsPath": "$.c"}, "$.b == $.c"),
        (
            {"Variable": "$.t", "TimestampLessThan": "2024-01-01T00:00:00Z"},
            '$.t < "2024-01-01T00:00:00Z"',
        ),
        ({"Variable": "$.t", "TimestampGreaterThanPath": "$.u"}, "$.t > $.u"),
        ({"Variable": "$.x", "IsPresent": True}, "$.x is present"),
        ({"Variable": "$.x", "IsPresent": False}, "$.x is absent"),
        ({"Variable": "$.x", "IsNull": True}, "$.x is null"),
        ({"Variable": "$.x", "IsNumeric": False}, "$.x is not numeric"),
        ({"Variable": "$.x", "IsString": True}, "$.x is a string"),
        ({"Variable": "$.x", "IsBoolean": True}, "$.x is a boolean"),
        ({"Variable": "$.x", "IsTimestamp": False}, "$.x is not a timestamp"),
        ({"Variable": "$$.Execution.Name", "StringEquals": "x"}, '$$.Execution.Name == "x"'),
        ({"Variable": "$v", "NumericLessThan": 1}, "$v < 1"),
        ({"Variable": "$.q", "StringEquals": 'say "hi"'}, '$.q == "say \\"hi\\""'),
    ],
)
def test_data_test_rules_read_as_expressions(rule: dict[str, Any], text: str) -> None:
    assert _rule(rule) == text


def test_and_or_not_nest_with_parentheses() -> None:
    condition = m.And(
        rules=(
            m.Or(
                rules=(
                    m.DataTest(variable="$.a", operator="IsNull", value=True),
                    m.DataTest(variable="$.b", operator="IsNull", value=True),
                )
            ),
            m.Not(rule=m.DataTest(variable="$.c", operator="NumericLessThan", value=3)),
            m.Not(rule=m.DataTest(variable="$.d", operator="StringEquals", value="x")),
            m.Not(rule=m.DataTest(variable="$.e", operator="IsPresent", value=True)),
        )
    )
    assert labels.condition_text(condition) == (
        '($.a is null or $.b is null) and not ($.c < 3) and $.d != "x" and $.e is absent'
    )


def test_not_of_a_compound_rule_is_parenthesised() -> None:
    rule = {
        "Not": {"Or": [{"Variable": "$.a", "IsNull": True}, {"Variable": "$.a", "IsString": True}]}
    }
    assert _rule(rule) == "not ($.a is null or $.a is a string)"


def test_long_rules_are_cut_with_an_ellipsis() -> None:
    text = _rule({"Variable": "$.name", "StringEquals": "x" * 200})
    assert len(text) == labels.RULE_MAX
    assert text.endswith(labels.ELLIPSIS)


def test_jsonata_conditions_lose_their_delimiters_and_are_shortened() -> None:
    assert labels.jsonata_text("{% $tier = 'gold' %}") == "$tier = 'gold'"
    assert labels.jsonata_text("{%   $a\n  and $b %}") == "$a and $b"
    long = labels.jsonata_text("{% " + " and ".join(f"$x{i} > {i}" for i in range(20)) + " %}")
    assert len(long) == labels.JSONATA_MAX and long.endswith(labels.ELLIPSIS)
    assert labels.jsonata_text(True) == "true"


def test_retry_text_says_attempts_interval_backoff_cap_jitter_and_errors() -> None:
    retrier = m.Retrier(
        error_equals=("States.Timeout", "Lambda.ServiceException"),
        interval_seconds=2,
        max_attempts=4,
        backoff_rate=1.5,
        max_delay_seconds=90,
        jitter_strategy="FULL",
    )
    assert labels.retry_text(retrier) == "↻ retry 4× 2s ×1.5 ≤1m30s jitter · States.Timeout +1"
    assert (
        labels.retry_text(m.Retrier(error_equals=("A",), max_attempts=0)) == "↻ retry no retry · A"
    )
    assert (
        labels.retry_text(m.Retrier(error_equals=("A",), backoff_rate=1.0)) == "↻ retry 3× 1s · A"
    )


def test_catch_text_lists_error_names_and_counts_the_rest() -> None:
    catcher = m.Catcher(error_equals=("A", "B", "C", "D"), next="X")
    assert labels.catch_text(catcher) == "catch A, B +2"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (60, "1m"),
        (90, "1m30s"),
        (3600, "1h"),
        (172800, "2d"),
        (1.5, "1.5s"),
    ],
)
def test_seconds_text(seconds: float, text: str) -> None:
    assert labels.seconds_text(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 ms"),
        (0.25, "250 ms"),
        (1, "1 s"),
        (12.34, "12.3 s"),
        (61, "1 min 1 s"),
        (120, "2 min"),
        (3720, "1 h 2 min"),
        (90000, "1 d 1 h"),
    ],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert labels.duration_text(seconds) == text


def _state(doc: dict[str, Any]) -> m.State:
    doc = {**doc, "End": True} if doc["Type"] not in ("Succeed", "Fail") else doc
    return build_machine({"StartAt": "S", "States": {"S": doc}}).states["S"]


@pytest.mark.parametrize(
    ("doc", "text"),
    [
        (
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:1:function:f:live"},
            },
            "lambda:invoke · f",
        ),
        (
            {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {}},
            "lambda:invoke",
        ),
        (
            {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"},
            "sqs:sendMessage · callback",
        ),
        ({"Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync"}, "ecs:runTask · sync"),
        (
            {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:list"},
            "lambda · list",
        ),
        (
            {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:approve"},
            "activity · approve",
        ),
        (
            {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Parameters": {"Method": "POST", "ApiEndpoint": "https://x"},
            },
            "http:invoke · POST",
        ),
        ({"Type": "Wait", "Seconds": 300}, "Wait 5m"),
        ({"Type": "Wait", "SecondsPath": "$.delay"}, "Wait $.delays"),
        ({"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z"}, "Wait until 2030-01-01T00:00:00Z"),
        ({"Type": "Wait", "TimestampPath": "$.at"}, "Wait until $.at"),
        ({"Type": "Pass"}, "Pass"),
        ({"Type": "Succeed"}, "Succeed"),
        ({"Type": "Fail", "Error": "Boom"}, "Fail · Boom"),
        ({"Type": "Fail", "ErrorPath": "$.e"}, "Fail · $.e"),
        ({"Type": "Fail"}, "Fail"),
        (
            {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 3,
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            },
            "Map over $.items · 3 at a time",
        ),
        (
            {
                "Type": "Parallel",
                "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}],
            },
            "Parallel · 1 branch",
        ),
    ],
)
def test_captions_say_what_a_state_does(doc: dict[str, Any], text: str) -> None:
    assert labels.caption(_state(doc)) == text


def test_wrap_keeps_words_and_cuts_long_tokens() -> None:
    assert labels.wrap("a bb ccc dddd", 6, 5) == ["a bb", "ccc", "dddd"]
    assert labels.wrap("x" * 12, 5, 5) == ["xxxxx", "xxxxx", "xx"]
    cut = labels.wrap("one two three four five six", 8, 2)
    assert len(cut) == 2 and cut[-1].endswith(labels.ELLIPSIS)


def test_a_long_path_breaks_after_a_dot_not_mid_word() -> None:
    # An edge's Choice rule as the subscription_reminder example draws it: split at the
    # width, it read "$.lookup.subscription.reminder" / "sSent >= 1".
    rule = "$.lookup.subscription.remindersSent >= 1"
    assert labels.wrap(rule, 30, 3) == ["$.lookup.subscription.", "remindersSent >= 1"]
    # A separator too early on the line would leave it mostly empty: split at the width.
    assert labels.wrap("a." + "b" * 20, 10, 5) == ["a.bbbbbbbb", "bbbbbbbbbb", "bb"]
    path = "/srv/app/" + "folder-name/" * 4
    lines = labels.wrap(path, 20, 5)
    assert "".join(lines) == path
    assert all(line[-1] in "/-" for line in lines[:-1])


@pytest.mark.parametrize(
    ("cause", "label"),
    [
        (  # this engine's and AWS's States.Runtime cause: the state is the box itself
            "An error occurred while executing the state 'Read' (entered at the event id #4)."
            " The JSONPath '$.a' specified for the field 'x.$' could not be found in the input"
            " '{}'",
            "The JSONPath '$.a' specified for the field 'x.$' could not be found in the input '{}'",
        ),
        (  # an optimized integration's cause: service, status and request id are for support
            "Requested resource not found (Service: AmazonDynamoDBv2; Status Code: 400; Error"
            " Code: ResourceNotFoundException; Request ID: ABC; Proxy: null)",
            "Requested resource not found",
        ),
        ('{"errorMessage": "card declined", "errorType": "PaymentDeclined"}', "card declined"),
        ("(Service: AmazonSQS; Status Code: 400)", "(Service: AmazonSQS; Status Code: 400)"),
        ("plain words", "plain words"),
    ],
)
def test_cause_labels_keep_the_reason(cause: str, label: str) -> None:
    assert describe.cause_label(cause) == label


def test_a_long_execution_cause_is_wrapped_in_the_headline_not_cut() -> None:
    cause = "The JSONPath '$.customer.address.postcode' could not be found in the input " + (
        '{"customer": {"name": "Ana Silva", "email": "ana@example.com"}}'
    )
    trace = Trace(
        [], [], {}, Counter(), Counter(), Counter(), {}, "FAILED", "States.Runtime", cause
    )
    head, *lines = describe.execution_lines(trace)
    assert head == "Execution FAILED"
    assert len(lines) == 2 and all(len(line) <= describe.HEADLINE_WIDTH for line in lines)
    assert " ".join(lines) == f"States.Runtime: {cause}"
