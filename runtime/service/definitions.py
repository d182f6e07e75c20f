"""Definitions as the API receives them: JSON text, validated as AWS validates a deployed
definition (a ``${Name}`` is the text it is, not a placeholder), compiled once.

CreateStateMachine's refusal is AWS's recorded form (localstack test_sfn_api and
test_sfn_api_express snapshots, recorded against AWS):
``Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required:
[States] at /'``. Several problems are joined with ", " (our choice: no recording shows
AWS's separator).
"""

from __future__ import annotations

from typing import Any

from asl.compile import build_machine
from asl.diagnostics import DefinitionError, Diagnostic, has_errors, validation_response
from asl.loader import DefinitionTooLarge, parse_text
from asl.model import StateMachine
from asl.validate import problems_at
from runtime.api_limits import ValidationException
from runtime.service.errors import InvalidDefinition

__all__ = ["compile_definition", "diagnostics", "validation_result"]


def diagnostics(text: str, machine_type: str) -> list[Diagnostic]:
    """Every problem of a definition's text (JSON only, as the API takes it)."""
    try:
        document = parse_text(text, yaml_text=False)
    except DefinitionTooLarge as exc:
        raise ValidationException(exc.message) from None
    except DefinitionError as exc:
        return list(exc.diagnostics)
    found = problems_at(document.value, machine_type=machine_type, placeholders=False)
    return [diagnostic for diagnostic, _ in found]


def compile_definition(text: str, machine_type: str) -> StateMachine:
    """The typed model of a definition; ``InvalidDefinition`` in AWS's words if invalid."""
    found = diagnostics(text, machine_type)
    if has_errors(found):
        problems = ", ".join(
            f"{d.code}: {d.message}" + (f" at {d.location}" if d.location is not None else "")
            for d in found
            if d.severity == "ERROR"
        )
        raise InvalidDefinition(f"Invalid State Machine Definition: '{problems}'")
    return build_machine(parse_text(text, yaml_text=False).value)


def validation_result(body: dict[str, Any]) -> dict[str, Any]:
    """ValidateStateMachineDefinition's answer: ``severity`` is the lowest reported
    (ERROR by default), ``maxResults`` 0 or absent means 100."""
    found = diagnostics(body["definition"], body.get("type", "STANDARD"))
    if body.get("severity", "ERROR") == "ERROR":
        found = [d for d in found if d.severity == "ERROR"]
    return validation_response(found, limit=body.get("maxResults") or 100)
