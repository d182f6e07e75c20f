"""AWS's extra JSONata functions (``$partition``, ``$range``, ``$hash``, ``$parse``, and
``$random``, ``$uuid``, ``$shuffle``, ``$millis``, ``$now`` read from the bindings), the
built-in functions that could build or walk a huge value in one call, bounded (``$pad``,
``$join``, ``$replace``, ``$string``, ``$distinct``: see :mod:`asl.limits`), and
the guard around every piece of engine code that jsonata-python calls back.

Only errors of the evaluation itself become ``States.QueryEvaluationError`` (see
:mod:`asl.jsonata`): jsonata-python's (its JException, and the Python errors its own
code raises on an expression's values) and the deliberate rejections of the functions
here (:class:`FunctionError`). An exception from engine code that jsonata-python calls
back is an engine bug: :func:`guarded` carries it out of the evaluation as an
:class:`EngineFault`, and the evaluator raises it as itself, with its traceback. Both
kinds travel through jsonata-python as JExceptions, which it passes on unchanged (it turns
any other exception raised under ``and``/``or`` into a bare "Unexpected").
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from jsonata import Jsonata
from jsonata.functions import Functions
from jsonata.jexception import JException
from jsonata.utils import Utils

from asl.bindings import Bindings
from asl.jsontext import parse_json
from asl.limits import check_text, check_value

__all__ = ["AWS_FRAME", "DYNAMIC", "EngineFault", "FunctionError", "guarded"]

_NULL = Utils.NULL_VALUE


class FunctionError(JException):  # type: ignore[misc]
    """An AWS extra function rejected its arguments (AWS's wording is not recorded)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, -1)
        self.message = message


class EngineFault(JException):  # type: ignore[misc]
    """An exception the engine's own code raised during an evaluation, carried out of it."""

    def __init__(self, fault: Exception) -> None:
        super().__init__("engine fault", -1)
        self.fault = fault


def guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, called back by jsonata-python, with its faults carried out as
    :class:`EngineFault`. Deliberate JExceptions pass, and so does RecursionError: the
    depth of the expression's own recursion, not a fault of the function."""

    @functools.wraps(function)
    def call(*args: Any) -> Any:
        try:
            return function(*args)
        except (JException, RecursionError):
            raise
        except Exception as exc:
            raise EngineFault(exc) from exc

    return call


# --- AWS's extra functions -----------------------------------------------------------------

_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384"}
_HASHES["SHA-512"] = "sha512"
_MAX_RANGE = 1000  # as States.ArrayRange; AWS documents $range as its JSONata equivalent


def _is_integer(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value % 1 == 0


def _partition(array: Any, size: Any) -> Any:
    if array is None or size is None:
        return None
    if not _is_integer(size) or size < 1:
        raise FunctionError(f"$partition: the chunk size must be a positive integer: {size}")
    items = list(array)
    if not items:
        raise FunctionError("$partition: the array to partition is empty")
    n = int(size)
    return [items[i : i + n] for i in range(0, len(items), n)]


def _range(start: Any, end: Any, step: Any) -> Any:
    if start is None or end is None or step is None:
        return None
    if not (_is_integer(start) and _is_integer(end) and _is_integer(step)):
        raise FunctionError("$range: the start, end and step must be integers")
    first, last, by = int(start), int(end), int(step)
    if by == 0:
        raise FunctionError("$range: the step must not be 0")
    if (last - first) // by + 1 > _MAX_RANGE:
        raise FunctionError(f"$range: the range has more than {_MAX_RANGE} items")
    # A sequence, as AWS returns it: one item is that item, none is undefined.
    return Utils.create_sequence_from_iter(range(first, last + (1 if by > 0 else -1), by))


def _hash(value: Any, algorithm: Any) -> Any:
    if value is None or algorithm is None:
        return None
    name = _HASHES.get(algorithm)
    if name is None:
        raise FunctionError(f"$hash: the algorithm must be one of {', '.join(_HASHES)}")
    return hashlib.new(name, value.encode("utf-8")).hexdigest()


def _parse_json(text: Any) -> Any:
    if text is None:
        return None
    try:
        value = parse_json(text)
    except ValueError as exc:
        raise FunctionError(f"$parse: the string is not JSON: {exc}") from None
    return _NULL if value is None else value


def _seeded_random(seed: float) -> float:
    digest = hashlib.sha256(repr(float(seed)).encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def _shuffle(array: Any, bindings: Bindings) -> Any:
    if array is None:
        return None
    items = list(array)
    for i in range(len(items) - 1, 0, -1):  # Fisher-Yates, drawing from the entropy
        j = min(int(bindings.entropy.random() * (i + 1)), i)
        items[i], items[j] = items[j], items[i]
    return items


def _context_millis(context: Any) -> int:
    """The state's entry time (else the execution's start) in epoch milliseconds."""
    for section, key in (("State", "EnteredTime"), ("Execution", "StartTime")):
        part = context.get(section) if isinstance(context, Mapping) else None
        text = part.get(key) if isinstance(part, Mapping) else None
        try:
            moment = datetime.fromisoformat(text) if isinstance(text, str) else None
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return int(moment.timestamp() * 1000)
    return 0


def _function(name: str, signature: str, implementation: Callable[..., Any]) -> Any:
    def checked(*args: Any) -> Any:
        # jsonata-python lets JSON null through every signature type; JSONata's own
        # signature check refuses it (null is its own type), with T0410.
        for index, arg in enumerate(args, 1):
            if arg is _NULL:
                raise JException("T0410", -1, index, name)
        return implementation(*args)

    function = Jsonata.JFunction(Jsonata.JLambda(guarded(checked)), signature)
    function.signature.set_function_name(name)
    return function


def _now(bindings: Bindings, picture: str | None, zone: str | None) -> Any:
    try:
        return Functions.datetime_from_millis(_context_millis(bindings.context), picture, zone)
    except ValueError as exc:  # jsonata-python's own refusal of the picture or the zone
        raise FunctionError(f"$now: {exc}") from None


def _random_function(b: Bindings) -> Any:
    def draw(seed: Any = None) -> float:
        return b.entropy.random() if seed is None else _seeded_random(seed)

    return _function("random", "<n?:n>", draw)


# Functions that read the evaluation's bindings, made when an expression first looks one up.
DYNAMIC: dict[str, Callable[[Bindings], Any]] = {
    "random": _random_function,
    "uuid": lambda b: _function("uuid", "<:s>", b.entropy.uuid4),
    "shuffle": lambda b: _function("shuffle", "<a:a>", lambda a: _shuffle(a, b)),
    "millis": lambda b: _function("millis", "<:n>", lambda: _context_millis(b.context)),
    "now": lambda b: _function("now", "<s?s?:s>", lambda p=None, z=None: _now(b, p, z)),
}

# --- built-in functions, bounded ----------------------------------------------------------


class _Bounded(Functions):  # type: ignore[misc]
    """jsonata-python's built-ins that can build or walk a huge value in one call, with
    that value's size checked first; each then does what jsonata-python's does."""

    @staticmethod
    def pad(string: Any, width: Any, char: Any) -> Any:
        if _is_number(width) and math.isfinite(width):
            check_text(abs(int(width)))
        return Functions.pad(string, width, char)

    @staticmethod
    def join(strs: Any, separator: Any) -> Any:
        if isinstance(strs, list):
            gaps = len(separator) * (len(strs) - 1) if isinstance(separator, str) else 0
            check_text(sum(len(s) for s in strs if isinstance(s, str)) + gaps)
        return Functions.join(strs, separator)

    @staticmethod
    def replace(string: Any, pattern: Any, replacement: Any, limit: Any) -> Any:
        # A regular expression builds its result in asl.jsonata_regex, within the limit.
        if not (isinstance(string, str) and isinstance(pattern, str) and pattern):
            return Functions.replace(string, pattern, replacement, limit)
        if not isinstance(replacement, str) or (limit is not None and limit < 0):
            return Functions.replace(string, pattern, replacement, limit)
        # A text pattern: every match is the pattern, so every replacement is the same
        # text, made once by jsonata-python's own rules ("$0", "$$"...); the result's length
        # is then known before it is built, and str.replace builds it in one pass.
        expanded = Functions.replace(pattern, pattern, replacement, None)
        count = string.count(pattern)
        if limit is not None:
            count = min(count, math.ceil(limit))
        check_text(len(string) + count * (len(expanded) - len(pattern)))
        return string.replace(pattern, expanded, count)

    @staticmethod
    def string(arg: Any, prettify: Any) -> Any:
        if isinstance(arg, list | dict):
            check_value(arg)
        return Functions.string(arg, prettify)

    @staticmethod
    def distinct(arr: Any) -> Any:
        if not isinstance(arr, list) or len(arr) <= 1:
            return Functions.distinct(arr)
        check_value(arr)
        # jsonata-python compares every item with every kept one (Python's ==): the same
        # result, found by hashing keys that are equal exactly when the items are ==.
        try:
            keys = [_equality_key(item) for item in arr]
        except TypeError:  # an item that cannot be hashed (a function): compare as it does
            return Functions.distinct(arr)
        kept = Utils.create_sequence() if isinstance(arr, Utils.JList) else []
        seen: set[Any] = set()
        for item, key in zip(arr, keys, strict=True):
            if key not in seen:
                seen.add(key)
                kept.append(item)
        return kept


def _equality_key(value: Any) -> Any:
    """A hashable key, equal for two JSON values exactly when they are equal by ``==``."""
    if isinstance(value, list):
        return ("array", tuple(_equality_key(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, _equality_key(v)) for k, v in value.items()))
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounded(name: str, signature: str) -> Any:
    return Jsonata.function(name, signature, _Bounded, name)


AWS_FRAME = Jsonata.Frame(Jsonata.static_frame)
# The signatures are jsonata-python's own (Jsonata.register_functions).
AWS_FRAME.bind("pad", _bounded("pad", "<s-ns?:s>"))
AWS_FRAME.bind("join", _bounded("join", "<a<s>s?:s>"))
AWS_FRAME.bind("replace", _bounded("replace", "<s-(sf)(sf)n?:s>"))
AWS_FRAME.bind("string", _bounded("string", "<x-b?:s>"))
AWS_FRAME.bind("distinct", _bounded("distinct", "<x:x>"))
AWS_FRAME.bind("partition", _function("partition", "<an:a>", _partition))
AWS_FRAME.bind("range", _function("range", "<nnn:a>", _range))
AWS_FRAME.bind("hash", _function("hash", "<ss:s>", _hash))
AWS_FRAME.bind("parse", _function("parse", "<s:x>", _parse_json))
AWS_FRAME.bind("eval", None)  # not in AWS's JSONata: calling it is calling a non-function
