"""AWS service integrations through aiobotocore: the optimized ``sqs:sendMessage``,
``sns:publish``, ``dynamodb:*Item`` and ``events:putEvents``, and the generic
``aws-sdk:SERVICE:ACTION``.

Where calls go (see :class:`AwsConfig`): ``AwsConfig(endpoint_url=...)`` (LocalStack,
moto, real AWS), else the environment variable ``ASL_AWS_ENDPOINT_URL``, else a moto
server embedded in this process, started on first use and stopped at exit, so examples
run with no setup.

>>> from integrations.base import Registry
>>> from integrations.aws import AwsConfig, install
>>> registry = Registry()
>>> clients = install(registry, AwsConfig(endpoint_url="http://localhost:4566"))
"""

from __future__ import annotations

from integrations.aws.client import ENDPOINT_ENV, AwsClients, AwsConfig
from integrations.aws.optimized import OPTIMIZED_KEYS, OptimizedAwsIntegration
from integrations.aws.sdk import PREFIX, AwsSdkIntegration
from integrations.base import Registry

__all__ = [
    "ENDPOINT_ENV",
    "AwsClients",
    "AwsConfig",
    "AwsSdkIntegration",
    "OptimizedAwsIntegration",
    "install",
]


def install(registry: Registry, config: AwsConfig | None = None) -> AwsClients:
    """Serve every optimized AWS resource and ``aws-sdk:*`` from ``registry``; returns the
    clients the integrations share (to ask where calls go: ``await clients.endpoint_url()``)."""
    clients = AwsClients(config)
    optimized = OptimizedAwsIntegration(clients)
    for key in OPTIMIZED_KEYS:
        registry.register(key, optimized)
    registry.register(PREFIX, AwsSdkIntegration(clients))
    return clients
