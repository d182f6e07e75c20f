"""``arn:aws:states:::aws-sdk:SERVICE:ACTION``: any API action of any AWS service.

``SERVICE`` is the service as the ARN writes it (the AWS SDK for Java 2.x's package
name: ``dynamodb``, ``s3``, ``sfn``, ``eventbridge``, ``cloudwatchlogs``) and ``ACTION``
the API action in camelCase (``getObject`` -> ``GetObject``). The Parameters are the
action's request members; the result is the response without metadata
(``{"ETag": ..., "ServerSideEncryption": ...}`` for S3 PutObject, recorded against AWS:
localstack test_aws_sdk_task_service.snapshot.json). Errors are named
``<Service>.<Exception>`` in the SDK 2.x style (:mod:`integrations.aws.errors`).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel, ServiceModel

from asl.errors import RUNTIME, StatesError
from integrations.aws.client import AwsClients
from integrations.aws.errors import ErrorStyle, sdk_style
from integrations.aws.shapes import from_response, to_request
from integrations.base import TaskRequest

__all__ = ["AwsSdkIntegration", "botocore_service_name"]

# Where the ARN's name (the Java 2.x SDK's) is neither botocore's name nor that name
# without its hyphens (``sso-admin`` -> ``ssoadmin``). Derived from botocore's service
# models: the SDK's name is the ``serviceId`` in PascalCase, lower-cased.
_ALIASES = {
    "applicationdiscovery": "discovery",
    "cloudwatchlogs": "logs",
    "cognitoidentityprovider": "cognito-idp",
    "costandusagereport": "cur",
    "costexplorer": "ce",
    "databasemigration": "dms",
    "directory": "ds",
    "directoryservicedata": "ds-data",
    "elasticloadbalancing": "elb",
    "elasticloadbalancingv2": "elbv2",
    "elasticsearch": "es",
    "eventbridge": "events",
    "iotdataplane": "iot-data",
    "iotjobsdataplane": "iot-jobs-data",
    "lexmodelbuilding": "lex-models",
    "lexmodelsv2": "lexv2-models",
    "lexruntimev2": "lexv2-runtime",
    "marketplacemetering": "meteringmarketplace",
    "migrationhub": "mgh",
    "serverlessapplicationrepository": "serverlessrepo",
    "sfn": "stepfunctions",
    "simpledb": "sdb",
}


def botocore_service_name(arn_service: str, available: frozenset[str]) -> str | None:
    """botocore's name of the service an ``aws-sdk:`` ARN names, or None if unknown."""
    if arn_service in available:
        return arn_service
    for name in available:
        if name.replace("-", "") == arn_service:
            return name
    alias = _ALIASES.get(arn_service)
    return alias if alias in available else None


class AwsSdkIntegration:
    """Serves every ``aws-sdk:*`` Task resource through aiobotocore."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        self._resolved: dict[str, tuple[str, OperationModel, ErrorStyle]] = {}

    async def invoke(self, request: TaskRequest) -> Any:
        """Call the action with the Task's Parameters; its response is the result."""
        _check_pattern(request)
        service, operation, style = await self._resolve(request.resource.key)
        params = to_request(request.parameters, operation, request.resource.resource_type)
        response = await self._clients.call(service, operation, params, style)
        return from_response(response, operation.output_shape)

    async def _resolve(self, key: str) -> tuple[str, OperationModel, ErrorStyle]:
        found = self._resolved.get(key)
        if found is not None:
            return found
        _, arn_service, action = key.split(":", 2)
        service = botocore_service_name(arn_service, self._clients.available_services())
        if service is None:
            raise _unsupported(key, f"the service '{arn_service}' is not known")
        try:
            model = await self._clients.service_model(service)
        except UnknownServiceError:
            raise _unsupported(key, f"the service '{arn_service}' is not known") from None
        operation = _operation(model, action)
        if operation is None:
            raise _unsupported(key, f"'{action}' is not an action of {arn_service}")
        if operation.has_event_stream_input or operation.has_event_stream_output:
            raise _unsupported(key, f"{operation.name} streams events, which a Task cannot")
        found = (service, operation, sdk_style(str(model.service_id)))
        self._resolved[key] = found
        return found


def _operation(model: ServiceModel, action: str) -> OperationModel | None:
    """The operation an ARN's camelCase action names (``getObject`` -> ``GetObject``)."""
    if not action:
        return None
    names = model.operation_names
    wanted = action[0].upper() + action[1:]
    if wanted not in names:
        matches = [name for name in names if name.lower() == action.lower()]
        if len(matches) != 1:
            return None
        wanted = matches[0]
    return model.operation_model(wanted)


def _check_pattern(request: TaskRequest) -> None:
    pattern = request.resource.pattern
    if pattern not in ("request-response", "waitForTaskToken"):
        raise StatesError(
            RUNTIME,
            f"The resource '{request.resource.arn}' does not support the .{pattern} "
            "integration pattern.",
        )


def _unsupported(key: str, reason: str) -> StatesError:
    return StatesError(RUNTIME, f"The resource 'arn:aws:states:::{key}' cannot run: {reason}.")
