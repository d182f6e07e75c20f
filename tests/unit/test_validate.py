"""The validator beyond the spec cases: placement, depth, one pass, the rule registry."""

from __future__ import annotations

import json
from typing import Any

import pytest

import asl
from asl import diagnostics as codes
from asl.diagnostics import DefinitionError
from asl.loader import parse_text
from asl.paths import check_path
from asl.validate import MAX_DEPTH, too_deep, validate_document
from asl.validate._base import STATE_RULES, aws_location
from asl.validate._schema import check_state
from asl.validate.rules_fields import valid_path
from asl.validate.rules_graph import GRAPH_RULES

BAD_NEXT = """{
  "StartAt": "A",
  "States": {
    "A": {
      "Type": "Choice",
      "Choices": [
        {"Variable": "$.x", "IsPresent": true, "Next": "Ghost"}
      ],
      "Default": "B"
    },
    "B": {"Type": "Pass", "End": true}
  }
}
"""


def _errors(definition: Any, **kwargs: Any) -> list[tuple[str, str | None]]:
    return [
        (d.code, d.location) for d in asl.validate(definition, **kwargs) if d.severity == "ERROR"
    ]


def test_json_text_diagnostics_are_placed_at_line_and_column() -> None:
    (diag,) = asl.validate(BAD_NEXT)
    assert diag.location == "/States/A/Choices[0]/Next"
    assert (diag.line, diag.column) == (7, 56)


def test_yaml_text_diagnostics_are_placed_at_line_and_column() -> None:
    text = "StartAt: A\nStates:\n  A:\n    Type: Pass\n    Next: Ghost\n"
    found = asl.validate(text)
    missing = next(d for d in found if d.code == codes.MISSING_TRANSITION_TARGET)
    assert (missing.location, missing.line, missing.column) == ("/States/A/Next", 5, 11)
    end = next(d for d in found if d.code == codes.MISSING_END_STATE)
    assert (end.location, end.line) == (None, None)


def test_root_diagnostics_are_placed_at_the_start() -> None:
    (diag,) = asl.validate('\n  {"StartAt": "A"}')
    assert (diag.location, diag.line, diag.column) == ("/", 2, 3)


def test_a_dict_source_has_no_positions() -> None:
    (diag,) = asl.validate(json.loads(BAD_NEXT))
    assert (diag.line, diag.column) == (None, None)


def test_locations_are_spelt_as_aws_spells_them() -> None:
    assert aws_location(()) == "/"
    assert aws_location(("States", "P", "Branches", 0, "States", "a/b")) == (
        "/States/P/Branches[0]/States/a/b"
    )


def test_every_problem_in_one_pass() -> None:
    definition = {
        "StartAt": "A",
        "Bogus": 1,
        "States": {
            "A": {"Type": "Pass", "Next": "Nowhere"},
            "B": {"Type": "Wait", "End": True},
            "C": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e"},
        },
    }
    assert sorted(_errors(definition)) == sorted(
        [
            (codes.SCHEMA_VALIDATION_FAILED, "/"),
            (codes.MISSING_TRANSITION_TARGET, "/States/A/Next"),
            (codes.SCHEMA_VALIDATION_FAILED, "/States/B"),
            (codes.SCHEMA_VALIDATION_FAILED, "/States/C"),
            (codes.MISSING_TRANSITION_TARGET, "/States/B"),
            (codes.MISSING_TRANSITION_TARGET, "/States/C"),
        ]
    )


def test_the_same_definition_gives_the_same_diagnostics_in_the_same_order() -> None:
    text = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass"}, "B": 3, "C": {}}})
    assert asl.validate(text) == asl.validate(text)


# --- depth -----------------------------------------------------------------------------


def _nested_not(depth: int) -> dict[str, Any]:
    rule: dict[str, Any] = {"Variable": "$.x", "IsPresent": True}
    for _ in range(depth):
        rule = {"Not": rule}
    return {
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [{**rule, "Next": "D"}], "Default": "D"},
            "D": {"Type": "Succeed"},
        },
    }


def test_ten_thousand_nested_not_rules_are_too_deep_not_a_crash() -> None:
    definition = _nested_not(10_000)
    (diag,) = asl.validate(definition)
    assert diag.code == codes.TOO_DEEPLY_NESTED
    assert diag.location is not None and diag.location.startswith("/States/C/Choices[0]/Not/Not")
    with pytest.raises(DefinitionError) as info:
        asl.load(definition)
    assert info.value.diagnostics[0].code == codes.TOO_DEEPLY_NESTED


