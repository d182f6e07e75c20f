"""What happens after a state's work fails: retry after a delay, catch, or fail.

Pure decisions over the model; the interpreter does the sleeping and the recording.
"""

from __future__ import annotations

from collections.abc import Sequence

from asl.bindings import Entropy
from asl.errors import first_match
from asl.model import Catcher, Retrier


def retry_delay(
    retriers: Sequence[Retrier], attempts: list[int], error: str, entropy: Entropy
) -> float | None:
    """Seconds to wait before retrying, or None when the error is not retried.

    The first retrier whose ErrorEquals matches decides; each keeps its own count in
    ``attempts`` (updated here). Delay before retry k is
    min(IntervalSeconds x BackoffRate^(k-1), MaxDelaySeconds), then FULL jitter draws it
    uniformly from [0, delay]. ``States.Runtime`` is never retried.
    """
    index = first_match((retrier.error_equals for retrier in retriers), error)
    if index is None:
        return None
    retrier = retriers[index]
    if attempts[index] >= retrier.max_attempts:
        return None
    attempts[index] += 1
    delay = retrier.interval_seconds * retrier.backoff_rate ** (attempts[index] - 1)
    if retrier.max_delay_seconds is not None:
        delay = min(delay, retrier.max_delay_seconds)
    if retrier.jitter_strategy == "FULL":
        delay *= entropy.random()
    return float(delay)


def find_catcher(catchers: Sequence[Catcher], error: str) -> int | None:
    """The index of the first Catcher that handles the error; ``States.Runtime`` escapes."""
    return first_match((catcher.error_equals for catcher in catchers), error)
