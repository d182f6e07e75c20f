"""``json_size`` counts a small flat object without writing it: the count must be the
size of the text, whatever the members."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asl.jsontext import NotJson, json_size, json_text, parse_json, text_size

_MEMBERS = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x80)),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
)


@given(st.dictionaries(st.text(), _MEMBERS, max_size=20))
def test_an_object_is_counted_as_its_text_is_long(value: dict[str, object]) -> None:
    assert json_size(value) == text_size(json_text(value))


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"job": "w"},
        {"a": 'say "hi"', "b": "back\\slash", "c": "tab\there", "d": "\x7f"},
        {"n": -(10**15) + 1, "m": 10**15, "big": 10**40, "t": True, "f": False, "z": None},
        {"é": "ü", "emoji": "\U0001f600", "lone": "\ud800"},
        {1: "an integer key"},
    ],
)
def test_members_written_as_they_are_or_not(value: dict[object, object]) -> None:
    assert json_size(value) == text_size(json_text(value))


def test_an_object_holding_nan_is_still_refused() -> None:
    with pytest.raises(NotJson):
        json_size({"x": math.nan})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, 2.5, "é"]}', {"a": [1, 2.5, "é"]}),
        ('{"a": 1}'.encode("utf-16"), {"a": 1}),  # bytes: their encoding detected
        (b'{"a": 1}', {"a": 1}),
    ],
)
def test_json_text_and_bytes_are_read(text: str | bytes, expected: object) -> None:
    assert parse_json(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NaN", "Unrecognized token 'NaN'"),
        ('{"a": -Infinity}', "Unrecognized token '-Infinity'"),
        ("1e400", "Numeric value (1e400) out of range of double"),
        (b"[1e400]", "Numeric value (1e400) out of range of double"),
        ("\ufeff{}", "Unexpected UTF-8 BOM"),
        ("[1,", "Expecting value"),
    ],
)
def test_what_is_not_json_is_refused(text: str | bytes, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_json(text)
