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


# One encoder for every call (json.dumps builds one per call); no circularity check:
# JSON values here are trees.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def json_text(value: Any) -> str:
    """Compact JSON text of a value (``{"a":1,"b":[2,"é"]}``)."""
    return _ENCODER.encode(value)


def json_size(value: Any) -> int:
    """The size of a value as AWS counts it: bytes of its compact JSON text in UTF-8."""
    text = _ENCODER.encode(value)
    return len(text) if text.isascii() else len(text.encode("utf-8"))
