"""JSONata's regular expressions (``/.../flags``) with matching that can be stopped.

Python's ``re`` cannot be interrupted: a pattern that backtracks catastrophically
(``$match($s, /(a|a)+$/)`` on a few dozen characters) would hold the process for
minutes. Patterns here are compiled by the ``regex`` module, ``re``'s syntax and
semantics (its VERSION0), whose matching takes a timeout and releases the GIL. A match
may run as long as its evaluation has time left (see :mod:`asl.limits`: on the
event loop, a short slice, after which the evaluation moves to a worker thread and
matches again with its whole time). ``$replace`` with a pattern builds
its result here too, within the limit on the length of strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import regex
from jsonata import Jsonata
from jsonata.jexception import JException
from jsonata.regex_engine import RegexFlags

from asl.limits import (
    EVALUATION_SECONDS,
    MAX_ITEMS,
    Budget,
    check_text,
    time_limit,
    too_many,
)

__all__ = ["BoundedPattern", "bounded_regex_engine"]

_GROUP_REFERENCE = re.compile(r"\\g<(\d+)>")


def bounded_regex_engine(pattern: str, flags: RegexFlags) -> BoundedPattern:
    """jsonata-python's ``regex_engine``: the pattern of a regular expression literal."""
    native = regex.VERSION0
    if flags.case_insensitive:
        native |= regex.IGNORECASE
    if flags.multiline:
        native |= regex.MULTILINE
    return BoundedPattern(regex.compile(pattern, native))


def _budget() -> Budget | None:
    """The budget of the evaluation running on this thread."""
    return getattr(getattr(Jsonata.CURRENT, "jsonata", None), "budget", None)


def _out_of_time() -> JException:
    budget = _budget()
    return time_limit() if budget is None else budget.out_of_time()


def _bounded(call: Callable[..., Any], *args: Any, **options: Any) -> Any:
    budget = _budget()
    seconds = EVALUATION_SECONDS if budget is None else max(budget.remaining(), 0.0)
    try:
        return call(*args, timeout=seconds, concurrent=True, **options)
    except TimeoutError:
        raise _out_of_time() from None


class BoundedPattern:
    """A compiled pattern with the four methods jsonata-python calls, each bounded in time
    (and ``finditer`` and ``sub`` in what they build)."""

    __slots__ = ("_compiled",)

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled

    def __repr__(self) -> str:
        return f"<JSONata regex {self._compiled.pattern!r}>"

    def search(self, string: str) -> Any:
        """The first match in ``string``, or None."""
        return _bounded(self._compiled.search, string)

    def finditer(self, string: str) -> Iterator[Any]:
        """The matches in ``string``, at most :data:`MAX_ITEMS` of them."""
        matches = _bounded(self._compiled.finditer, string)
        count = 0
        while True:
            try:
                match = next(matches)
            except StopIteration:
                return
            except TimeoutError:
                raise _out_of_time() from None
            count += 1
            if count > MAX_ITEMS:
                raise too_many()
            yield match

    def split(self, string: str, maxsplit: int = 0) -> list[str]:
        """``string`` split at the matches."""
        result: list[str] = _bounded(self._compiled.split, string, maxsplit=maxsplit)
        return result

    def sub(self, replacement: Any, string: str, count: int = 0) -> str:
        """``string`` with its matches replaced (a template string, ``re``'s syntax, or a
        function of the match); refused once the result would be too long."""
        if isinstance(replacement, str):
            self._check_groups(replacement)
            template = replacement

            def expand(match: Any) -> str:
                text: str = match.expand(template)
                return text

            replacement = expand
        grown = 0

        def replace(match: Any) -> str:
            nonlocal grown
            text = replacement(match)
            if isinstance(text, str):
                grown += len(text) - (match.end() - match.start())
                check_text(len(string) + grown)
            return text  # type: ignore[no-any-return]

        result: str = _bounded(self._compiled.sub, replace, string, count=count)
        return result

    def _check_groups(self, template: str) -> None:
        # jsonata-python reads ``re``'s wording of this error to drop a reference to a
        # group the pattern does not have; ``regex`` words it otherwise.
        for found in _GROUP_REFERENCE.finditer(template):
            if int(found[1]) > self._compiled.groups:
                raise re.error(f"invalid group reference {found[1]} at position {found.start()}")