def test_depth_limit_is_exact() -> None:
    def nested(depth: int) -> dict[str, Any]:
        value: Any = 1
        for _ in range(depth - 3):  # under the root, States and P
            value = {"k": value}
        return {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": value, "End": True}}}

    assert too_deep(nested(MAX_DEPTH)) is None
    assert too_deep(nested(MAX_DEPTH + 1)) is not None
    assert isinstance(asl.load(nested(MAX_DEPTH)), asl.StateMachine)


def test_deep_but_acceptable_choice_rules_load() -> None:
    assert isinstance(asl.load(_nested_not((MAX_DEPTH - 6) // 2)), asl.StateMachine)


# --- the registry ----------------------------------------------------------------------

_KNOWN_CODES = {
    value for name, value in vars(codes).items() if name.isupper() and isinstance(value, str)
}


def test_every_rule_is_registered_with_a_known_code() -> None:
    assert len(STATE_RULES) >= 15
    for rule in STATE_RULES:
        assert rule.code in _KNOWN_CODES, rule
        assert rule.check.__doc__, rule
    for code, fn in GRAPH_RULES:
        assert code in _KNOWN_CODES
        assert fn.__doc__


def test_rules_report_only_their_own_code() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": "nope", "Next": "F"},
            "F": {"Type": "Fail", "Error": "$.oops"},
        },
    }
    found = {(d.code, d.location) for d in asl.validate(definition)}
    assert (codes.INVALID_RESOURCE, "/States/T/Resource") in found
    assert (codes.NO_PATH, "/States/F/Error") in found


# --- pieces ----------------------------------------------------------------------------


def test_a_type_error_hides_other_errors_of_the_same_value() -> None:
    problems = check_state("JSONPath", "Map", {"Type": "Map", "MaxConcurrency": "x"}, ("M",))
    assert problems == [("Expected value of type [INTEGER]", ("M", "MaxConcurrency"))]


def test_integers_are_not_floats() -> None:
    problems = check_state("JSONPath", "Wait", {"Type": "Wait", "Seconds": 5.0}, ("W",))
    assert problems == [("Expected value of type [INTEGER]", ("W", "Seconds"))]


@pytest.mark.parametrize(
    "text",
    ["$", "$.a", "$.a.b[0].c", "$$", "$$.Execution.Id", "$var", "$var.x[3]", "$[0]", "$.a_1"],
)
def test_plain_paths_need_no_parser_and_agree_with_it(text: str) -> None:
    assert valid_path(text)
    assert check_path(text) is None


@pytest.mark.parametrize(
    ("text", "reference", "input_only", "ok"),
    [
        ("$.a[*]", False, False, True),
        ("$.a[*]", True, False, False),
        ("$$.Execution.Input", True, False, True),
        ("$$.Execution.Input", True, True, False),
        ("$v", True, True, False),
        ("$['a b']", True, True, True),
        ("a.b", False, False, False),
        ("$.a[", False, False, False),
    ],
)
def test_path_kinds(text: str, reference: bool, input_only: bool, ok: bool) -> None:
    assert valid_path(text, reference=reference, input_only=input_only) is ok


def test_machine_type_matters_only_for_express_rules() -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "End": True,
            }
        },
    }
    assert _errors(definition) == []
    assert _errors(definition, machine_type="EXPRESS") == [
        (codes.SCHEMA_VALIDATION_FAILED, "/States/T/Resource")
    ]


def test_validate_document_takes_a_parsed_document() -> None:
    found = validate_document(parse_text(BAD_NEXT), machine_type="STANDARD")
    assert [d.code for d in found] == [codes.MISSING_TRANSITION_TARGET]


def test_a_valid_machine_of_every_state_type_loads() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Result": 0, "Next": "W"},
            "W": {"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z", "Next": "C"},
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Or": [{"Variable": "$.a", "IsNull": True}], "Next": "T"},
                    {"Variable": "$.b", "StringEqualsPath": "$.c", "Next": "M"},
                ],
                "Default": "F",
            },
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 1}],
                "Next": "Par",
            },
            "Par": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "S", "States": {"S": {"Type": "Succeed"}}}],
                "Next": "M",
            },
            "M": {
                "Type": "Map",
                "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject"},
                "ItemBatcher": {"MaxItemsPerBatch": 5},
                "End": True,
            },
            "F": {"Type": "Fail"},
        },
    }
    machine = asl.load(definition)
    assert set(machine.states) == {"P", "W", "C", "T", "Par", "M", "F"}


@pytest.mark.parametrize(
    "name",
    ["States.ALL", "States.Timeout", "States.Http.StatusCode.503", "States.Http.Socket", "Oops"],
)
def test_predefined_and_custom_error_names_are_not_warned_about(name: str) -> None:
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
                "Catch": [{"ErrorEquals": [name], "Next": "F"}],
                "End": True,
            },
            "F": {"Type": "Fail", "Error": name},
        },
    }
    assert [d for d in asl.validate(definition) if d.code == codes.RESERVED_ERROR_NAME] == []
