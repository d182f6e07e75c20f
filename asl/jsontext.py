"""JSON text as AWS writes it: compact, key order kept, non-ASCII characters kept.

The one place the engine turns a JSON value into that text (history details, error
causes, payload sizes, API bodies); and :data:`JSON`, the type of such values. NaN and
the infinities are no JSON numbers: text holding them is refused where it is read, and a
value holding them is refused where it is written (:class:`NotJson`), never printed as
``NaN`` or ``Infinity``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeAlias

#: A JSON value: ``dict``, ``list``, ``str``, ``int``, ``float``, ``bool`` or ``None``
#: (``Any``: Python's type system cannot spell the recursion usefully).
JSON: TypeAlias = Any


# One encoder for every call (json.dumps builds one per call); no circularity check:
# JSON values here are trees.
_ENCODER = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, check_circular=False, allow_nan=False
)


class JsonTooDeep(ValueError):
    """A value nested deeper than JSON text can be written here (Python's stack)."""


class NotJson(ValueError):
    """A value holding a number JSON cannot hold: NaN, Infinity or -Infinity."""

    def __init__(self) -> None:
        super().__init__("NaN and Infinity are not JSON numbers")


def parse_json(text: str | bytes) -> JSON:
    """The value of JSON text from outside (an input, a response, a file) as AWS's parser
    reads it: ``ValueError`` for text that is not JSON, including ``NaN``, ``Infinity`` and
    numbers too large for a double (``1e400``), and ``JsonTooDeep`` (a ``ValueError`` too)
    for nesting deeper than Python's stack."""
    try:
        if type(text) is str and not text.startswith("\ufeff"):
            return _DECODER.decode(text)
        # Bytes (their encoding detected) and text with a BOM (refused) as json.loads has them.
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise JsonTooDeep("the JSON text is nested too deeply to be read") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unrecognized token '{name}'")  # Jackson's words, as AWS parses


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"Numeric value ({text}) out of range of double")
    return value


# One decoder for every text (json.loads with these hooks builds one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


#: The keys an object's text repeated, by the object's id; the object itself is held, so
#: its id stays its own.
Repeats = dict[int, tuple[dict[str, Any], list[str]]]


