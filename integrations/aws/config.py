"""Where the AWS integrations send their calls (no SDK imported here: it loads on first use)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ENDPOINT_ENV", "OPTIMIZED_KEYS", "S3_KEYS", "SDK_PREFIX", "AwsConfig"]

#: The environment variable naming the endpoint when ``AwsConfig.endpoint_url`` is None.
ENDPOINT_ENV = "ASL_AWS_ENDPOINT_URL"

#: The optimized resources served (``arn:aws:states:::<key>``, with or without
#: ``.waitForTaskToken``).
OPTIMIZED_KEYS: tuple[str, ...] = (
    "sqs:sendMessage",
    "sns:publish",
    "dynamodb:getItem",
    "dynamodb:putItem",
    "dynamodb:updateItem",
    "dynamodb:deleteItem",
    "events:putEvents",
)
#: The S3 resources of a Distributed Map's ItemReader and ResultWriter
#: (``arn:aws:states:::s3:<action>``).
S3_KEYS: tuple[str, ...] = ("s3:getObject", "s3:listObjectsV2", "s3:putObject")
#: The key prefix of every ``arn:aws:states:::aws-sdk:SERVICE:ACTION`` resource.
SDK_PREFIX = "aws-sdk:"


@dataclass(frozen=True, slots=True)
class AwsConfig:
    """Where the AWS integrations send their calls, and as whom.

    ``endpoint_url`` None: ``ASL_AWS_ENDPOINT_URL`` if set, else the embedded moto
    server (``embedded=True``) or AWS's public endpoints (``embedded=False``).
    ``region`` is the region of every client. ``access_key_id``/``secret_access_key``
    None: botocore's usual credential chain (environment, profile, instance role), for
    real AWS.
    """

    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = "test"
    secret_access_key: str | None = "test"
    session_token: str | None = None
    embedded: bool = True
