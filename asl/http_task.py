"""What the language says of an HTTP Task (``arn:aws:states:::http:invoke``): its methods,
encodings, the request headers it may not set, and the connection ARNs it names. Shared
by the validator and the HTTP integration, so the two cannot drift apart.

Sources: AWS's "Call HTTPS APIs" page (HTTP Task fields, Headers) and the EventBridge API
reference (Connection.ConnectionArn).
"""

from __future__ import annotations

import re
from typing import Final

HTTP_METHODS: Final = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
REQUEST_BODY_ENCODINGS: Final = ("NONE", "URL_ENCODED")
ARRAY_FORMATS: Final = ("INDICES", "REPEAT", "COMMAS", "BRACKETS")

#: Request headers an HTTP Task may not set, lower-cased, plus Authorization, which only
#: the connection sets (AWS refuses it when the definition is created: the console's
#: message quotes ``[authorization]``).
FORBIDDEN_HEADERS: Final = frozenset(
    {
        "a-im", "accept-charset", "accept-datetime", "accept-encoding", "authorization",
        "cache-control", "connection", "content-encoding", "content-md5", "date", "expect",
        "forwarded", "from", "host", "http2-settings", "if-match", "if-modified-since",
        "if-none-match", "if-range", "if-unmodified-since", "max-forwards", "origin",
        "pragma", "proxy-authorization", "referer", "server", "te", "trailer",
        "transfer-encoding", "upgrade", "via", "warning",
    }
)  # fmt: skip
#: Prefixes of refused header names.
FORBIDDEN_HEADER_PREFIXES: Final = ("x-forwarded-", "x-amz-", "x-amzn-")

#: An EventBridge connection ARN; the ``name`` group is the connection's name.
CONNECTION_ARN: Final = re.compile(
    r"^arn:aws([a-z]|-)*:events:([a-z]|\d|-)*:(\d{12})?:connection/"
    r"(?P<name>[.\-_A-Za-z0-9]+)/[\-A-Za-z0-9]+$"
)


def is_forbidden_header(name: str) -> bool:
    """Whether an HTTP Task may not set this request header (case-insensitive)."""
    lower = name.lower()
    return lower in FORBIDDEN_HEADERS or lower.startswith(FORBIDDEN_HEADER_PREFIXES)
