"""YAML documents measured with their aliases expanded, before anything is expanded."""

from __future__ import annotations

import pytest

from asl.jsontext import json_text
from asl.yamltext import YamlTooLarge, read_yaml

SHARED = "a: &a [x, yy]\nb: [*a, *a, {c: *a}]\n"


def test_a_document_is_measured_as_its_expanded_json_text() -> None:
    value = read_yaml(SHARED, 1000)
    assert value == {"a": ["x", "yy"], "b": [["x", "yy"]] * 2 + [{"c": ["x", "yy"]}]}
    length = len(json_text(value))
    assert read_yaml(SHARED, length) == value
    with pytest.raises(YamlTooLarge, match=f"past {length - 1} characters"):
        read_yaml(SHARED, length - 1)


def test_an_alias_inside_its_own_anchor_expands_without_end() -> None:
    with pytest.raises(YamlTooLarge, match="without end"):
        read_yaml("a: &a {b: *a}\n", 1000)


def test_an_empty_document_is_none() -> None:
    assert read_yaml("# nothing\n", 10) is None
