"""Command-line values that are JSON text, or ``@file`` naming a file that holds it."""

from __future__ import annotations

from pathlib import Path

import typer

EXIT_USAGE = 2


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
