"""The errors of the Step Functions API calls the task store serves (SendTask*, GetActivityTask).

Each carries AWS's error code (``code``) and a message in AWS's wording where it is known;
the API server returns them as ``{"__type": code, "message": message}``, the CLI prints
them as ``code: message``.
"""

from __future__ import annotations

from typing import ClassVar

#: Observed from AWS for a token whose task has ended (answered, timed out, execution
#: over): ``TaskTimedOut`` with this message.
TASK_TIMED_OUT_MESSAGE = "Task Timed Out: 'Provided task does not exist anymore'"
# AWS's wording for these two is not recorded anywhere we could find; they follow the
# pattern of its other messages ("<Title Case Name>: '<detail>'").
INVALID_TOKEN_MESSAGE = "Invalid Token: 'Invalid token'"
TASK_DOES_NOT_EXIST_MESSAGE = "Task Does Not Exist: 'Provided task does not exist'"


class ApiError(Exception):
    """An error of a Step Functions API call: AWS's ``code`` and a message, answered with
    HTTP ``status`` (400, as AWS answers every modelled error of this API, unless the
    service, not the request, is at fault)."""

    code: ClassVar[str] = "ApiError"
    status: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidToken(ApiError):
    """The token is not one this engine could have issued (malformed)."""

    code = "InvalidToken"

    def __init__(self, message: str = INVALID_TOKEN_MESSAGE) -> None:
        super().__init__(message)


class TaskDoesNotExist(ApiError, LookupError):
    """A well-formed token that no task was ever given."""

    code = "TaskDoesNotExist"

    def __init__(self, message: str = TASK_DOES_NOT_EXIST_MESSAGE) -> None:
        super().__init__(message)


class TaskTimedOut(ApiError):
    """The token's task has ended: answered already, timed out, or its execution is over."""

    code = "TaskTimedOut"

    def __init__(self, message: str = TASK_TIMED_OUT_MESSAGE) -> None:
        super().__init__(message)


class InvalidOutput(ApiError):
    """SendTaskSuccess with output that is not JSON text."""

    code = "InvalidOutput"


class InvalidArn(ApiError):
    """An activity ARN of the wrong shape."""

    code = "InvalidArn"


class StoreError(Exception):
    """The store's file cannot be used (corrupt, read-only, its folder a file, a full
    disk): not an answer of the API but a fault of the machine it runs on. The message
    names the file, and ``what`` it holds."""

    def __init__(self, path: object, reason: object, what: str = "task store") -> None:
        super().__init__(f"the {what} {path} cannot be used: {reason}")


class ActivityWorkerLimitExceeded(ApiError):
    """More workers poll one activity at once than AWS allows (1,000)."""

    code = "ActivityWorkerLimitExceeded"
