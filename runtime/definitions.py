"""Definitions as the Step Functions API receives them: JSON text, validated as AWS
validates a deployed definition (a ``${Name}`` is the text it is, not a placeholder),
compiled once; ``InvalidDefinition`` in AWS's words when they are refused.

The API server's operations and ``runtime.testing.test_state`` (TestState) both take
definitions this way, so it lives in the engine core, below both.

CreateStateMachine's refusal is AWS's recorded form (localstack test_sfn_api and
test_sfn_api_express snapshots, recorded against AWS):
``Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required:
[States] at /'``. Several problems are joined with ", " (our choice: no recording shows
AWS's separator).
"""

from __future__ import annotations

from asl.compile import build_machine
from asl.diagnostics import DefinitionError, Diagnostic, has_errors
from asl.loader import DefinitionTooLarge, parse_text
from asl.model import StateMachine
from asl.validate import problems_at
from runtime.api_limits import ValidationException
from runtime.store import ApiError

__all__ = ["InvalidDefinition", "compile_definition", "diagnostics"]


class InvalidDefinition(ApiError):
    """CreateStateMachine, UpdateStateMachine or TestState with a definition the validator
    refuses."""

    code = "InvalidDefinition"


def diagnostics(text: str, machine_type: str) -> list[Diagnostic]:
    """Every problem of a definition's text (JSON only, as the API takes it)."""
    try:
        document = parse_text(text, yaml_text=False)
    except DefinitionTooLarge as exc:
        raise ValidationException(exc.message) from None
    except DefinitionError as exc:
        return list(exc.diagnostics)
    found = problems_at(document.value, machine_type=machine_type, placeholders=False)
    return [*document.repeated_states, *(diagnostic for diagnostic, _ in found)]


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
