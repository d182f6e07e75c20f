"""Task resources: the integrations that run a Task state's work.

The contract is :mod:`integrations.base`; the integrations are its siblings
(``lambdas``, ``http``, ``aws``, ``mocks``...), imported by whoever builds a registry.
"""

from integrations.base import (
    CallbackResult,
    FunctionIntegration,
    Integration,
    Invoker,
    Registry,
    Resource,
    TaskRequest,
    TaskServices,
    parse_resource,
)

__all__ = [
    "CallbackResult",
    "FunctionIntegration",
    "Integration",
    "Invoker",
    "Registry",
    "Resource",
    "TaskRequest",
    "TaskServices",
    "parse_resource",
]
