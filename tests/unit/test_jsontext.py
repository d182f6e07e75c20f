"""``json_size`` counts a small flat object without writing it: the count must be the
size of the text, whatever the members. ``plain_copy`` copies a value without writing it:
the copy must be what the text carries, whatever the value."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asl.jsontext import (
    NotJson,
    NotPlain,
    json_size,
    json_text,
    parse_json,
    plain_copy,
    text_size,
)

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


_JSON = st.recursive(
    st.one_of(
        st.text(),
        st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1),
        st.booleans(),
        st.none(),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def _containers(value: object) -> list[object]:
    if isinstance(value, dict):
        return [value, *(c for member in value.values() for c in _containers(member))]
    if isinstance(value, list):
        return [value, *(c for item in value for c in _containers(item))]
    return []


@given(_JSON)
def test_a_plain_copy_is_what_the_text_carries_and_shares_no_container(value: object) -> None:
    copy = plain_copy(value)
    assert json_text(copy) == json_text(value)
    assert copy == parse_json(json_text(value))
    originals = {id(c) for c in _containers(value)}
    assert not originals & {id(c) for c in _containers(copy)}


class _Text(str):
    pass


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        (1, 2),  # read back as a list
        {1: "a"},  # its key read back as "1"
        {"a": _Text("b")},
        [math.nan],
        {"a": -math.inf},
        10**15,  # written by the text's rules (a huge one is refused)
        _nested(65),
        {1, 2},
    ],
)
def test_what_only_the_text_decides_is_not_copied(value: object) -> None:
    with pytest.raises(NotPlain):
        plain_copy(value)


def test_a_value_64_deep_is_copied() -> None:
    assert plain_copy(_nested(64)) == _nested(64)
