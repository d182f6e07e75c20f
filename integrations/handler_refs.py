"""How a worker process finds a handler the engine was given: by its module (its name,
and its file) and an attribute path, so only a module-level callable can be found."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["HandlerRef", "handler_reference", "resolve"]


@dataclass(frozen=True, slots=True)
class HandlerRef:
    """Where a worker finds a handler: a module (by name, and its file) and an attribute."""

    module: str
    file: str | None
    attribute: str


def handler_reference(handler: Any) -> HandlerRef:
    """How a worker process can import ``handler``; ValueError when it cannot."""
    module_name = getattr(handler, "__module__", None)
    if not isinstance(module_name, str):
        module_name = type(handler).__module__
    module = sys.modules.get(module_name)
    attribute = _attribute_of(module, handler) if module is not None else None
    if module is None or attribute is None:
        raise ValueError(
            f"the handler {handler!r} cannot run in a worker process: a worker imports its "
            "handler by module and name, so it must be a module-level function or an object "
            "bound to a module-level name (not a closure, a lambda or a bound method)"
        )
    file = getattr(module, "__file__", None)
    return HandlerRef(module_name, str(file) if isinstance(file, str) else None, attribute)


def _attribute_of(module: ModuleType, handler: Any) -> str | None:
    qualname = getattr(handler, "__qualname__", None)
    if isinstance(qualname, str) and "<" not in qualname:
        with contextlib.suppress(AttributeError):
            if resolve(module, qualname) is handler:
                return qualname
    for name, value in vars(module).items():
        if value is handler:
            return name
    return None


def resolve(module: ModuleType, attribute: str) -> Any:
    """The object at the dotted ``attribute`` path of ``module`` (AttributeError if none)."""
    target: Any = module
    for part in attribute.split("."):
        target = getattr(target, part)
    return target
