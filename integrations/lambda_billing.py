"""What local Lambda invocations would be billed, and the record each leaves (with its log)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from integrations.handler_logs import log_text
from integrations.lambda_runtime import LocalFunction, Outcome, parse_payload

__all__ = ["KEPT_INVOCATIONS", "Billing", "Invocation", "Invocations", "bill"]

#: How many of the latest invocations ``LocalFunctions.invocations`` keeps: an engine that
#: serves for weeks must not keep every one (their totals are kept in a :class:`Billing`).
KEPT_INVOCATIONS = 10_000


@dataclass(frozen=True, slots=True)
class Invocation:
    """One invocation as Lambda would bill it, and what its handler wrote (``output``)."""

    function: str
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    error: str | None
    output: str = ""

    def log(self) -> str:
        """The invocation's log as Lambda writes it to CloudWatch Logs: START, the
        handler's output, END and REPORT."""
        return log_text(
            self.request_id, self.output, self.duration_ms, self.billed_ms, self.memory_mb
        )


#: An :class:`Invocation`'s fields, in order: what :class:`Invocations` keeps of one.
Fields = tuple[str, str, float, int, int, "str | None", str]


class Invocations(Sequence[Invocation]):
    """The latest ``maxlen`` invocations, oldest first. Each is kept as its fields and made
    an :class:`Invocation` when read: an engine makes one per Lambda Task, and reads few."""

    __slots__ = ("_kept",)

    def __init__(self, maxlen: int) -> None:
        self._kept: deque[Fields] = deque(maxlen=maxlen)

    @property
    def maxlen(self) -> int | None:
        """How many are kept at most."""
        return self._kept.maxlen

    def add(self, fields: Fields) -> None:
        """Keep one more (the oldest goes once there are ``maxlen``)."""
        self._kept.append(fields)

    def __len__(self) -> int:
        return len(self._kept)

    @overload
    def __getitem__(self, index: int) -> Invocation: ...

    @overload
    def __getitem__(self, index: slice) -> list[Invocation]: ...

    def __getitem__(self, index: int | slice) -> Invocation | list[Invocation]:
        if isinstance(index, slice):
            return [Invocation(*fields) for fields in list(self._kept)[index]]
        return Invocation(*self._kept[index])

    def __iter__(self) -> Iterator[Invocation]:
        for fields in list(self._kept):  # a copy: invocations may end while it is read
            yield Invocation(*fields)

    def __repr__(self) -> str:
        return f"Invocations({list(self)!r})"


@dataclass(slots=True)
class Billing:
    """What every invocation so far would be billed, however few of them are kept."""

    invocations: int = 0
    billed_ms: int = 0
    gb_seconds: float = 0.0
    #: Whether any handler wrote to its log.
    logged: bool = False

    def add(self, record: Invocation) -> None:
        """Count one more invocation."""
        self.count(record.billed_ms, record.memory_mb, record.output)

    def count(self, billed_ms: int, memory_mb: int, output: str) -> None:
        """Count one more invocation, billed ``billed_ms`` at ``memory_mb``, that wrote
        ``output``."""
        self.invocations += 1
        self.billed_ms += billed_ms
        self.gb_seconds += billed_ms / 1000 * memory_mb / 1024
        self.logged = self.logged or bool(output)


def bill(function: LocalFunction, request_id: str, seconds: float, outcome: Outcome) -> Fields:
    """The billing record of one run, as :class:`Invocation`'s fields: duration rounded up
    to 1 ms; a timeout bills it all."""
    duration_ms = seconds * 1000
    billed = max(1, math.ceil(duration_ms))
    if outcome.timed_out:
        billed = function.timeout * 1000
        duration_ms = float(billed)
    error = None
    if outcome.function_error:
        body = parse_payload(outcome.payload)
        error_type = body.get("errorType") if isinstance(body, dict) else None
        error = error_type if isinstance(error_type, str) else "Lambda.Unknown"
    return (function.name, request_id, duration_ms, billed, function.memory, error, outcome.log)
