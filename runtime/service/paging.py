"""Pagination as the List* operations and GetExecutionHistory do it: ``maxResults`` (0 or
absent means the operation's default) and an opaque ``nextToken``: an offset into a list
in memory (:func:`page`), or, for what the database pages itself, the place of the last
row answered (:func:`place_token`, :func:`token_place`)."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence
from typing import Any, TypeVar

from runtime.store import InvalidToken

__all__ = ["page", "page_size", "place_token", "token_place"]

_T = TypeVar("_T")

#: Our own wording: AWS's text for a pagination token it did not issue is not recorded.
_BAD_TOKEN = "Invalid Token: 'Invalid pagination token'"


def page_size(body: dict[str, Any], default: int = 100) -> int:
    """How many items the request's ``maxResults`` asks for."""
    return int(body.get("maxResults") or default)


def page(
    items: Sequence[_T], body: dict[str, Any], default: int = 100
) -> tuple[Sequence[_T], dict[str, Any]]:
    """The page of ``items`` the request's ``maxResults`` and ``nextToken`` ask for, and
    ``{"nextToken": ...}`` when more follow (else ``{}``)."""
    size = page_size(body, default)
    start = _offset(body["nextToken"]) if body.get("nextToken") is not None else 0
    end = start + size
    more = {"nextToken": _token("offset", end)} if end < len(items) else {}
    return items[start:end], more


def place_token(place: tuple[float, int]) -> str:
    """The token of a place in an order the database keeps (a time, then a row number)."""
    return _token("after", list(place))


def token_place(token: str | None) -> tuple[float, int] | None:
    """The place a :func:`place_token` names (None for no token); ``InvalidToken`` for
    a token we did not issue."""
    if token is None:
        return None
    place = _decoded(token, "after")
    if (
        not isinstance(place, list)
        or len(place) != 2
        or not all(_is_number(part) for part in place)
        or not isinstance(place[1], int)
    ):
        raise InvalidToken(_BAD_TOKEN)
    return float(place[0]), place[1]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _token(key: str, value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({key: value}).encode()).decode()


def _decoded(token: str, key: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))[key]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidToken(_BAD_TOKEN) from None


def _offset(token: str) -> int:
    offset = _decoded(token, "offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidToken(_BAD_TOKEN)
    return offset
