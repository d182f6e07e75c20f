"""Runtime errors of ASL: one ``StatesError(error, cause)`` and the matching rules."""

from __future__ import annotations

from collections.abc import Iterable

ALL = "States.ALL"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
TIMEOUT = "States.Timeout"
TASK_FAILED = "States.TaskFailed"
PERMISSIONS = "States.Permissions"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
RUNTIME = "States.Runtime"

#: Every predefined ``States.*`` name a definition may use in ErrorEquals or Fail.
PREDEFINED: frozenset[str] = frozenset(
    {
        ALL,
        HEARTBEAT_TIMEOUT,
        TIMEOUT,
        TASK_FAILED,
        PERMISSIONS,
        RESULT_PATH_MATCH_FAILURE,
        PARAMETER_PATH_FAILURE,
        QUERY_EVALUATION_ERROR,
        BRANCH_FAILED,
        NO_CHOICE_MATCHED,
        INTRINSIC_FAILURE,
        EXCEED_TOLERATED_FAILURE_THRESHOLD,
        ITEM_READER_FAILED,
        RESULT_WRITER_FAILED,
        DATA_LIMIT_EXCEEDED,
        RUNTIME,
    }
)

#: HTTP Task errors are a family: ``States.Http.StatusCode.<code>`` and ``States.Http.Socket``.
HTTP_PREFIX = "States.Http."

# States.ALL matches everything but States.Runtime. AWS's error-handling page also
# excludes States.DataLimitExceeded, but a Task result over the limit recorded against
# AWS is caught by States.ALL (localstack test_states_errors snapshot): the recording wins.
_NOT_MATCHED_BY_ALL = frozenset({RUNTIME})
# States.TaskFailed matches every known error except a timeout [AWS error handling]; it
# is not known to take DataLimitExceeded, which only States.ALL is recorded taking.
_NOT_MATCHED_BY_TASK_FAILED = frozenset({RUNTIME, TIMEOUT, DATA_LIMIT_EXCEEDED})


#: The longest error name and cause AWS keeps, in UTF-16 code units (Java's string length):
#: the botocore model's ``SensitiveError`` and ``SensitiveCause`` shapes of every history
#: event detail, SendTaskFailure and StopExecution.
ERROR_MAX_LENGTH = 256
CAUSE_MAX_LENGTH = 32_768


class StatesError(Exception):
    """An ASL runtime error: an error name and a cause, as AWS reports them."""

    def __init__(self, error: str, cause: str | None = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause

    def __repr__(self) -> str:
        return f"StatesError({self.error!r}, {self.cause!r})"


def is_predefined(name: str) -> bool:
    """True for a name AWS defines under ``States.``."""
    return name in PREDEFINED or name.startswith(HTTP_PREFIX)


def error_matches(error_equals: Iterable[str], error: str | None) -> bool:
    """Whether a Retrier's or Catcher's ErrorEquals matches an error name."""
    for name in error_equals:
        if name == error:
            return True
        if name == ALL and error not in _NOT_MATCHED_BY_ALL:
            return True
        if name == TASK_FAILED and error not in _NOT_MATCHED_BY_TASK_FAILED:
            return True
    return False


def first_match(error_equals: Iterable[Iterable[str]], error: str | None) -> int | None:
    """The index of the first Retrier or Catcher (given by their ErrorEquals, in order) that
    handles an error: AWS scans them in order and applies the first that names it [AWS
    error handling: "Step Functions scans through the retriers", and the catchers "in the
    order listed in the array"]. None when none does; ``States.Runtime`` is never retried
    nor caught."""
    if error == RUNTIME:
        return None
    for index, names in enumerate(error_equals):
        if error_matches(names, error):
            return index
    return None


def java_length(text: str) -> int:
    """The length of text as AWS's (Java) limits count it: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def capped(failure: StatesError) -> StatesError:
    """The failure with its error name and cause cut to what AWS's history events hold.

    AWS records no failure beyond these lengths (its event shapes cannot hold one), and
    no recording shows how it shortens a longer one: they are cut at the limit, never
    inside a surrogate pair, with nothing added.
    """
    error, cause = failure.error, failure.cause
    short_error = error if error is None else _cut(error, ERROR_MAX_LENGTH)
    short_cause = cause if cause is None else _cut(cause, CAUSE_MAX_LENGTH)
    if short_error is error and short_cause is cause:
        return failure
    return StatesError(short_error, short_cause)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit // 2 or java_length(text) <= limit:
        return text
    units = text.encode("utf-16-le", "surrogatepass")[: 2 * limit]
    if 0xD8 <= units[-1] <= 0xDB:  # a high surrogate whose low half was cut off
        units = units[:-2]
    return units.decode("utf-16-le", "surrogatepass")