def parse_json_noting_repeats(text: str) -> tuple[JSON, Repeats]:
    """:func:`parse_json` of a text, and the keys each of its objects repeated (the value
    keeps the last of them, as ``parse_json`` does): a definition's duplicate state names,
    which the value alone no longer shows."""
    repeats: Repeats = {}

    def make(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        made = dict(pairs)
        if len(made) != len(pairs):
            seen: set[str] = set()
            again: list[str] = []
            for key, _ in pairs:
                if key in seen:
                    again.append(key)
                seen.add(key)
            repeats[id(made)] = (made, again)
        return made

    decoder = json.JSONDecoder(
        parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=make
    )
    try:
        return decoder.decode(text), repeats
    except RecursionError:
        raise JsonTooDeep("the JSON text is nested too deeply to be read") from None


def json_text(value: Any) -> str:
    """Compact JSON text of a value (``{"a":1,"b":[2,"é"]}``); ``JsonTooDeep`` for a value
    nested past Python's recursion limit, ``NotJson`` for one holding NaN or an infinity.
    Lone surrogates are kept as they are (data, as AWS's services accept them): encode the
    text with ``surrogatepass`` or ``\\u``-escape it before it leaves the process."""
    try:
        return _ENCODER.encode(value)
    except RecursionError:
        raise JsonTooDeep("the value is nested too deeply to be written as JSON") from None
    except ValueError:  # the encoder's only other refusal: a float out of JSON's range
        raise NotJson() from None


def non_finite_at(value: Any) -> tuple[str | int, ...] | None:
    """Where a value first holds NaN or an infinity (its keys and indexes), or None.
    Walks without recursion, so any depth is fine."""
    # (node, the entry of its parent, its key there): a location is built only when found
    stack: list[tuple[Any, Any, str | int | None]] = [(value, None, None)]
    while stack:
        entry = stack.pop()
        node = entry[0]
        if isinstance(node, float):
            if not math.isfinite(node):
                return _location(entry)
        elif isinstance(node, dict):
            stack.extend((child, entry, key) for key, child in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((node[i], entry, i) for i in reversed(range(len(node))))
    return None


def _location(entry: tuple[Any, Any, str | int | None]) -> tuple[str | int, ...]:
    keys: list[str | int] = []
    while entry[1] is not None:
        keys.append(entry[2])  # type: ignore[arg-type]  # every entry but the root has one
        entry = entry[1]
    return tuple(reversed(keys))


def json_size(value: Any) -> int:
    """The size of a value as AWS counts it: bytes of its compact JSON text in UTF-8 (a
    lone surrogate counted as the three bytes of its code unit)."""
    if type(value) is dict and len(value) <= _FLAT_MEMBERS:
        size = _flat_object_size(value)
        if size is not None:
            return size
    return text_size(json_text(value))


#: Objects of up to this many members may be counted without their text being written.
_FLAT_MEMBERS = 16
#: Integers this small are written as their digits (no conversion limit near).
_SMALL_INT = 10**15
_LEAST_SMALL_INT = -_SMALL_INT  # (a constant: negated where used, it is made each time)


def _flat_object_size(value: dict[Any, Any]) -> int | None:
    """The size of an object whose keys and values are all written as they are (text of
    printable ASCII without quotes or backslashes, small integers, true, false, null),
    counted without writing it: most executions' inputs are such. None for any other."""
    size = 2 * len(value) + 1 if value else 2  # braces, colons and commas
    # Text JSON writes as it is (one byte a character between its quotes): tested in place,
    # a call per key and text would cost as much as the test.
    for key, member in value.items():
        if (
            type(key) is not str
            or not (key.isascii() and key.isprintable())
            or '"' in key
            or "\\" in key
        ):
            return None
        size += len(key) + 2
        kind = type(member)
        if kind is str and (
            member.isascii() and member.isprintable() and '"' not in member and "\\" not in member
        ):
            size += len(member) + 2
        elif kind is bool:
            size += 4 if member else 5
        elif member is None:
            size += 4
        elif kind is int and _LEAST_SMALL_INT < member < _SMALL_INT:
            size += len(str(member))
        else:
            return None
    return size


def text_size(text: str) -> int:
    """Bytes of text in UTF-8, as AWS's payload limits count them (a lone surrogate as the
    three bytes of its code unit)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class NotPlain(ValueError):
    """A value :func:`plain_copy` leaves to JSON text (see there)."""


#: How deep :func:`plain_copy` copies; deeper values take the text's way, whose limits
#: (Python's stack) decide.
_PLAIN_DEPTH = 64


def plain_copy(value: Any) -> JSON:
    """What writing ``value`` as JSON text and reading it back gives (``parse_json`` of
    ``json_text``), made without the text: a copy sharing no object but text with
    ``value``. For values of dicts with text keys, lists, text, booleans, null, integers
    below 10**15 and finite floats, exactly those types (no subclass, no tuple), nested
    at most 64 deep; ``NotPlain`` for any other, whose answer only the text gives (a
    tuple read back as a list, a key ``1`` as ``"1"``, NaN refused...)."""
    return _plain_copy(value, _PLAIN_DEPTH)


def _plain_copy(value: Any, depth: int) -> JSON:
    kind = type(value)
    if kind is dict:
        if not depth:
            raise NotPlain()
        members = {}
        for key, member in value.items():
            if type(key) is not str:
                raise NotPlain()
            # Text, booleans, null and small integers taken as they are, here: most
            # members are such, and a call for each would cost more than the copy.
            kind = type(member)
            if (
                kind is str
                or kind is bool
                or member is None
                or (kind is int and _LEAST_SMALL_INT < member < _SMALL_INT)
            ):
                members[key] = member
            else:
                members[key] = _plain_copy(member, depth - 1)
        return members
    if kind is list:
        if not depth:
            raise NotPlain()
        return [_plain_copy(item, depth - 1) for item in value]
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if _LEAST_SMALL_INT < value < _SMALL_INT:
            return value
    elif kind is float and value - value == 0.0:  # finite: NaN and the infinities give NaN
        return value
    raise NotPlain()


_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    """JSON text with each lone surrogate written as its ``\\uXXXX`` escape: the same
    JSON value, and text that UTF-8 can encode (a database, a socket, a terminal)."""
    if text.isascii():  # most text: checked faster than searched
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def replace_surrogates(text: str) -> str:
    """Plain text with each lone surrogate replaced by U+FFFD, so UTF-8 can encode it."""
    return _SURROGATE.sub("\ufffd", text)
