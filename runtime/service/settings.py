"""What ``asl serve`` runs with: its own options, and the configuration a Step Functions
Local user already has in the environment.

Step Functions Local's variables (its configuration page: AWS_ACCOUNT_ID,
AWS_DEFAULT_REGION, SFN_MOCK_CONFIG and the ``<SERVICE>_ENDPOINT`` overrides) are read
where this engine can honour them: the SQS, SNS and DynamoDB endpoints are where the AWS
integrations send their calls (one endpoint for all, as here every AWS integration shares
one); the others have no counterpart and are named in a warning, never silently ignored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from runtime.defaults import (
    DEFAULT_ACCOUNT,
    DEFAULT_NAMESPACE,
    DEFAULT_REGION,
    DEFAULT_TASK_QUEUE,
)

__all__ = ["ServiceSettings", "SettingsError", "from_environment"]

#: Step Functions Local's endpoint variables this engine sends AWS calls to.
AWS_ENDPOINT_VARIABLES = ("SQS_ENDPOINT", "SNS_ENDPOINT", "DYNAMODB_ENDPOINT")
#: Step Functions Local's variables with no counterpart here, and why.
UNUSED_VARIABLES = {
    "LAMBDA_ENDPOINT": "Lambda Tasks run the local handlers of --functions",
    "BATCH_ENDPOINT": "AWS Batch is not integrated",
    "ECS_ENDPOINT": "Amazon ECS is not integrated",
    "GLUE_ENDPOINT": "AWS Glue is not integrated",
    "SAGE_MAKER_ENDPOINT": "SageMaker is not integrated",
    "STEP_FUNCTIONS_ENDPOINT": "nested executions run on this server",
    "WAIT_TIME_SCALE": "use --clock virtual for waits that take no time",
}


class SettingsError(ValueError):
    """Settings that cannot work together."""


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Everything the API server is built from."""

    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    clock: Literal["virtual", "real"] = "real"
    functions: Path | None = None
    connections: Path | None = None
    resources: Path | None = None
    mock_config: Path | None = None
    #: Where the AWS integrations' calls go (None: ``ASL_AWS_ENDPOINT_URL`` or the
    #: embedded moto server).
    aws_endpoint: str | None = None
    #: How long GetActivityTask waits for a task (AWS: 60 seconds).
    activity_poll_seconds: float = 60.0
    #: How long a connection may stay idle (no request in progress) before the server
    #: closes it, so clients that open connections and walk away cannot hold its file
    #: descriptors. AWS documents none for its endpoints; Elastic Load Balancing's default
    #: idle timeout is 60 seconds ("Configure the idle connection timeout", Classic Load
    #: Balancers Guide), as here. botocore opens a new connection for a closed one.
    idle_seconds: float = 60.0
    #: The schedules file of ``--schedules`` (EventBridge Scheduler's entries).
    schedules: Path | None = None
    #: The SQLite database the server keeps its state in (a directory holds
    #: ``store.sqlite3``): the durable engine's machines, executions and histories, the
    #: API's catalog and where the schedules stand; ``":memory:"``: nothing outlives the
    #: server.
    db: str | os.PathLike[str] = ":memory:"
    #: The token the web console asks for once (``?token=``); None: it asks for none.
    console_token: str | None = None
    #: Where executions live: on the server's engine, or on Temporal.
    backend: Literal["local", "temporal"] = "local"
    #: The Temporal frontend (``HOST:PORT``), namespace and task queue of the temporal
    #: backend (where ``asl worker`` processes poll).
    temporal_address: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    task_queue: str = DEFAULT_TASK_QUEUE


def from_environment(
    environment: Mapping[str, str], settings: ServiceSettings
) -> tuple[ServiceSettings, list[str]]:
    """``settings`` completed from Step Functions Local's variables (an option given
    wins over a variable), and warnings for the variables that cannot be honoured."""
    endpoints = {environment[v] for v in AWS_ENDPOINT_VARIABLES if environment.get(v)}
    if len(endpoints) > 1:
        named = ", ".join(
            f"{v}={environment[v]}" for v in AWS_ENDPOINT_VARIABLES if environment.get(v)
        )
        raise SettingsError(f"the AWS integrations share one endpoint, but these differ: {named}")
    mock = environment.get("SFN_MOCK_CONFIG")
    completed = replace(
        settings,
        mock_config=settings.mock_config or (Path(mock) if mock else None),
        aws_endpoint=settings.aws_endpoint or (endpoints.pop() if endpoints else None),
    )
    warnings = [
        f"{variable} is not used: {why}"
        for variable, why in UNUSED_VARIABLES.items()
        if environment.get(variable)
    ]
    return completed, warnings
