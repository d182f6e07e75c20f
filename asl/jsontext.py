"""JSON text as AWS writes it: compact, key order kept, non-ASCII characters kept.

The one place the engine turns a JSON value into that text (history details, error
causes, payload sizes, API bodies); and :data:`JSON`, the type of such values.
"""

from __future__ import annotations

import json
from typing import Any, TypeAlias

#: A JSON value: ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` or ``None``
#: (``Any``: Python's type system cannot spell the recursion usefully).
JSON: TypeAlias = Any


def json_text(value: Any) -> str:
    """Compact JSON text of a value (``{"a":1,"b":[2,"é"]}``)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_size(value: Any) -> int:
    """The size of a value as AWS counts it: bytes of its compact JSON text in UTF-8."""
    return len(json_text(value).encode("utf-8"))
