"""ValidateStateMachineDefinition's answer (``asl.diagnostics.validation_response``, shared
with ``asl validate``); the definitions the API takes are read by
:mod:`runtime.definitions`, whose ``compile_definition`` and ``diagnostics`` the operations
use from here too.
"""

from __future__ import annotations

from typing import Any

from asl.diagnostics import validation_response
from runtime.definitions import compile_definition, diagnostics

__all__ = ["compile_definition", "diagnostics", "validation_result"]


def validation_result(body: dict[str, Any]) -> dict[str, Any]:
    """ValidateStateMachineDefinition's answer: ``severity`` is the lowest reported
    (ERROR by default), ``maxResults`` 0 or absent means 100."""
    found = diagnostics(body["definition"], body.get("type", "STANDARD"))
    if body.get("severity", "ERROR") == "ERROR":
        found = [d for d in found if d.severity == "ERROR"]
    return validation_response(found, limit=body.get("maxResults") or 100)
