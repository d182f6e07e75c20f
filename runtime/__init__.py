"""The engine that runs state machines.

>>> from runtime import Engine, LocalHost
>>> engine = Engine(LocalHost(clock="virtual"))                       # doctest: +SKIP
>>> execution = await engine.create_state_machine(definition).start({})  # doctest: +SKIP

The outer ring lives beside it: ``runtime.testing`` (the Python API with local
functions, HTTP, AWS services and mocks), ``runtime.cli`` (the ``asl`` command).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtime.executions import Engine, Execution, Machine
    from runtime.host import Host, LocalHost

__all__ = ["Engine", "Execution", "Host", "LocalHost", "Machine"]

# Imported on first use: `runtime.cli` is in this package, and `asl --help` or
# `asl validate` need none of the engine.
_HOMES = {
    "Engine": "runtime.executions",
    "Execution": "runtime.executions",
    "Machine": "runtime.executions",
    "Host": "runtime.host",
    "LocalHost": "runtime.host",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
