"""The errors the Step Functions API answers, each with AWS's error code.

Every one is an :class:`~runtime.store.ApiError` (``code``, ``message``); the wire layer
turns it into ``{"__type": code, "message": message}`` with HTTP status 400, as AWS answers
every modelled error of this API. Messages follow AWS's recorded wording
(``"<Title Case Name>: '<detail>'"``, localstack's snapshots recorded against AWS).
``InvalidDefinition`` is defined beside the reading of definitions, in
:mod:`runtime.definitions`, and answered from here like the others.
"""

from __future__ import annotations

from runtime.definitions import InvalidDefinition
from runtime.store import ApiError

__all__ = [
    "ActivityDoesNotExist",
    "ConflictException",
    "ExecutionAlreadyExists",
    "ExecutionDoesNotExist",
    "InvalidDefinition",
    "InvalidName",
    "MissingRequiredParameter",
    "RequestTimeout",
    "ResourceNotFound",
    "SerializationException",
    "StateMachineAlreadyExists",
    "StateMachineDoesNotExist",
    "StateMachineTypeNotSupported",
    "TooManyTags",
    "UnknownOperation",
]


class StateMachineDoesNotExist(ApiError):
    """No state machine (or version, or alias) has that ARN."""

    code = "StateMachineDoesNotExist"

    def __init__(self, arn: str) -> None:
        super().__init__(f"State Machine Does Not Exist: '{arn}'")


class StateMachineAlreadyExists(ApiError):
    """CreateStateMachine with a name in use by a machine with another definition."""

    code = "StateMachineAlreadyExists"

    def __init__(self, arn: str) -> None:
        super().__init__(f"State Machine Already Exists: '{arn}'")


class ExecutionDoesNotExist(ApiError):
    """No execution has that ARN."""

    code = "ExecutionDoesNotExist"

    def __init__(self, arn: str) -> None:
        super().__init__(f"Execution Does Not Exist: '{arn}'")


class ExecutionAlreadyExists(ApiError):
    """StartExecution with the name of an execution that ended, or with other input."""

    code = "ExecutionAlreadyExists"


class ActivityDoesNotExist(ApiError):
    """No activity has that ARN (never created, or deleted)."""

    code = "ActivityDoesNotExist"

    def __init__(self, arn: str) -> None:
        super().__init__(f"Activity Does Not Exist: '{arn}'")


class ResourceNotFound(ApiError):
    """Tagging a resource that does not exist or cannot be tagged (a version)."""

    code = "ResourceNotFound"

    def __init__(self, arn: str) -> None:
        super().__init__(f"Resource not found: '{arn}'")


class TooManyTags(ApiError):
    """A resource would have more tags than Step Functions allows (50: its quotas page).
    AWS's message is not recorded: the wording is ours."""

    code = "TooManyTags"

    def __init__(self, arn: str, limit: int) -> None:
        super().__init__(f"Too Many Tags: '{arn}' may have at most {limit} tags")


class ConflictException(ApiError):
    """A request that conflicts with the resource's state (a stale revision id, a version
    an alias still routes to)."""

    code = "ConflictException"


class InvalidName(ApiError):
    """A state machine, execution, activity or alias name AWS refuses."""

    code = "InvalidName"

    def __init__(self, name: str) -> None:
        super().__init__(f"Invalid Name: '{name}'")


class StateMachineTypeNotSupported(ApiError):
    """An operation one type of machine does not support (StartSyncExecution on STANDARD,
    ListExecutions on EXPRESS)."""

    code = "StateMachineTypeNotSupported"

    def __init__(self) -> None:
        super().__init__("This operation is not supported by this type of state machine")


class MissingRequiredParameter(ApiError):
    """A request without a member that only some of its forms may leave out (AWS's code)."""

    code = "MissingRequiredParameter"


class UnknownOperation(ApiError):
    """An ``X-Amz-Target`` naming no operation of this service (AWS's Coral framework's
    code; botocore strips the namespace before ``#``)."""

    code = "com.amazon.coral.service#UnknownOperationException"


class SerializationException(ApiError):
    """A body that is not a JSON object, or a member of the wrong JSON type."""

    code = "com.amazon.coral.service#SerializationException"


class RequestTimeout(ApiError):
    """A request whose body did not come in time (its Content-Length more than was sent).
    Step Functions documents no answer; this is S3's, as AWS's SDKs know it (status 400,
    retried by them: the operation never ran), with its words (aws/aws-sdk-js#281)."""

    code = "RequestTimeout"

    def __init__(self) -> None:
        super().__init__(
            "Your socket connection to the server was not read from or written to within "
            "the timeout period. Idle connections will be closed."
        )
