"""The one table of ``States.*`` functions, by name."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from asl.intrinsics import functions, numeric
from asl.intrinsics.signature import Function

REGISTRY: Mapping[str, Function] = MappingProxyType(
    {function.name: function for function in (*functions.FUNCTIONS, *numeric.FUNCTIONS)}
)
