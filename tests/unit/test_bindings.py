"""``asl.bindings.uuid4_text``: the text of a version 4 UUID, formatted directly, is the
standard library's for the same 128 bits (seeded runs' names and ids depend on it)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from asl.bindings import uuid4_text


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_uuid4_text_is_the_standard_librarys(bits: int) -> None:
    assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))


def test_uuid4_text_of_the_extreme_bits() -> None:
    assert uuid4_text(0) == "00000000-0000-4000-8000-000000000000"
    assert uuid4_text(2**128 - 1) == "ffffffff-ffff-4fff-bfff-ffffffffffff"
