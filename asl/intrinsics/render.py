"""How AWS turns JSON values into text inside intrinsic functions.

AWS evaluates intrinsics in Java on Jackson nodes, so two renderings matter:

- :func:`json_text` is Jackson's compact serialisation (``{"a":1,"b":[true,null]}``), used by
  ``States.JsonToString`` and to quote the input in error causes;
- :func:`java_text` is ``toString()`` of the Java map/list view, used by ``States.Format``
  (recorded against AWS: ``{Arg1=1, Arg2=[]}``; strings inside are not quoted).

Doubles print the way Java prints them (``1.0E7``), not the way Python does (``1e+07``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# Jackson writes these control characters with a short escape; the rest of 0x00-0x1f as \u00XX.
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_SHORT_ESCAPES["\r"] = "\\r"


def java_double(value: float) -> str:
    """``Double.toString``: plain for 1e-3 <= |x| < 1e7, else ``d.dddE±n``; always a fraction."""
    if value == 0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    exponent = int(digits_tuple.exponent) + len(digits) - 1  # value = d.ddd x 10^exponent
    if -3 <= exponent < 7:
        if exponent >= 0:
            whole, fraction = (
                digits[: exponent + 1].ljust(exponent + 1, "0"),
                digits[exponent + 1 :],
            )
        else:
            whole, fraction = "0", "0" * (-exponent - 1) + digits
        return f"{sign}{whole}.{fraction or '0'}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _number_text(value: int | float) -> str:
    return java_double(value) if isinstance(value, float) else str(value)


def _string_json(value: str) -> str:
    out = ['"']
    for char in value:
        escaped = _SHORT_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char < " ":
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def json_text(value: Any) -> str:
    """Jackson's compact JSON text of a value: no spaces, non-ASCII kept as is."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string_json(value)
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, list):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string_json(k)}:{json_text(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def java_text(value: Any) -> str:
    """``String.valueOf`` of the Java view of a value, as ``States.Format`` inserts it."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(java_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_text(v)}" for k, v in value.items()) + "}"
    return json_text(value)


def text_key(value: Any) -> str:
    """A string as itself, any other value as its JSON text (how AWS compares and hashes)."""
    return value if isinstance(value, str) else json_text(value)
