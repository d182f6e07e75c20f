"""URL encoding of an HTTP Task's RequestBody / QueryParameters (``encode_form``).

The flat-array cases are the AWS examples (call-https-apis, "Applying URL-encoding on
request body": {"array": ["a","b","c"]} in each ArrayFormat); nested values follow the
choices documented in integrations/http.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.http import ARRAY_FORMATS, encode_form

AWS_EXAMPLE = {"array": ["a", "b", "c"]}


@pytest.mark.parametrize(
    ("array_format", "expected"),
    [
        ("INDICES", "array[0]=a&array[1]=b&array[2]=c"),
        ("REPEAT", "array=a&array=b&array=c"),
        ("COMMAS", "array=a,b,c"),
        ("BRACKETS", "array[]=a&array[]=b&array[]=c"),
    ],
)
def test_aws_examples(array_format: str, expected: str) -> None:
    assert encode_form(AWS_EXAMPLE, array_format) == expected


def test_indices_is_the_default() -> None:
    assert encode_form(AWS_EXAMPLE) == "array[0]=a&array[1]=b&array[2]=c"


@pytest.mark.parametrize(
    ("value", "array_format", "expected"),
    [
        ({"a": {"b": {"c": 1}}}, "INDICES", "a[b][c]=1"),
        ({"a": {"b": {"c": 1}}}, "COMMAS", "a[b][c]=1"),
        ({"a": [{"b": 1}, {"b": 2}]}, "INDICES", "a[0][b]=1&a[1][b]=2"),
        ({"a": [{"b": 1}, {"b": 2}]}, "BRACKETS", "a[][b]=1&a[][b]=2"),
        ({"a": [{"b": 1}, {"b": 2}]}, "REPEAT", "a[b]=1&a[b]=2"),
        ({"a": [{"b": 1}, 2]}, "COMMAS", "a[0][b]=1&a[1]=2"),
        ({"a": [[1, 2], [3]]}, "INDICES", "a[0][0]=1&a[0][1]=2&a[1][0]=3"),
        ({"a": [[1, 2], [3]]}, "REPEAT", "a=1&a=2&a=3"),
        ({"a": [[1, 2], [3]]}, "COMMAS", "a[0]=1,2&a[1]=3"),
        ({"a": [1, "x,y"]}, "COMMAS", "a=1,x%2Cy"),
    ],
)
def test_nested_values(value: dict[str, Any], array_format: str, expected: str) -> None:
    assert encode_form(value, array_format) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"t": True, "f": False}, "t=true&f=false"),
        ({"n": None}, "n="),
        ({"i": 7, "x": 1.5, "neg": -2}, "i=7&x=1.5&neg=-2"),
        ({"e": [], "o": {}, "k": "v"}, "k=v"),
        ({"": "empty key"}, "=empty%20key"),
        ({"a b": "c&d=e"}, "a%20b=c%26d%3De"),
        ({"u": "é ✓"}, "u=%C3%A9%20%E2%9C%93"),
        ({"safe": "A-z_0.9~"}, "safe=A-z_0.9~"),
        ({"br[ack]": "x"}, "br%5Back%5D=x"),
        ({"plus": "1+1"}, "plus=1%2B1"),
        ({}, ""),
    ],
)
def test_scalars_and_escaping(value: dict[str, Any], expected: str) -> None:
    assert encode_form(value) == expected


def test_lone_surrogates() -> None:
    assert encode_form({"a\ud800": "b\udfff"}) == "a%3F=b%3F"


def test_an_unknown_array_format_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown ArrayFormat 'SPACES'"):
        encode_form({"a": 1}, "SPACES")


# Text without lone surrogates (those become '?'; see test_lone_surrogates).
TEXT = st.text(st.characters(exclude_categories=["Cs"]))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
OBJECTS = st.dictionaries(TEXT, JSON, max_size=5)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return (
        value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    )


@settings(max_examples=200)
@given(OBJECTS, st.sampled_from([f for f in ARRAY_FORMATS if f != "COMMAS"]))
def test_every_leaf_is_one_pair_in_order(value: dict[str, Any], array_format: str) -> None:
    encoded = encode_form(value, array_format)
    pairs = parse_qsl(encoded, keep_blank_values=True) if encoded else []
    assert [v for _, v in pairs] == [_text(leaf) for leaf in _leaves(value)]
    assert encoded.isascii()


@settings(max_examples=200)
@given(OBJECTS)
def test_commas_never_raises_and_is_ascii(value: dict[str, Any]) -> None:
    assert encode_form(value, "COMMAS").isascii()
