"""AWS service integrations through aiobotocore: the optimized ``sqs:sendMessage``,
``sns:publish``, ``dynamodb:getItem|putItem|updateItem|deleteItem`` and
``events:putEvents``, the Distributed Map's ``s3:getObject|listObjectsV2|putObject``, and
the generic ``aws-sdk:SERVICE:ACTION``.

Where calls go (see :class:`AwsConfig`): ``AwsConfig(endpoint_url=...)`` (LocalStack, a
moto server, real AWS), else the environment variable ``ASL_AWS_ENDPOINT_URL``, else a
moto server embedded in this process, started on first use and stopped at exit, so
examples run with no setup.

Importing this package is cheap: aiobotocore (and moto) load when the first AWS Task runs.

>>> from integrations.base import Registry
>>> from integrations.aws import AwsConfig, install
>>> aws = install(Registry(), AwsConfig(endpoint_url="http://localhost:4566"))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from integrations.aws.config import ENDPOINT_ENV, OPTIMIZED_KEYS, S3_KEYS, SDK_PREFIX, AwsConfig
from integrations.base import Registry, TaskRequest

if TYPE_CHECKING:
    from integrations.aws.client import AwsClients
    from integrations.aws.optimized import OptimizedAwsIntegration
    from integrations.aws.s3 import S3ItemIntegration
    from integrations.aws.sdk import AwsSdkIntegration

    _Loaded = tuple[AwsClients, OptimizedAwsIntegration, AwsSdkIntegration, S3ItemIntegration]

__all__ = [
    "ENDPOINT_ENV",
    "AwsClients",
    "AwsConfig",
    "AwsIntegrations",
    "AwsSdkIntegration",
    "OptimizedAwsIntegration",
    "install",
]

_LAZY = {
    "AwsClients": "integrations.aws.client",
    "AwsSdkIntegration": "integrations.aws.sdk",
    "OptimizedAwsIntegration": "integrations.aws.optimized",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AwsIntegrations:
    """Every AWS Task resource (optimized, the Distributed Map's S3 resources and
    ``aws-sdk:*``) on shared clients, the AWS SDK loaded on first use."""

    def __init__(self, config: AwsConfig | None = None) -> None:
        self.config = config if config is not None else AwsConfig()
        self._loaded: _Loaded | None = None

    @property
    def clients(self) -> AwsClients:
        """The clients the integrations call through (``await clients.endpoint_url()``)."""
        return self._load()[0]

    def _load(self) -> _Loaded:
        if self._loaded is None:
            from integrations.aws.client import AwsClients
            from integrations.aws.optimized import OptimizedAwsIntegration
            from integrations.aws.s3 import S3ItemIntegration
            from integrations.aws.sdk import AwsSdkIntegration

            clients = AwsClients(self.config)
            self._loaded = (
                clients,
                OptimizedAwsIntegration(clients),
                AwsSdkIntegration(clients),
                S3ItemIntegration(clients),
            )
        return self._loaded

    async def invoke(self, request: TaskRequest) -> Any:
        """Run an AWS Task resource; its result, or ``StatesError``."""
        _, optimized, sdk, s3 = self._load()
        key = request.resource.key
        if key.startswith(SDK_PREFIX):
            return await sdk.invoke(request)
        if key in S3_KEYS:
            return await s3.invoke(request)
        return await optimized.invoke(request)


def install(registry: Registry, config: AwsConfig | None = None) -> AwsIntegrations:
    """Serve every optimized AWS resource, the Distributed Map's S3 resources and
    ``aws-sdk:*`` from ``registry``."""
    integrations = AwsIntegrations(config)
    for key in (*OPTIMIZED_KEYS, *S3_KEYS, SDK_PREFIX):
        registry.register(key, integrations)
    return integrations
