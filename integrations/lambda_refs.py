"""Lambda function names and ARNs as Lambda's Invoke reads them, and the settings of a
local function checked as Lambda checks them when it is created."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from integrations.lambda_runtime import Isolation, LocalFunction, checked_environment

__all__ = [
    "REF_PATTERN_TEXT",
    "FunctionRef",
    "check_isolation",
    "checked_function",
    "parse_function_ref",
]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# What Lambda's Invoke accepts as FunctionName: a name, NAME:qualifier, a partial ARN
# ACCOUNT:function:NAME or a full ARN, each optionally qualified.
_REF = re.compile(
    r"^(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?(?:function:)?(?P<name>[A-Za-z0-9_.-]+)"
    r"(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]+))?$"
)
REF_PATTERN_TEXT = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
_ISOLATIONS: tuple[Isolation, ...] = get_args(Isolation)


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """A FunctionName taken apart: a name plus whatever region, account, qualifier it gave."""

    name: str
    region: str | None = None
    account: str | None = None
    qualifier: str | None = None
    partition: str = "aws"


@functools.lru_cache(maxsize=1024)  # a workflow names few functions, over and over
def parse_function_ref(text: str) -> FunctionRef | None:
    """Parse NAME, NAME:qualifier, ACCOUNT:function:NAME or an ARN; None if invalid."""
    m = _REF.match(text) if len(text) <= 170 else None
    if m is None:
        return None
    return FunctionRef(
        m["name"], m["region"], m["account"], m["qualifier"], m["partition"] or "aws"
    )


def check_isolation(value: Any, label: str) -> None:
    """ValueError, its text starting with ``label``, unless ``value`` is an isolation."""
    if value not in _ISOLATIONS:
        choices = ", ".join(f"'{choice}'" for choice in _ISOLATIONS[:-1])
        raise ValueError(f"{label} must be {choices} or '{_ISOLATIONS[-1]}', not {value!r}")


def _check_range(label: str, value: Any, low: int, high: int, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{label} must be a whole number of {unit} from {low} to {high}")


def checked_function(
    name_or_arn: str,
    handler: Any,
    timeout: Any,
    memory: Any,
    environment: Mapping[str, Any] | None,
    reserved_concurrency: Any,
    isolation: Any,
) -> LocalFunction:
    """A function as :meth:`LocalFunctions.register` takes it, or ValueError for a name or
    setting Lambda would refuse (timeout 1-900 s, memory 128-10,240 MB, ...)."""
    ref = parse_function_ref(name_or_arn) if isinstance(name_or_arn, str) else None
    if ref is None or not _NAME.match(ref.name):
        raise ValueError(
            f"{name_or_arn!r} is not a Lambda function name (1-64 of A-Z a-z 0-9 - _) "
            "or function ARN"
        )
    if not callable(handler):
        raise ValueError(f"the handler of function {ref.name} is not callable: {handler!r}")
    _check_range(f"timeout of function {ref.name}", timeout, 1, 900, "seconds")
    _check_range(f"memory of function {ref.name}", memory, 128, 10240, "MB")
    if reserved_concurrency is not None:
        _check_range(
            f"reserved_concurrency of function {ref.name}",
            reserved_concurrency, 0, 1_000_000, "invocations",
        )  # fmt: skip
    check_isolation(isolation, f"isolation of function {ref.name}")
    env = checked_environment(environment)
    return LocalFunction(
        ref.name, handler, timeout, memory, env, reserved_concurrency, ref.region, ref.account,
        isolation,
    )  # fmt: skip
