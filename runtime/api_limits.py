"""The length limits AWS's API enforces on request members, and its error for a breach.

Step Functions checks a request's members against the constraints of its service model
before anything else and answers a breach with ``ValidationException``: "1 validation
error detected: Value at 'cause' failed to satisfy constraint: Member must have length
less than or equal to 32768" (recorded from SendTaskFailure in irothschild/stefuna#8).
A sensitive member's value is left out of the message, as there.
"""

from __future__ import annotations

import re

from asl.errors import CAUSE_MAX_LENGTH, ERROR_MAX_LENGTH, java_length
from runtime.store import ApiError

__all__ = [
    "PAYLOAD_MAX_BYTES",
    "ValidationException",
    "check_error_and_cause",
    "check_lengths",
    "check_payload_size",
    "valid_name",
]

#: StartExecution's ``input`` and SendTaskSuccess's ``output``: at most this many bytes of
#: UTF-8 (botocore's model gives 262,144; the API reference: "Length constraints apply to
#: the payload size, and are expressed as bytes in UTF-8 encoding").
PAYLOAD_MAX_BYTES = 262_144
#: A state machine's, execution's or activity's name (botocore's documentation of
#: CreateStateMachine's ``name``): 1-80 characters, none of white space, brackets,
#: wildcards, ``" # % \\ ^ | ~ ` $ & , ; : /``, control characters (U+0000-001F,
#: U+007F-009F, U+FFFE-FFFF), surrogates (U+D800-DFFF) or U+10FFFF.
_NAME = re.compile(
    r"[^\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\U0010ffff]{1,80}"
)


class ValidationException(ApiError, ValueError):
    """A request member outside its constraints, such as a too long input (AWS's error)."""

    code = "ValidationException"


def check_lengths(*members: tuple[str, int, int]) -> None:
    """Raise :class:`ValidationException` naming every ``(member, length, limit)`` whose
    length is over its limit, in AWS's words; do nothing when none is."""
    breaches = [
        f"Value at '{member}' failed to satisfy constraint: "
        f"Member must have length less than or equal to {limit}"
        for member, length, limit in members
        if length > limit
    ]
    if breaches:
        count = len(breaches)
        detected = f"{count} validation error{'s' if count > 1 else ''} detected: "
        raise ValidationException(detected + "; ".join(breaches))


def check_payload_size(member: str, size: int) -> None:
    """A payload member (``input``, ``output``) of ``size`` bytes of UTF-8: AWS's words for
    one over the limit, as a StartExecution call quoted them in a user's report."""
    if size > PAYLOAD_MAX_BYTES:
        raise ValidationException(
            f"1 validation error detected: Value at '{member}' failed to satisfy constraint: "
            f"Member must have size less than or equal to {PAYLOAD_MAX_BYTES} bytes in UTF-8 "
            "encoding"
        )


def check_error_and_cause(error: str | None, cause: str | None) -> None:
    """The ``error`` and ``cause`` of SendTaskFailure and StopExecution: at most 256 and
    32,768 characters (UTF-16 code units, as AWS counts)."""
    check_lengths(
        ("error", 0 if error is None else java_length(error), ERROR_MAX_LENGTH),
        ("cause", 0 if cause is None else java_length(cause), CAUSE_MAX_LENGTH),
    )


def valid_name(name: str) -> bool:
    """Whether AWS takes ``name`` as the name of a state machine, execution or activity."""
    return _NAME.fullmatch(name) is not None
