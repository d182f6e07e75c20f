"""Reading definitions: sources, malformed text, positions."""

from __future__ import annotations

from pathlib import Path

import pytest

import asl
from asl.diagnostics import DefinitionError
from asl.loader import json_positions, parse_text, pointer, read_document
from runtime.definitions import InvalidDefinition, compile_definition

VALID = '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "End": true}\n  }\n}\n'


def test_pointer_escapes_tilde_and_slash() -> None:
    assert pointer("States", "a/b~c", 0) == "/States/a~1b~0c/0"
    assert pointer() == ""


def test_json_positions_are_one_based_lines_and_columns() -> None:
    positions = json_positions(VALID)
    assert positions[""] == (1, 1)
    assert positions["/StartAt"] == (2, 14)
    assert positions["/States/A/End"] == (4, 34)


def test_position_falls_back_to_nearest_parent() -> None:
    doc = parse_text(VALID)
    assert doc.position("/States/A/Next") == doc.position("/States/A") == (4, 10)
    assert doc.position("/") == (1, 1)


def test_yaml_text_has_positions() -> None:
    doc = parse_text("StartAt: A\nStates:\n  A:\n    Type: Pass\n    End: true\n")
    assert doc.value == {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    assert doc.position("/States/A/Type") == (4, 11)


def test_yaml_scalars_that_are_not_json_keep_their_text() -> None:
    doc = parse_text("StartAt: A\nWhen: 2024-01-01\n")
    assert doc.value["When"] == "2024-01-01"


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        ('{"StartAt": }', "INVALID_JSON_DESCRIPTION", 1, 13),
        ('{"StartAt": "A",\n "States": {,}}', "INVALID_JSON_DESCRIPTION", 2, 13),
        ("StartAt: [A\n", "INVALID_YAML_DESCRIPTION", 2, 1),
        ("   ", "MISSING_DESCRIPTION", None, None),
        ('{"StartAt": NaN}', "INVALID_JSON_DESCRIPTION", None, None),
        ("[" * 50_000 + "]" * 50_000, "TOO_DEEPLY_NESTED", None, None),
    ],
)
def test_malformed_text_is_one_diagnostic_not_a_traceback(
    text: str, code: str, line: int | None, column: int | None
) -> None:
    with pytest.raises(DefinitionError) as info:
        parse_text(text)
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.line, diag.column) == (code, line, column)
    assert asl.validate(text) == [diag]


def test_reads_paths_by_suffix(tmp_path: Path) -> None:
    yaml_file = tmp_path / "m.asl.yaml"
    yaml_file.write_text("StartAt: A\nStates:\n  A: {Type: Succeed}\n")
    assert read_document(yaml_file).value["StartAt"] == "A"
    assert read_document(str(yaml_file)).filename == str(yaml_file)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_document(str(tmp_path / "none.json"))


def test_dict_source_is_taken_as_is() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    assert read_document(definition).value is definition


# A state name given twice in one States object: the parsed value keeps the last state
# only, so only the text shows it. AWS refuses such a definition when it is saved
# (awslabs/statelint#39: the console accepts it until CreateStateMachine answers
# DUPLICATE_STATE_NAME, "Duplicate State name: ..."; aws-cloudformation/cfn-lint#3616).
TWICE_JSON = """{
  "StartAt": "P",
  "Comment": "a repeated key elsewhere is no state", "Comment": "the last one counts",
  "States": {
    "P": {"Type": "Parallel", "Next": "A", "Branches": [{"StartAt": "B", "States": {
      "B": {"Type": "Pass", "End": true},
      "B": {"Type": "Succeed"}}}]},
    "A": {"Type": "Pass", "End": true},
    "A": {"Type": "Succeed"}
  }
}"""
TWICE_YAML = """StartAt: A
States:
  A: {Type: Pass, End: true}
  A: {Type: Succeed}
"""


def test_a_state_name_given_twice_in_one_scope_is_refused() -> None:
    found = [(d.code, d.message, d.location, d.line) for d in asl.validate(TWICE_JSON)]
    assert sorted(found) == [
        ("DUPLICATE_STATE_NAME", "Duplicate State name: A", "/States/A", 9),
        ("DUPLICATE_STATE_NAME", "Duplicate State name: B", "/States/P/Branches[0]/States/B", 7),
    ]
    yaml_found = [(d.code, d.location, d.line) for d in asl.validate(TWICE_YAML)]
    assert yaml_found == [("DUPLICATE_STATE_NAME", "/States/A", 4)]
    with pytest.raises(DefinitionError):
        asl.load(TWICE_YAML)


def test_the_api_refuses_a_state_name_given_twice() -> None:
    once_in_the_branch = TWICE_JSON.replace('"B": {"Type": "Pass", "End": true},', "")
    with pytest.raises(InvalidDefinition) as refused:
        compile_definition(once_in_the_branch, "STANDARD")
    assert refused.value.message == (
        "Invalid State Machine Definition: "
        "'DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A'"
    )


def test_only_the_states_of_a_scope_are_state_names() -> None:
    text = """{"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
      "ItemSelector": {"States": {"k": 1, "k": 2}},
      "ItemProcessor": {"StartAt": "I", "States": {
        "I": {"Type": "Pass", "End": true}, "I": {"Type": "Pass", "End": true}}}}}}"""
    found = [(d.code, d.location) for d in asl.validate(text)]
    assert found == [("DUPLICATE_STATE_NAME", "/States/M/ItemProcessor/States/I")]
