"""Writing the DOT language: quoting, HTML-like labels and attribute lists.

HTML-like labels are used for every label so that text is taken literally (a backslash
in a StringMatches pattern stays a backslash) and a node can mix bold, small and
coloured lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from visualizer.labels import CONTROL, visible


@dataclass(frozen=True, slots=True)
class Html:
    """An HTML-like label body (without the outer ``<`` ``>``), emitted as is."""

    body: str


def quote(text: str) -> str:
    """A DOT double-quoted identifier. Distinct texts stay distinct identifiers: control
    characters (a newline, a NUL) are written as ``\\uXXXX`` after backslashes are
    doubled, so states named ``"A\\nB"`` and ``"A B"`` are two nodes."""
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", body) + '"'


def _text(text: str) -> str:
    """A DOT double-quoted text value (a tooltip, a plain label): on one line, without
    control characters."""
    flat = CONTROL.sub(" ", text.replace("\\", "\\\\").replace('"', '\\"'))
    return f'"{flat}"'


def escape(text: str) -> str:
    """Text made safe inside an HTML-like label (control characters shown as escapes)."""
    return (
        visible(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def font(text: str, *, size: float | None = None, color: str | None = None) -> str:
    """Escaped text in a ``<FONT>`` with an optional point size and colour."""
    attrs = ""
    if size is not None:
        attrs += f' POINT-SIZE="{size:g}"'
    if color is not None:
        attrs += f' COLOR="{color}"'
    body = escape(text)
    return f"<FONT{attrs}>{body}</FONT>" if attrs else body


def lines(parts: Iterable[str]) -> Html:
    """A label of several (already marked-up) lines, centred."""
    return Html("<BR/>".join(parts))


Value = str | Html


def attr_list(attrs: Mapping[str, Value]) -> str:
    """``[a="x", label=<...>]``, or the empty string when there are no attributes."""
    if not attrs:
        return ""
    items = []
    for key, value in attrs.items():
        text = f"<{value.body}>" if isinstance(value, Html) else _text(value)
        items.append(f"{key}={text}")
    return " [" + ", ".join(items) + "]"


def statement(target: str, attrs: Mapping[str, Value]) -> str:
    """``target [attrs];`` with the target quoted when it is an id."""
    return f"{target}{attr_list(attrs)};"
