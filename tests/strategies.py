"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

SCALARS: SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
)
SHORT_TEXT: SearchStrategy[str] = st.text(max_size=5)


def json_values(
    keys: SearchStrategy[str] = SHORT_TEXT,
    *,
    scalars: SearchStrategy[Any] = SCALARS,
    max_size: int = 4,
    max_leaves: int = 20,
) -> SearchStrategy[Any]:
    """JSON values (no NaN or Infinity, which are not JSON) with objects keyed by ``keys``."""
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=max_size)
            | st.dictionaries(keys, children, max_size=max_size)
        ),
        max_leaves=max_leaves,
    )
