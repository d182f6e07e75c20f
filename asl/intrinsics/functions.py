"""The non-numeric ``States.*`` functions: arrays, JSON, strings, encodings, hashing, UUID.

Each body receives arguments already checked against its declared signature. Facts cite
AWS's documentation (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html)
or behaviour recorded against AWS (tests/spec/intrinsics/*.json name the recordings).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from asl.bindings import Bindings
from asl.intrinsics.render import java_text, json_text, text_key
from asl.intrinsics.signature import Function, IntrinsicError, InvalidArguments, Kind, java_int
from asl.intrinsics.template import Template, template_of_text
from asl.jsontext import parse_json
from asl.limits import check_text

ANY, STRING, NUMBER, ARRAY, OBJECT = Kind.ANY, Kind.STRING, Kind.NUMBER, Kind.ARRAY, Kind.OBJECT

#: Base64 and Hash inputs are capped at 10,000 characters (10,000 itself is accepted).
MAX_TEXT = 10_000
#: Jackson's default ``StreamReadConstraints`` nesting limit.
MAX_JSON_DEPTH = 1000
#: A few arguments of States.Format, each a payload or a value within asl.limits, are
#: joined before the result's length is checked (as every intrinsic result's is).
_FEW_ARGUMENTS = 16
# Not in a recording: the wording other AWS-parity work (tiny-asl-machine) reports for it.
_FORMAT_COUNT = (
    "Invalid arguments in States.Format: number of arguments do not match the occurrences of {}."
)


def _format(args: list[Any], bindings: Bindings) -> str:
    first = args[0]
    # A literal template arrives pre-split; anything else is read as text.
    template = first if isinstance(first, Template) else template_of_text(text_key(first))
    if template.error is not None:
        raise IntrinsicError(template.error)
    values = args[1:]
    if len(values) != template.placeholders:
        raise IntrinsicError(_FORMAT_COUNT)
    out = [template.segments[0]]
    for value, segment in zip(values, template.segments[1:], strict=True):
        out.append(java_text(value))
        out.append(segment)
    if len(values) > _FEW_ARGUMENTS:  # many large arguments: measured before they are joined
        check_text(sum(map(len, out)))
    return "".join(out)


def _string_to_json(args: list[Any], bindings: Bindings) -> Any:
    text = args[0]
    if not text.strip(" \t\r\n"):
        return None  # recorded against AWS: "" and " " (JSON whitespace only) parse to null
    try:
        value = parse_json(text)
        _check_depth(value)
    except ValueError as exc:
        raise IntrinsicError(
            f"Cannot convert String to Json in States.StringToJson, caused by: {exc}"
        ) from None
    return value


def _check_depth(value: Any) -> None:
    # AWS parses with Jackson 2.16+ (its messages say so), which refuses deeper documents.
    level = [value] if isinstance(value, list | dict) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise ValueError(
                f"Document nesting depth ({depth}) exceeds the maximum allowed "
                f"({MAX_JSON_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)"
            )
        level = [
            child
            for item in level
            for child in (item if isinstance(item, list) else item.values())
            if isinstance(child, list | dict)
        ]


def _array_partition(args: list[Any], bindings: Bindings) -> list[list[Any]]:
    items, size = args[0], java_int(args[1])
    if size < 1:
        raise InvalidArguments
    return [items[i : i + size] for i in range(0, len(items), size)]


def _array_contains(args: list[Any], bindings: Bindings) -> bool:
    # AWS compares text forms: true matches "true", key order matters in objects.
    wanted = text_key(args[1])
    return any(text_key(item) == wanted for item in args[0])


def _array_get_item(args: list[Any], bindings: Bindings) -> Any:
    items, index = args[0], java_int(args[1])
    if not items:
        return None  # observed on AWS: any index into an empty array gives null
    if not 0 <= index < len(items):
        raise InvalidArguments
    return items[index]


def _unique_key(value: Any) -> Any:
    # Type-aware structural identity: True is not 1, {"a":1,"b":2} is {"b":2,"a":1}.
    if isinstance(value, list):
        return ("array", tuple(_unique_key(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, _unique_key(v)) for k, v in value.items()))
    if isinstance(value, float):
        return ("float", value.hex())
    return (type(value).__name__, value)


def _array_unique(args: list[Any], bindings: Bindings) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for item in args[0]:
        key = _unique_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _capped(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise InvalidArguments
    return text


def _base64_encode(args: list[Any], bindings: Bindings) -> str:
    data = _capped(args[0]).encode("utf-8", "replace")
    return base64.b64encode(data).decode("ascii")


def _base64_decode(args: list[Any], bindings: Bindings) -> str:
    # AWS decodes leniently (observed: "abc", "ab==cd", " YWJjZA== " all decode): characters
    # outside the alphabet are skipped, decoding stops at padding, a short tail is kept.
    text = _capped(args[0]).split("=", 1)[0]
    alphabet = "".join(c for c in text if c.isascii() and (c.isalnum() or c in "+/"))
    usable = len(alphabet) - (1 if len(alphabet) % 4 == 1 else 0)
    padded = alphabet[:usable] + "=" * (-usable % 4)
    try:
        raw = base64.b64decode(padded)
    except binascii.Error:
        raise InvalidArguments from None
    return raw.decode("utf-8", "replace")


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384"}
_HASHES["SHA-512"] = "sha512"


def _hash(args: list[Any], bindings: Bindings) -> str:
    algorithm = _HASHES.get(args[1])
    if algorithm is None:
        raise InvalidArguments
    data = _capped(text_key(args[0])).encode("utf-8", "replace")
    return hashlib.new(algorithm, data).hexdigest()


def _json_merge(args: list[Any], bindings: Bindings) -> dict[str, Any]:
    if args[2] is True:
        raise InvalidArguments  # only the shallow mode exists
    return {**args[0], **args[1]}


def _string_split(args: list[Any], bindings: Bindings) -> list[str]:
    # Every character of the second argument is a separator; empty pieces are dropped
    # (recorded against AWS: ",,,," splits to []).
    text, separators = args
    pieces: list[str] = []
    current: list[str] = []
    for char in text:
        if char in separators:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return [piece for piece in pieces if piece]


def _json_to_string(args: list[Any], bindings: Bindings) -> str:
    return json_text(args[0])


FUNCTIONS: tuple[Function, ...] = (
    Function("States.Format", (ANY,), _format, rest=ANY),
    Function("States.StringToJson", (STRING,), _string_to_json),
    Function(
        "States.JsonToString",
        (ANY,),
        _json_to_string,
        arity_detail=": only a single argument is allowed.",
    ),
    Function("States.Array", (), lambda args, _: list(args), rest=ANY),
    Function("States.ArrayPartition", (ARRAY, NUMBER), _array_partition),
    Function("States.ArrayContains", (ARRAY, ANY), _array_contains),
    Function("States.ArrayGetItem", (ARRAY, NUMBER), _array_get_item),
    Function("States.ArrayLength", (ARRAY,), lambda args, _: len(args[0])),
    Function("States.ArrayUnique", (ARRAY,), _array_unique),
    Function("States.Base64Encode", (STRING,), _base64_encode),
    Function("States.Base64Decode", (STRING,), _base64_decode),
    Function("States.Hash", (ANY, STRING), _hash),
    Function("States.JsonMerge", (OBJECT, OBJECT, ANY), _json_merge),
    Function("States.StringSplit", (STRING, STRING), _string_split),
    Function("States.UUID", (), lambda _, b: b.entropy.uuid4(), ignores_arguments=True),
)
