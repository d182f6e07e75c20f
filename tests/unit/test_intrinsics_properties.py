"""Property tests: compiling never raises anything but IntrinsicSyntaxError, and evaluating
never raises anything but StatesError, whatever the text or the JSON input."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from asl.bindings import Bindings, SystemEntropy
from asl.errors import StatesError
from asl.intrinsics import IntrinsicSyntaxError, check_call, compile_call
from asl.intrinsics.registry import REGISTRY

NAMES = sorted(REGISTRY)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5)
    ),
    max_leaves=20,
)

# Fragments that make random text look like intrinsic calls often enough to go deep.
fragments = st.sampled_from(
    [
        *NAMES,
        "States.",
        "(",
        ")",
        ",",
        " ",
        "'",
        "\\",
        "{}",
        "{",
        "}",
        "$",
        "$$",
        "$.a",
        "$.b[0]",
        "$v",
        "[",
        "]",
        "1",
        "-2.5",
        "1e3",
        "true",
        "null",
        "x",
        "'a'",
        "'\\''",
    ]
)


@settings(max_examples=400)
@given(st.text(max_size=60) | st.lists(fragments, max_size=25).map("".join))
def test_compiling_raises_only_syntax_errors(text: str) -> None:
    try:
        compile_call(text)
    except IntrinsicSyntaxError:
        assert check_call(text) is not None
    else:
        assert check_call(text) is None


def _literal(value: Any) -> str:
    if isinstance(value, str):
        escaped = "".join("\\" + c if c in "'{}\\" else c for c in value)
        return f"'{escaped}'"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    return json.dumps(value) if isinstance(value, int) else repr(value).replace("e+", "e")


arguments = st.one_of(
    st.sampled_from(["$", "$.a", "$.b", "$.a[0]", "$.missing", "$$.ctx", "$v", "$v.x"]),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**33), 2**33),
        st.text(max_size=12),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
    ).map(_literal),
)


@st.composite
def calls(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.sampled_from(NAMES))
    choices = arguments if depth >= 2 else arguments | calls(depth + 1)
    args = draw(st.lists(choices, max_size=4))
    return f"{name}({', '.join(args)})"


@settings(max_examples=600)
@given(calls(), json_values, json_values, st.integers())
def test_evaluating_raises_only_states_errors(text: str, value: Any, var: Any, seed: int) -> None:
    try:
        call = compile_call(text)
    except IntrinsicSyntaxError:
        return  # e.g. a float literal Python prints in a form the grammar refuses
    bindings = Bindings(
        input={"a": value, "b": [value]} if seed % 2 else value,
        context={"ctx": value},
        variables={"v": var},
        entropy=SystemEntropy(seed),
    )
    try:
        result = call(bindings)
    except StatesError as exc:
        assert exc.error == "States.Runtime" and exc.cause
    else:
        json.dumps(result, allow_nan=False)  # the result is a JSON value
