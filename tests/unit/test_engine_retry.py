"""Retry and Catch decisions (runtime.retry): delays, counts, and which errors they take."""

from __future__ import annotations

import pytest

from asl.errors import error_matches
from asl.model import Catcher, Retrier
from runtime.retry import find_catcher, retry_delay


class _Half:
    """Entropy that always draws the middle of the range."""

    def random(self) -> float:
        return 0.5

    def uuid4(self) -> str:
        return "00000000-0000-4000-8000-000000000000"


def _delays(retriers: list[Retrier], errors: list[str]) -> list[float | None]:
    attempts = [0] * len(retriers)
    return [retry_delay(retriers, attempts, error, _Half()) for error in errors]


def test_aws_defaults_retry_three_times_after_1_2_and_4_seconds() -> None:
    assert _delays([Retrier(error_equals=("States.ALL",))], ["E"] * 4) == [1.0, 2.0, 4.0, None]


def test_backoff_rate_and_max_delay() -> None:
    retrier = Retrier(
        error_equals=("E",),
        interval_seconds=3,
        max_attempts=5,
        backoff_rate=2,
        max_delay_seconds=10,
    )
    assert _delays([retrier], ["E"] * 6) == [3.0, 6.0, 10.0, 10.0, 10.0, None]


def test_a_fractional_backoff_rate() -> None:
    retrier = Retrier(error_equals=("E",), interval_seconds=2, max_attempts=3, backoff_rate=1.5)
    assert _delays([retrier], ["E"] * 3) == [2.0, 3.0, 4.5]


def test_full_jitter_draws_within_the_delay() -> None:
    retrier = Retrier(error_equals=("E",), interval_seconds=4, jitter_strategy="FULL")
    assert _delays([retrier], ["E"] * 3) == [2.0, 4.0, 8.0]  # half of 4, 8, 16


def test_max_attempts_zero_never_retries() -> None:
    assert _delays([Retrier(error_equals=("E",), max_attempts=0)], ["E"]) == [None]


def test_each_retrier_counts_its_own_attempts() -> None:
    retriers = [
        Retrier(error_equals=("A",), max_attempts=1),
        Retrier(error_equals=("B",), max_attempts=2),
    ]
    attempts = [0, 0]
    decisions = [retry_delay(retriers, attempts, e, _Half()) for e in ["A", "B", "B", "A", "B"]]
    assert decisions == [1.0, 1.0, 2.0, None, None]
    assert attempts == [1, 2]


def test_the_first_matching_retrier_decides_even_when_exhausted() -> None:
    retriers = [
        Retrier(error_equals=("E",), max_attempts=1, interval_seconds=5),
        Retrier(error_equals=("States.ALL",), max_attempts=9, interval_seconds=50),
    ]
    assert _delays(retriers, ["E", "E", "Other"]) == [5.0, None, 50.0]


@pytest.mark.parametrize("name", ["States.ALL", "States.Runtime"])
def test_states_runtime_is_never_retried(name: str) -> None:
    assert _delays([Retrier(error_equals=(name,))], ["States.Runtime"]) == [None]


def test_states_task_failed_does_not_take_a_timeout() -> None:
    assert not error_matches(("States.TaskFailed",), "States.Timeout")
    assert error_matches(("States.TaskFailed",), "Lambda.ServiceException")
    assert error_matches(("States.ALL",), "States.Timeout")


def test_data_limit_exceeded_is_taken_by_states_all_and_by_name_only() -> None:
    assert error_matches(("States.ALL",), "States.DataLimitExceeded")
    assert error_matches(("States.DataLimitExceeded",), "States.DataLimitExceeded")
    assert not error_matches(("States.TaskFailed",), "States.DataLimitExceeded")


def test_catchers_are_matched_in_order_and_runtime_escapes() -> None:
    catchers = [
        Catcher(error_equals=("A", "B"), next="AB"),
        Catcher(error_equals=("States.TaskFailed",), next="Task"),
        Catcher(error_equals=("States.ALL",), next="All"),
    ]
    assert find_catcher(catchers, "B") == 0
    assert find_catcher(catchers, "C") == 1
    assert find_catcher(catchers, "States.Timeout") == 2
    assert find_catcher(catchers, "States.Runtime") is None
    runtime_catcher = Catcher(error_equals=("States.Runtime",), next="R")
    assert find_catcher([runtime_catcher], "States.Runtime") is None
    assert find_catcher([], "A") is None
