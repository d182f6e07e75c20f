"""Pagination as the List* operations and GetExecutionHistory do it: ``maxResults`` (0 or
absent means the operation's default) and an opaque ``nextToken``: an offset into a list
in memory (:func:`page`), or, for what the database pages itself, the place of the last
row answered (:func:`place_token`, :func:`token_place`).

A token is bound to the request that got it: the API reference says of every
``nextToken`` "Make the call again using the returned token to retrieve the next page.
Keep all other arguments unchanged", and answers a token it cannot use with
``InvalidToken`` (HTTP 400). What AWS does with a token sent with other arguments is not
documented; a careful user expects it refused rather than a page of another list, so a
token carries a digest of the request's other members and is ``InvalidToken`` with any
other. ``maxResults`` is left out of the digest: a page's size may change between calls
(boto3's paginators keep it, and nothing of the next page's place depends on it)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any, TypeVar

from runtime.store import InvalidToken

__all__ = ["offset_token", "page", "page_at", "page_size", "place_token", "token_place"]

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
    start = _offset(body) if body.get("nextToken") is not None else 0
    end = start + size
    more = {"nextToken": _token("offset", end, body)} if end < len(items) else {}
    return items[start:end], more


def page_at(body: dict[str, Any]) -> tuple[int, int | None]:
    """Where the request's page starts: the offset its ``nextToken`` names (0 without one)
    and, when :func:`offset_token` kept it, the place in the source's own order of the
    item just before (so a source that keeps an order reads on from there, and one held in
    memory counts the offset)."""
    if body.get("nextToken") is None:
        return 0, None
    place = _members(body).get("place")
    if place is not None and (not isinstance(place, int) or isinstance(place, bool)):
        raise InvalidToken(_BAD_TOKEN)
    return _offset(body), place


def offset_token(offset: int, body: dict[str, Any], place: int | None = None) -> str:
    """The token of the page at ``offset`` of the request ``body`` made again (as
    :func:`page` issues), with ``place``, the place in the source's order of the item
    before it, when the source keeps one (:func:`page_at` reads both)."""
    return _token("offset", offset, body, {} if place is None else {"place": place})


def place_token(place: tuple[float, int], body: dict[str, Any]) -> str:
    """The token of a place in an order the database keeps (a time, then a row number),
    for the request ``body`` made again."""
    return _token("after", list(place), body)


def token_place(body: dict[str, Any]) -> tuple[float, int] | None:
    """The place the request's :func:`place_token` names (None for no token);
    ``InvalidToken`` for a token we did not issue for such a request."""
    if body.get("nextToken") is None:
        return None
    place = _decoded(body, "after")
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


def _token(key: str, value: Any, body: dict[str, Any], also: dict[str, Any] | None = None) -> str:
    text = json.dumps({key: value, **(also or {}), "for": _request_digest(body)})
    return base64.urlsafe_b64encode(text.encode()).decode()


def _request_digest(body: dict[str, Any]) -> str:
    """What tells the request ``body`` apart from others but for its page (see the
    module's docstring)."""
    kept = {k: v for k, v in body.items() if k not in ("nextToken", "maxResults")}
    text = json.dumps(kept, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _decoded(body: dict[str, Any], key: str) -> Any:
    """The ``key`` member of the request's token, if it was issued for such a request."""
    try:
        return _members(body)[key]
    except KeyError:
        raise InvalidToken(_BAD_TOKEN) from None


def _members(body: dict[str, Any]) -> dict[str, Any]:
    """The request's token, if it was issued for such a request."""
    try:
        token = json.loads(base64.urlsafe_b64decode(str(body["nextToken"]).encode()))
        if token["for"] != _request_digest(body):
            raise InvalidToken(_BAD_TOKEN)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidToken(_BAD_TOKEN) from None
    return token  # type: ignore[no-any-return]


def _offset(body: dict[str, Any]) -> int:
    offset = _decoded(body, "offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidToken(_BAD_TOKEN)
    return offset
