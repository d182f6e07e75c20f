"""What local Lambda invocations would be billed, and the record each leaves (with its log)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from integrations.handler_logs import log_text
from integrations.lambda_runtime import LocalFunction, Outcome, parse_payload

__all__ = ["KEPT_INVOCATIONS", "Billing", "Invocation", "bill"]

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
        self.invocations += 1
        self.billed_ms += record.billed_ms
        self.gb_seconds += record.billed_ms / 1000 * record.memory_mb / 1024
        self.logged = self.logged or bool(record.output)


def bill(function: LocalFunction, request_id: str, seconds: float, outcome: Outcome) -> Invocation:
    """The billing record of one run: duration rounded up to 1 ms; a timeout bills it all."""
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
    return Invocation(
        function.name, request_id, duration_ms, billed, function.memory, error, outcome.log
    )
