"""What a console handler works with: the backend, the API operations, the session."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from runtime.service.backend import Backend, Operation
from runtime.service.schedule_overview import ScheduleReader
from runtime.service.shapes import check_request

__all__ = ["EXPRESS_KEPT", "Console", "Context"]

#: How many Express executions started from the console its executions page lists.
EXPRESS_KEPT = 50


@dataclass(frozen=True, slots=True)
class Console:
    """The console's share of the server: its backend, the operations ``POST /`` serves,
    the access token (None on loopback), the server's schedules (None without), how
    often a quiet event stream sends a keep-alive, and the ARNs of the Express executions
    started from the console, newest first (the API lists none)."""

    backend: Backend
    operations: Mapping[str, Operation]
    token: str | None
    schedules: ScheduleReader | None = None
    keep_alive_seconds: float = 15.0
    express: deque[str] = field(default_factory=lambda: deque(maxlen=EXPRESS_KEPT))


@dataclass(frozen=True, slots=True)
class Context:
    """One request to the console, with the session's CSRF value."""

    console: Console
    request: web.Request
    csrf: str

    @property
    def backend(self) -> Backend:
        """The server's backend."""
        return self.console.backend

    def query(self, name: str) -> str | None:
        """A query parameter, None when absent or empty."""
        return self.request.query.get(name) or None

    async def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        """An API operation, checked and answered as ``POST /`` does (``ApiError``)."""
        check_request(operation, body)
        return await self.console.operations[operation](self.backend, body)
