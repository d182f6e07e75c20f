"""Reading definitions: sources, malformed text, positions."""

from __future__ import annotations

from pathlib import Path

import pytest

import asl
from asl.diagnostics import DefinitionError
from asl.loader import json_positions, parse_text, pointer, read_document

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
