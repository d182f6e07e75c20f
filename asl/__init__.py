"""The Amazon States Language: load, validate and compile state machine definitions.

``asl`` is pure: it parses, checks and evaluates; it never sleeps, reads the clock or
does I/O beyond reading a definition file it is given.
"""

from __future__ import annotations

from typing import Literal

from asl.compile import build_machine
from asl.diagnostics import DefinitionError, Diagnostic, has_errors
from asl.errors import StatesError
from asl.loader import Source, read_document
from asl.model import StateMachine
from asl.validate import validate_document

__all__ = [
    "DefinitionError",
    "Diagnostic",
    "StateMachine",
    "StatesError",
    "load",
    "validate",
]

MachineType = Literal["STANDARD", "EXPRESS"]


def validate(source: Source, *, machine_type: MachineType = "STANDARD") -> list[Diagnostic]:
    """Every problem of a definition (a path, JSON or YAML text, or a dict), never raising
    for an invalid one. Unreadable files raise ``FileNotFoundError``."""
    try:
        document = read_document(source)
    except DefinitionError as exc:
        return list(exc.diagnostics)
    return validate_document(document, machine_type=machine_type)


def load(source: Source, *, machine_type: MachineType = "STANDARD") -> StateMachine:
    """The typed model of a valid definition; raises :class:`DefinitionError` with every
    diagnostic when it is invalid."""
    document = read_document(source)
    diagnostics = validate_document(document, machine_type=machine_type)
    if has_errors(diagnostics):
        raise DefinitionError(diagnostics, document.filename)
    return build_machine(document.value)
