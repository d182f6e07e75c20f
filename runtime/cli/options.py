"""What the ``asl`` commands share: their exit codes, the ``--format`` of ``validate`` and
``run``, and command-line values that are JSON text, or ``@file`` naming a file that
holds it."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class OutputFormat(StrEnum):
    """How ``asl validate`` and ``asl run`` print their result."""

    text = "text"
    json = "json"


def text_or_file(value: str, *, command: str, what: str) -> str:
    """``value`` itself, or the text of the file ``@path`` names; an unreadable file ends
    the command with exit status 2 and a message naming ``what`` it was for."""
    if not value.startswith("@"):
        return value
    try:
        return Path(value[1:]).read_text(encoding="utf-8")
    except OSError as exc:
        typer.echo(f"{command}: cannot read the {what} file: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
