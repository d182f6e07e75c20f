"""The length limits AWS's API enforces on request members, and its error for a breach.

Step Functions checks a request's members against the constraints of its service model
before anything else and answers a breach with ``ValidationException``: "1 validation
error detected: Value at 'cause' failed to satisfy constraint: Member must have length
less than or equal to 32768" (recorded from SendTaskFailure in irothschild/stefuna#8).
A sensitive member's value is left out of the message, as there.
"""

from __future__ import annotations

from asl.errors import CAUSE_MAX_LENGTH, ERROR_MAX_LENGTH, java_length
from runtime.store import ApiError

__all__ = [
    "INPUT_MAX_CHARACTERS",
    "OUTPUT_MAX_BYTES",
    "ValidationException",
    "check_error_and_cause",
    "check_lengths",
]

#: StartExecution's ``input``: at most this many characters (botocore's service model).
INPUT_MAX_CHARACTERS = 262_144
#: SendTaskSuccess's ``output``: at most this many bytes of UTF-8 (botocore's model and the
#: API reference: "Length constraints apply to the payload size, and are expressed as bytes
#: in UTF-8 encoding").
OUTPUT_MAX_BYTES = 262_144


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


def check_error_and_cause(error: str | None, cause: str | None) -> None:
    """The ``error`` and ``cause`` of SendTaskFailure and StopExecution: at most 256 and
    32,768 characters (UTF-16 code units, as AWS counts)."""
    check_lengths(
        ("error", 0 if error is None else java_length(error), ERROR_MAX_LENGTH),
        ("cause", 0 if cause is None else java_length(cause), CAUSE_MAX_LENGTH),
    )
