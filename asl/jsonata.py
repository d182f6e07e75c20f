"""JSONata expressions (placeholder: the evaluator is being written)."""

from __future__ import annotations

from typing import Any

import jsonata


def is_expression(value: Any) -> bool:
    """True for a string that is exactly one JSONata expression: ``{% ... %}``."""
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def check_expression(text: str) -> str | None:
    """None when the ``{% ... %}`` string parses as JSONata, else why not."""
    try:
        jsonata.Jsonata(text[2:-2])
    except Exception as exc:
        return f"The JSONata expression '{text[2:-2].strip()}' is invalid: {exc}"
    return None
