"""What the engine and its commands use when none is given: the region and account in
every ARN, and the Temporal namespace and task queue of executions on Temporal.

A module of its own, free of the engine and of Temporal's SDK, so that ``asl serve
--help`` and ``asl worker --help`` show them without importing either.
"""

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
#: The Temporal namespace and task queue: ``asl worker``'s, ``asl serve``'s and
#: ``TemporalExecutions``'s defaults, so that they meet.
DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_QUEUE = "asl-executions"
