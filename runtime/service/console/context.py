"""What a console handler works with: the backend, the API operations, the session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from runtime.service.backend import Backend, Operation
from runtime.service.shapes import check_request

__all__ = ["Console", "Context"]


@dataclass(frozen=True, slots=True)
class Console:
    """The console's share of the server: its backend, the operations ``POST /`` serves,
    and the access token (None on loopback)."""

    backend: Backend
    operations: Mapping[str, Operation]
    token: str | None


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
