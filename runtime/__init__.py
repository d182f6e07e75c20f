"""The engine that runs state machines.

>>> from runtime import Engine, LocalHost
>>> engine = Engine(LocalHost(clock="virtual"))                       # doctest: +SKIP
>>> execution = await engine.create_state_machine(definition).start({})  # doctest: +SKIP

The outer ring lives beside it: ``runtime.testing`` (the Python API with local
functions, HTTP, AWS services and mocks), ``runtime.cli`` (the ``asl`` command).
"""

from runtime.executions import Engine, Execution, Machine
from runtime.host import Host, LocalHost

__all__ = ["Engine", "Execution", "Host", "LocalHost", "Machine"]
