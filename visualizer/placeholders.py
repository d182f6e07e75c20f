"""Deploy-time ``${Name}`` placeholders left without a value, made drawable.

A definition holding placeholders is a template (see :mod:`asl.loader`): the validator
checks each as any valid value of its field, but the model cannot be built from a Wait
whose ``Seconds`` is ``"${Delay}"``. A drawing shows a placeholder as written where its
field holds text, and puts a stand-in value of the field's type elsewhere.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from asl.graph import Location
from asl.loader import PLACEHOLDER
from asl.validate import problems_at
from asl.validate.placeholders import strings

__all__ = ["with_stand_ins"]

#: Values tried, in turn, in place of a placeholder its field cannot hold as text.
_STAND_INS: tuple[Any, ...] = (1, True, "1970-01-01T00:00:00Z", {}, [])


def with_stand_ins(value: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """A copy of a definition in which each whole ``${Name}`` its field cannot hold as
    text (as AWS would check it) is the first of :data:`_STAND_INS` the field can hold,
    and the names stood in for."""
    drawn = copy.deepcopy(value)
    refused = {loc for _, loc in problems_at(drawn, placeholders=False) if loc is not None}
    stood_in: list[str] = []
    for loc, text in strings(value):
        whole = PLACEHOLDER.fullmatch(text)
        if whole is None or loc not in refused:
            continue
        for stand_in in _STAND_INS:
            _put(drawn, loc, copy.deepcopy(stand_in))
            problems = problems_at(drawn, placeholders=False)
            if all(where is None or where[: len(loc)] != loc for _, where in problems):
                stood_in.append(whole[1])
                break
        else:
            _put(drawn, loc, text)
    return drawn, stood_in


def _put(value: Any, loc: Location, new: Any) -> None:
    for part in loc[:-1]:
        value = value[part]
    value[loc[-1]] = new
