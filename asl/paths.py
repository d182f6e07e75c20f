"""JSONPath paths and reference paths (placeholder: the full module is being written)."""

from __future__ import annotations

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import parse


def check_path(text: str, *, reference: bool = False) -> str | None:
    """None when ``text`` is a valid path (a reference path when asked), else why not."""
    if not text.startswith("$"):
        return f"The value '{text}' is not a valid JSONPath: it must start with '$'"
    try:
        parse(text)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:
        return f"The value '{text}' is not a valid JSONPath: {exc}"
    return None
