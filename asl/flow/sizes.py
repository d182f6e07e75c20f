"""Upper bounds on the size of a state's output, known before it runs.

AWS fails an execution whose state output is over 262,144 bytes. Measuring every
output means serialising it; a bound computed once per state spares that for the many
outputs that cannot be large. A :data:`Growth` ``(a, b, c)`` says

    size(output) <= a * size(input) + b * size(result) + c

in bytes of compact JSON, where ``result`` is the result of the state's work, whose
size the runtime knows (a Task's, measured; a Map's or Parallel's, from the bounds of
its children's outputs), and ``None`` says no such bound is known (JSONata,
most intrinsic functions, variables): the runtime then measures the output itself.
Every bound here errs on the large side, never on the small one.
"""

from __future__ import annotations

import re
from typing import Any

from asl import model as m
from asl.flow.protocol import Growth  # defined with the protocol, named here too
from asl.jsontext import json_size
from asl.paths import INPUT, PathSyntaxError, path_shape

#: The output is the input, or a part of it.
WITHIN_INPUT: Growth = (1, 0, 0)
#: Outermost intrinsic functions whose result is a number, a boolean or a short string,
#: at most as long as their arguments plus a little.
_SMALL_CALLS = ("States.MathAdd(", "States.MathRandom(", "States.ArrayLength(",
                "States.ArrayContains(", "States.UUID(", "States.Hash(")  # fmt: skip
_SMALL_CALL_BYTES = 200
# A path in an intrinsic call that reads the context object or a variable.
_NOT_INPUT = re.compile(r"\$[$\w]")
# Map's own context values: the item (a part of the Map's input) and its index.
_MAP_ITEM = "$$.Map.Item."


def static_size(value: Any) -> int:
    """The exact size of a constant, in bytes of compact UTF-8 JSON."""
    return json_size(value)


def then(first: Growth, second: Growth) -> Growth:
    """The bound of applying ``second`` to what ``first`` produced (``second`` reads only
    its input)."""
    if first is None or second is None:
        return None
    a, _, c = second
    return (a * first[0], a * first[1], a * first[2] + c)


def path_growth(path: str | None) -> Growth:
    """InputPath or OutputPath: a definite path selects a part of its input; an
    indefinite one gathers parts into an array (at most twice the input, for the
    commas); ``..`` may select nested parts more than once: no bound."""
    if path is None:
        return (0, 0, 2)  # {}
    if path == "$":
        return WITHIN_INPUT
    try:
        root, definite = path_shape(path)
    except PathSyntaxError:
        return None
    if root != INPUT or ".." in path:
        return None
    return (1, 0, 0) if definite else (2, 0, 2)


def template_growth(template: Any, *, map_item: bool = False) -> Growth:
    """A payload template over its input: its own text, plus the input once for every
    path that reads it (and for every small intrinsic call)."""
    refs = _count_refs(template, map_item)
    if refs is None:
        return None
    return (refs, 0, static_size(template) + _SMALL_CALL_BYTES * refs)


def _count_refs(value: Any, map_item: bool) -> int | None:
    if isinstance(value, dict):
        total = 0
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(".$"):
                counted = _dynamic_refs(item, map_item)
            else:
                counted = _count_refs(item, map_item)
            if counted is None:
                return None
            total += counted
        return total
    if isinstance(value, list):
        total = 0
        for item in value:
            counted = _count_refs(item, map_item)
            if counted is None:
                return None
            total += counted
        return total
    return 0


def _dynamic_refs(text: Any, map_item: bool) -> int | None:
    if not isinstance(text, str):
        return None
    if text.startswith(_SMALL_CALLS):
        return None if _NOT_INPUT.search(text) else 1
    if map_item and text.startswith(_MAP_ITEM):
        return 1
    growth = path_growth(text) if text.startswith("$") else None
    return None if growth is None else int(growth[0])


def result_path_growth(result_path: str | None, result: Growth) -> Growth:
    """ResultPath places the result: ``$`` replaces the input, ``null`` keeps it, a path
    adds it to the input with at most a few bytes of new objects per step."""
    if result is None:
        return None
    if result_path is None:
        return WITHIN_INPUT
    if result_path == "$":
        return result
    return (1 + result[0], result[1], result[2] + 8 * len(result_path) + 8)


def jsonpath_growth(state: m.State) -> Growth:
    """The bound of a JSONPath state's output (None for Fail, which has none)."""
    kind = state.type
    within = then(path_growth(state.input_path), path_growth(state.output_path))
    if kind in ("Succeed", "Choice", "Wait"):
        return within
    if kind == "Pass":
        return _pass_growth(state)
    if kind in ("Task", "Map", "Parallel"):
        return _result_growth(state)
    return None


def _pass_growth(state: m.State) -> Growth:
    assert isinstance(state, m.Pass)
    effective = path_growth(state.input_path)
    if state.result is not m.MISSING:
        result: Growth = (0, 0, static_size(state.result))
    elif state.parameters is not m.MISSING:
        result = then(effective, template_growth(state.parameters))
    else:
        result = effective
    placed = result_path_growth(state.result_path, result)
    return then(placed, path_growth(state.output_path))


def _result_growth(state: m.State) -> Growth:
    assert isinstance(state, m.Task | m.Map | m.Parallel)
    if state.result_selector is m.MISSING:
        result: Growth = (0, 1, 0)
    else:
        selector = template_growth(state.result_selector)
        result = None if selector is None else (0, selector[0], selector[2])
    placed = result_path_growth(state.result_path, result)
    return then(placed, path_growth(state.output_path))


def jsonata_growth(state: m.State) -> Growth:
    """A JSONata state's output is its input, or its result, unless Output computes it."""
    if state.output is not m.MISSING:
        return None
    if state.type in ("Pass", "Succeed", "Choice", "Wait"):
        return WITHIN_INPUT
    if state.type in ("Task", "Map", "Parallel"):
        return (0, 1, 0)
    return None


def child_growth(state: m.State) -> Growth:
    """The bound of the input of a Map iteration or a Parallel branch, over the state's
    input (an item is a part of the input; ItemSelector and Parameters are templates)."""
    if not isinstance(state, m.Map | m.Parallel):
        return None
    if state.query_language == "JSONata":
        computed = ("items", "item_selector") if isinstance(state, m.Map) else ("arguments",)
        return None if any(getattr(state, f) is not m.MISSING for f in computed) else WITHIN_INPUT
    effective = path_growth(state.input_path)
    template = state.item_selector if isinstance(state, m.Map) else state.parameters
    if template is m.MISSING:
        return effective
    return then(effective, template_growth(template, map_item=isinstance(state, m.Map)))
