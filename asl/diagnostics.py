"""Diagnostics shaped like AWS's ValidateStateMachineDefinition response."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

Severity = Literal["ERROR", "WARNING"]

#: AWS's diagnostic codes (ValidateStateMachineDefinition) and the few of our own,
#: kept here so every rule names its code from one list.
INVALID_JSON_DESCRIPTION = "INVALID_JSON_DESCRIPTION"
INVALID_YAML_DESCRIPTION = "INVALID_YAML_DESCRIPTION"  # ours: AWS takes JSON only
MISSING_DESCRIPTION = "MISSING_DESCRIPTION"
SCHEMA_VALIDATION_FAILED = "SCHEMA_VALIDATION_FAILED"
INVALID_RESOURCE = "INVALID_RESOURCE"
MISSING_END_STATE = "MISSING_END_STATE"
DUPLICATE_STATE_NAME = "DUPLICATE_STATE_NAME"
INVALID_STATE_NAME = "INVALID_STATE_NAME"
DUPLICATE_LABEL_NAME = "DUPLICATE_LABEL_NAME"
INVALID_LABEL_NAME = "INVALID_LABEL_NAME"
MISSING_TRANSITION_TARGET = "MISSING_TRANSITION_TARGET"
TOO_DEEPLY_NESTED = "TOO_DEEPLY_NESTED"
INVALID_JSONATA_EXPRESSION = "INVALID_JSONATA_EXPRESSION"
UNSUPPORTED_JSONATA_EXPRESSION = "UNSUPPORTED_JSONATA_EXPRESSION"
# Warnings AWS documents.
NO_DOLLAR = "NO_DOLLAR"
NO_PATH = "NO_PATH"
PASS_RESULT_IS_STATIC = "PASS_RESULT_IS_STATIC"
# Warnings of our own, for problems AWS does not name.
NO_EXIT_LOOP = "NO_EXIT_LOOP"
RESERVED_ERROR_NAME = "RESERVED_ERROR_NAME"
UNRESOLVED_PLACEHOLDER = "UNRESOLVED_PLACEHOLDER"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a definition, at a JSON-pointer location."""

    severity: Severity
    code: str
    message: str
    location: str | None = None
    line: int | None = None
    column: int | None = None

    def to_aws(self) -> dict[str, Any]:
        """The diagnostic as ValidateStateMachineDefinition returns it."""
        out: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }
        if self.location is not None:
            out["location"] = self.location
        return out

    def to_json(self) -> dict[str, Any]:
        """The AWS shape plus the line and column we know from the source text."""
        out = self.to_aws()
        if self.line is not None:
            out["line"] = self.line
            out["column"] = self.column
        return out

    def format(self, filename: str = "<definition>") -> str:
        """Human form: ``file:line:col: SEVERITY CODE message (location)``."""
        where = filename
        if self.line is not None:
            where = f"{filename}:{self.line}:{self.column}"
        loc = f" ({self.location})" if self.location is not None else ""
        return f"{where}: {self.severity} {self.code} {self.message}{loc}"

    def at(self, line: int | None, column: int | None) -> Diagnostic:
        """A copy placed at a source position."""
        return replace(self, line=line, column=column)


def aws_location(loc: Sequence[str | int]) -> str:
    """AWS's spelling of a location: ``("States", "C", "Choices", 0)`` is ``/States/C/Choices[0]``.

    Names are not escaped, as in AWS's diagnostics (a state ``a/b`` is at ``/States/a/b``).
    """
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f"/{part}"
    return out or "/"


def error(code: str, message: str, location: str | None = None) -> Diagnostic:
    """An ERROR diagnostic."""
    return Diagnostic("ERROR", code, message, location)


def warning(code: str, message: str, location: str | None = None) -> Diagnostic:
    """A WARNING diagnostic."""
    return Diagnostic("WARNING", code, message, location)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """True when any diagnostic is an ERROR (warnings alone leave a definition valid)."""
    return any(d.severity == "ERROR" for d in diagnostics)


def validation_response(
    diagnostics: list[Diagnostic], *, limit: int | None = None, positions: bool = False
) -> dict[str, Any]:
    """ValidateStateMachineDefinition's response for these diagnostics: at most ``limit``
    of them (``truncated`` says whether some were left out), with the line and column of
    each when ``positions`` is true (the CLI's addition to AWS's shape)."""
    shown = diagnostics if limit is None else diagnostics[:limit]
    return {
        "result": "FAIL" if has_errors(diagnostics) else "OK",
        "diagnostics": [d.to_json() if positions else d.to_aws() for d in shown],
        "truncated": len(shown) < len(diagnostics),
    }


class DefinitionError(ValueError):
    """An invalid definition; carries every diagnostic found in one pass."""

    def __init__(self, diagnostics: Iterable[Diagnostic], filename: str | None = None) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        #: The definition's file, when it came from one (named in the message).
        self.filename = filename
        errors = [d for d in self.diagnostics if d.severity == "ERROR"] or list(self.diagnostics)
        where = filename if filename is not None else "<definition>"
        first = errors[0].format(where) if errors else "invalid definition"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"Invalid State Machine Definition: {first}{more}")
