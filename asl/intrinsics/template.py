"""``States.Format`` templates: literal text around ``{}`` placeholders.

In a string literal a brace escaped with a backslash (``\\{``) is text, so the template of a
literal is split once at parse time from the characters and their escape marks. A template
read from a path or produced by a nested call has no escapes. AWS rejects any brace that is
not part of ``{}`` (recorded against AWS: ``'Hello {'`` and ``'Hello {{}}'`` give
``matching '}' not found for '{'.``, ``'}'`` gives ``matching '{' not found for '}'.``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

_NO_CLOSE = "Invalid template in States.Format: matching '}' not found for '{'."
_NO_OPEN = "Invalid template in States.Format: matching '{' not found for '}'."


@dataclass(frozen=True, slots=True)
class Template:
    """Text segments between placeholders (n placeholders: n + 1 segments), or an error."""

    segments: tuple[str, ...]
    error: str | None = None

    @property
    def placeholders(self) -> int:
        """How many ``{}`` the template holds."""
        return len(self.segments) - 1


def split_template(chars: Iterable[tuple[str, bool]]) -> Template:
    """Split ``(character, escaped)`` pairs at every unescaped ``{}``."""
    segments: list[str] = []
    current: list[str] = []
    pending_open = False
    for char, escaped in chars:
        if pending_open:
            if escaped or char != "}":
                return Template((), _NO_CLOSE)
            segments.append("".join(current))
            current = []
            pending_open = False
        elif not escaped and char == "{":
            pending_open = True
        elif not escaped and char == "}":
            return Template((), _NO_OPEN)
        else:
            current.append(char)
    if pending_open:
        return Template((), _NO_CLOSE)
    segments.append("".join(current))
    return Template(tuple(segments))


def template_of_text(text: str) -> Template:
    """The template of a string that carries no escapes (read from a path or a call)."""
    return split_template((char, False) for char in text)
