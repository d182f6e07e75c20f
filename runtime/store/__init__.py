"""The local store processes share: tasks waiting on task tokens and activities (SQLite).

``asl run`` and ``asl tasks`` meet here; the API server will build on the same tables.
"""

from runtime.store.errors import (
    ActivityWorkerLimitExceeded,
    ApiError,
    InvalidArn,
    InvalidOutput,
    InvalidToken,
    StoreError,
    TaskDoesNotExist,
    TaskTimedOut,
)
from runtime.store.tasks import NewTask, TaskRecord, TaskStore, default_store_path

__all__ = [
    "ActivityWorkerLimitExceeded",
    "ApiError",
    "InvalidArn",
    "InvalidOutput",
    "InvalidToken",
    "NewTask",
    "StoreError",
    "TaskDoesNotExist",
    "TaskRecord",
    "TaskStore",
    "TaskTimedOut",
    "default_store_path",
]
