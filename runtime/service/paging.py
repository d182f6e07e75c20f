"""Pagination as the List* operations and GetExecutionHistory do it: ``maxResults`` (0 or
absent means the operation's default) and an opaque ``nextToken``."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from runtime.store import InvalidToken

__all__ = ["page"]

_T = TypeVar("_T")

#: Our own wording: AWS's text for a pagination token it did not issue is not recorded.
_BAD_TOKEN = "Invalid Token: 'Invalid pagination token'"


def page(
    items: Sequence[_T], body: dict[str, Any], default: int = 100
) -> tuple[Sequence[_T], dict[str, Any]]:
    """The page of ``items`` the request's ``maxResults`` and ``nextToken`` ask for, and
    ``{"nextToken": ...}`` when more follow (else ``{}``)."""
    size = body.get("maxResults") or default
    start = _offset(body["nextToken"]) if body.get("nextToken") is not None else 0
    end = start + size
    more = {"nextToken": _token(end)} if end < len(items) else {}
    return items[start:end], more


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidToken(_BAD_TOKEN) from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidToken(_BAD_TOKEN)
    return offset
