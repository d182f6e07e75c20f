"""Where AWS calls go, and the aiobotocore clients that make them.

:class:`AwsConfig` says where to send calls: ``endpoint_url`` (LocalStack, a moto
server, any AWS-compatible endpoint), else the environment variable
``ASL_AWS_ENDPOINT_URL``, else the embedded moto server started in this process
(:mod:`integrations.aws.embedded`), or real AWS when ``embedded=False``.

Clients behave like the SDKs Step Functions runs on: no client-side parameter
validation (the service answers, as it does for Step Functions), one attempt per call
(a Task's ``Retry`` is the place to retry), and checksums only where an API requires them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiobotocore.session import get_session
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.model import OperationModel, ServiceModel

from integrations.aws.config import ENDPOINT_ENV, AwsConfig
from integrations.aws.embedded import embedded_endpoint_url
from integrations.aws.errors import ErrorStyle, client_error, service_error
from integrations.aws.shapes import payload_member

__all__ = ["RAW_HEADERS", "AwsClients"]

#: Where a response's headers, in their wire case and order, are kept in ``ResponseMetadata``.
RAW_HEADERS = "AslRawHeaders"


class AwsClients:
    """Makes AWS API calls for the integrations, each on a short-lived client.

    A client lives for one call, so no connection outlives the event loop that opened
    it (engines are often run by ``asyncio.run``, one loop per run).
    """

    def __init__(
        self, config: AwsConfig | None = None, *, environ: Mapping[str, str] | None = None
    ) -> None:
        self.config = config if config is not None else AwsConfig()
        env = os.environ if environ is None else environ
        self._endpoint = self.config.endpoint_url or env.get(ENDPOINT_ENV) or None
        self._session = get_session()
        self._models: dict[str, ServiceModel] = {}
        self._services: frozenset[str] | None = None
        self._botocore_config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            parameter_validation=False,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=10,
            read_timeout=70,
        )

    async def endpoint_url(self) -> str | None:
        """Where calls go (None: AWS's public endpoints); starts embedded moto if needed."""
        if self._endpoint is None and self.config.embedded:
            self._endpoint = await asyncio.to_thread(embedded_endpoint_url)
        return self._endpoint

    def available_services(self) -> frozenset[str]:
        """botocore's names of every service it knows."""
        if self._services is None:
            self._services = frozenset(self._session.get_available_services())
        return self._services

    async def service_model(self, service: str) -> ServiceModel:
        """botocore's model of a service (read from disk once)."""
        model = self._models.get(service)
        if model is None:
            model = await self._session.get_service_model(service)
            self._models[service] = model
        return model

    async def call(
        self, service: str, operation: OperationModel, params: dict[str, Any], style: ErrorStyle
    ) -> dict[str, Any]:
        """Call the operation; the parsed response, its payload blob read into bytes.

        A service's error answer or a failed connection raises ``StatesError`` named in
        ``style``.
        """
        try:
            async with self.client(service) as client:
                response: dict[str, Any] = await getattr(client, xform_name(operation.name))(
                    **params
                )
                payload = payload_member(operation.output_shape)
                body = response.get(payload) if payload is not None else None
                if payload is not None and hasattr(body, "read"):
                    response[payload] = await body.read()  # type: ignore[union-attr]
                return response
        except ClientError as exc:
            raise service_error(exc, style) from None
        except BotoCoreError as exc:
            raise client_error(exc, style) from None

    @asynccontextmanager
    async def client(self, service: str) -> AsyncIterator[Any]:
        """An aiobotocore client for one service at the configured endpoint."""
        endpoint = await self.endpoint_url()
        config = self.config
        async with self._session.create_client(
            service,
            region_name=config.region,
            endpoint_url=endpoint,
            aws_access_key_id=config.access_key_id,
            aws_secret_access_key=config.secret_access_key,
            aws_session_token=config.session_token,
            config=self._botocore_config,
        ) as client:
            client.meta.events.register("after-call", _keep_raw_headers)
            yield client


def _keep_raw_headers(http_response: Any, parsed: Any, **_: Any) -> None:
    """botocore lower-cases header names; Step Functions reports them as sent."""
    raw = getattr(getattr(http_response, "raw", None), "raw_headers", None)
    if raw is None or not isinstance(parsed, dict):
        return
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
    parsed.setdefault("ResponseMetadata", {})[RAW_HEADERS] = headers
