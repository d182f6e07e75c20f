"""The Amazon States Language: load, validate and compile state machine definitions.

``asl`` is pure: it parses, checks and evaluates; it never sleeps, reads the clock or
does I/O beyond reading a file it is given (``asl.textfile``, with a bound on its size).
"""

from __future__ import annotations

from typing import Literal

from asl.diagnostics import UNRESOLVED_PLACEHOLDER, DefinitionError, Diagnostic, error, has_errors
from asl.errors import StatesError
from asl.loader import DefinitionTooLarge, Source, Substitutions, read_document
from asl.model import StateMachine

# Imported before `validate` is defined, which must be the name's last binding: importing
# the subpackage later would make `asl.validate` the subpackage.
from asl.validate import validate_document
from asl.validate._base import aws_location
from asl.validate.placeholders import unresolved

__all__ = [
    "DefinitionError",
    "DefinitionTooLarge",
    "Diagnostic",
    "StateMachine",
    "StatesError",
    "load",
    "validate",
]

MachineType = Literal["STANDARD", "EXPRESS"]


def validate(
    source: Source,
    *,
    machine_type: MachineType = "STANDARD",
    substitutions: Substitutions | None = None,
) -> list[Diagnostic]:
    """Every problem of a definition (a path, JSON or YAML text, or a dict), never raising
    for an invalid one. Unreadable files raise ``FileNotFoundError``; a definition longer
    than 1,048,576 characters raises :class:`DefinitionTooLarge`, unparsed, as
    ValidateStateMachineDefinition answers ``ValidationException`` for it.

    ``substitutions`` fill its deploy-time ``${Name}`` placeholders first, as
    CloudFormation's DefinitionSubstitutions do; a placeholder left without a value is
    checked as any valid value of its field and reported as an UNRESOLVED_PLACEHOLDER
    warning."""
    try:
        document = read_document(source, substitutions)
    except DefinitionError as exc:
        return list(exc.diagnostics)
    return validate_document(document, machine_type=machine_type)


def load(
    source: Source,
    *,
    machine_type: MachineType = "STANDARD",
    substitutions: Substitutions | None = None,
) -> StateMachine:
    """The typed model of a valid definition, its placeholders filled from
    ``substitutions``; raises :class:`DefinitionError` with every diagnostic when it is
    invalid or a placeholder has no value (a model runs, so every value must be known),
    and :class:`DefinitionTooLarge` (AWS's ``ValidationException``) for a definition
    longer than 1,048,576 characters."""
    # Imported here: compiling needs the expression evaluators, JSONata's among them,
    # which every module of the package would load otherwise (this one is imported
    # first), the `asl` command's light paths too.
    from asl.compile import build_machine

    document = read_document(source, substitutions)
    diagnostics = validate_document(document, machine_type=machine_type)
    missing = [
        error(
            UNRESOLVED_PLACEHOLDER, f"The placeholder ${{{name}}} has no value", aws_location(loc)
        )
        for name, loc in unresolved(document.value).items()
    ]
    if has_errors(diagnostics) or missing:
        errors = [d for d in diagnostics if d.code != UNRESOLVED_PLACEHOLDER]
        raise DefinitionError([*errors, *map(document.place, missing)], document.filename)
    return build_machine(document.value)
