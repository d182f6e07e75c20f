"""Each package's public export list is pinned: changing it is a deliberate act."""

from __future__ import annotations

import asl


def test_asl_exports() -> None:
    assert sorted(asl.__all__) == [
        "DefinitionError",
        "Diagnostic",
        "StateMachine",
        "StatesError",
        "load",
        "validate",
    ]
    for name in asl.__all__:
        assert hasattr(asl, name)
