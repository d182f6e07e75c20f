"""Validation of a definition (placeholder: the schema pass and rules are being written)."""

from __future__ import annotations

from asl.diagnostics import SCHEMA_VALIDATION_FAILED, Diagnostic, error
from asl.loader import Document


def validate_document(document: Document, *, machine_type: str = "STANDARD") -> list[Diagnostic]:
    """Every problem of a parsed definition, placed at its line and column."""
    value = document.value
    if not isinstance(value, dict):
        return [error(SCHEMA_VALIDATION_FAILED, "Definition must be a valid JSON object")]
    return []
