"""A definition's text with its validation diagnostics placed on the lines they concern."""

from __future__ import annotations

from collections import defaultdict
from html import escape

import asl

__all__ = ["definition_html"]


def definition_html(text: str, machine_type: str) -> str:
    """The definition as stored, its lines numbered; each diagnostic of ``asl.validate``
    (warnings too: errors were refused when it was created) under its line, the ones
    without a position listed above the text."""
    by_line: dict[int, list[str]] = defaultdict(list)
    unplaced: list[str] = []
    kind: asl.MachineType = "EXPRESS" if machine_type == "EXPRESS" else "STANDARD"
    for diagnostic in asl.validate(text, machine_type=kind):
        note = escape(
            f"{diagnostic.severity} {diagnostic.code}: {diagnostic.message}"
            + (f" ({diagnostic.location})" if diagnostic.location else "")
        )
        line = f'<div class="diag diag-{escape(diagnostic.severity)}">{note}</div>'
        if diagnostic.line is None:
            unplaced.append(line)
        else:
            by_line[diagnostic.line].append(line)
    rows = []
    for number, source in enumerate(text.splitlines(), start=1):
        marked = " marked" if number in by_line else ""
        rows.append(
            f'<div class="line{marked}"><span class="number">{number}</span>'
            f"{escape(source)}</div>{''.join(by_line.get(number, []))}"
        )
    summary = "".join(unplaced)
    if not by_line and not unplaced:
        summary = '<p class="muted">No diagnostics.</p>'
    return f'{summary}<pre class="definition">{"".join(rows)}</pre>'
