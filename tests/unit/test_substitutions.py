"""Deploy-time placeholders beyond the spec cases: how text is filled and read, where
warnings go, what ``asl.load`` and the Python API refuse, and the stand-ins of drawings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import asl
from asl import diagnostics as codes
from asl.loader import SubstitutionError, read_document, substitute
from asl.model import Wait
from asl.validate import problems_at
from asl.validate.placeholders import unresolved
from runtime.testing import run
from visualizer.placeholders import with_stand_ins

YAML_WAIT = "StartAt: W\nStates:\n  W:\n    Type: Wait\n    Seconds: ${Delay}\n    End: true\n"
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": "${Delay}", "End": True}}}


def test_values_go_in_as_text_booleans_in_lowercase() -> None:
    text = "a: ${S}\nb: ${N}\nc: ${F}\nd: ${B}\n"
    values = {"S": "x y", "N": 3, "F": 1.5, "B": False}
    assert substitute(text, values) == "a: x y\nb: 3\nc: 1.5\nd: false\n"


def test_any_key_is_replaced_and_unknown_placeholders_are_left() -> None:
    assert substitute("${a.b}-${c}-${Other}", {"a.b": 1, "c": "${a.b}"}) == "1-1-${Other}"


@pytest.mark.parametrize(
    "values", [{"A": "${B}", "B": "${A}"}, {"A": "x${A}"}], ids=["each other", "itself"]
)
def test_values_that_name_each_other_in_a_loop_are_refused(values: dict[str, str]) -> None:
    with pytest.raises(SubstitutionError, match="in a loop"):
        substitute("${A}", values)


def test_a_value_of_another_type_is_refused() -> None:
    with pytest.raises(SubstitutionError, match="the value of A must be a string"):
        asl.validate(WAIT, substitutions={"A": None})  # type: ignore[dict-item]


def test_a_bare_json_placeholder_reads_as_its_text_and_keeps_its_position() -> None:
    line = '  "States": {"W": {"Type": "Wait", "Seconds": ${Delay}, "End": true}}'
    text = f'{{\n  "StartAt": "W",\n{line}\n}}'
    document = read_document(text)
    assert document.value["States"]["W"]["Seconds"] == "${Delay}"
    [warning] = asl.validate(text)
    assert (warning.line, warning.column) == (3, line.index("${") + 1)


def test_placeholders_in_json_strings_are_not_quoted_again() -> None:
    text = '{"a": "x ${A} \\" ${B}", "b": ${C}}'
    assert read_document(text).value == {"a": 'x ${A} " ${B}', "b": "${C}"}


def test_unresolved_names_each_once_in_document_order() -> None:
    value = {"b": ["${One}", "${Two}-${One}"], "a": {"c": "${Three}"}}
    assert unresolved(value) == {"One": ("b", 0), "Two": ("b", 1), "Three": ("a", "c")}


def test_a_placeholder_in_a_key_or_not_a_name_is_not_one() -> None:
    assert unresolved({"${Key}": "x", "c": "${...}", "d": "${1st}", "e": "$${}"}) == {}


def test_without_placeholders_a_placeholder_is_checked_as_the_text_it_is() -> None:
    strict = {d.code for d, _ in problems_at(WAIT, placeholders=False)}
    assert strict == {codes.SCHEMA_VALIDATION_FAILED}
    lenient = {d.code for d, _ in problems_at(WAIT)}
    assert lenient == {codes.UNRESOLVED_PLACEHOLDER}


def test_problems_outside_a_placeholder_are_kept() -> None:
    definition: dict[str, Any] = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": "${Arn}", "TimeoutSeconds": 0, "End": True}},
    }
    found = {(d.code, d.location) for d in asl.validate(definition)}
    assert found == {
        (codes.SCHEMA_VALIDATION_FAILED, "/States/T/TimeoutSeconds"),
        (codes.UNRESOLVED_PLACEHOLDER, "/States/T/Resource"),
    }


def test_load_refuses_a_placeholder_without_a_value() -> None:
    with pytest.raises(asl.DefinitionError) as caught:
        asl.load(WAIT)
    [error] = caught.value.diagnostics
    assert (error.severity, error.code, error.location) == (
        "ERROR",
        codes.UNRESOLVED_PLACEHOLDER,
        "/States/W/Seconds",
    )
    assert error.message == "The placeholder ${Delay} has no value"


def test_load_of_a_file_places_its_placeholders(tmp_path: Path) -> None:
    path = tmp_path / "wait.asl.yaml"
    path.write_text(YAML_WAIT)
    wait = asl.load(path, substitutions={"Delay": 5}).scope.states["W"]
    assert isinstance(wait, Wait) and wait.seconds == 5
    with pytest.raises(asl.DefinitionError) as caught:
        asl.load(path)
    assert (caught.value.diagnostics[0].line, caught.value.diagnostics[0].column) == (5, 14)
    assert str(path) in str(caught.value)


def test_the_python_api_runs_with_substitutions_and_refuses_without() -> None:
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": "${Delay}", "Next": "P"},
            "P": {"Type": "Pass", "Result": "${Greeting}", "End": True},
        },
    }
    text = json.dumps(definition).replace('"${Delay}"', "${Delay}")
    execution = run(text, {}, substitutions={"Delay": 30, "Greeting": "hi"})
    assert (execution.status, execution.output) == ("SUCCEEDED", "hi")
    with pytest.raises(asl.DefinitionError, match="has no value"):
        run(text, {})


def test_a_drawing_stands_in_only_where_a_field_cannot_hold_text() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.n", "NumericGreaterThan": "${Limit}", "Next": "W"},
                    {"Variable": "$.t", "TimestampEquals": "${When}", "Next": "W"},
                ],
                "Default": "W",
            },
            "W": {"Type": "Wait", "Seconds": "${Delay}", "Next": "T"},
            "T": {"Type": "Task", "Resource": "${FunctionArn}", "End": True},
        },
    }
    drawn, stood_in = with_stand_ins(definition)
    assert stood_in == ["Limit", "When", "Delay"]
    assert drawn["States"]["C"]["Choices"][0]["NumericGreaterThan"] == 1
    assert drawn["States"]["C"]["Choices"][1]["TimestampEquals"] == "1970-01-01T00:00:00Z"
    assert drawn["States"]["W"]["Seconds"] == 1
    assert drawn["States"]["T"]["Resource"] == "${FunctionArn}"
    assert definition["States"]["W"]["Seconds"] == "${Delay}"  # the original is untouched
    left = {(d.code, d.location) for d, _ in problems_at(drawn, placeholders=False)}
    assert left == {(codes.INVALID_RESOURCE, "/States/T/Resource")}


def test_a_dict_is_filled_as_a_definition_object_a_quoted_placeholder_stays_text() -> None:
    [error] = asl.validate(WAIT, substitutions={"Delay": 5})
    assert (error.code, error.location) == (codes.SCHEMA_VALIDATION_FAILED, "/States/W/Seconds")
    assert read_document(WAIT, {"Delay": 5}).value["States"]["W"]["Seconds"] == "5"
    assert read_document(WAIT).value is WAIT  # nothing to fill: the dict itself
