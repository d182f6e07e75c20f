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
from asl.dataflow import output_selects_result
from asl.flow.protocol import Growth  # defined with the protocol, named here too
from asl.jsontext import json_size
from asl.paths import INPUT, Key, PathSyntaxError, compile_path, path_shape

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
# Past this many definite paths in one template, their overlap is not worked out (it
# takes time in their square): each counts once.
_OVERLAP_PATHS = 64


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
    value that reads it (small intrinsic calls, indefinite paths twice), except that
    definite paths of the input count together only as often as one part of the input
    can lie within the parts they select (see :func:`_overlap`)."""
    definite: list[tuple[Key, ...]] = []
    others = _count_refs(template, map_item, definite)
    if others is None:
        return None
    refs = others + len(definite)
    return (others + _overlap(definite), 0, static_size(template) + _SMALL_CALL_BYTES * refs)


def _overlap(paths: list[tuple[Key, ...]]) -> int:
    """The most of ``paths`` whose selections may hold one same part of the input.

    A selected value is a subtree of the input, and its JSON text a piece of the input's
    text; the paths whose subtrees hold one node are all prefixes of the node's path, so
    the sizes of all selections add up to at most this many times the input's size. Two
    array indexes may name one element (``[-1]`` and ``[2]``), so they count as equal."""
    if len(paths) > _OVERLAP_PATHS:
        return len(paths)
    return max((sum(_may_contain(q, p) for q in paths) for p in paths), default=0)


def _may_contain(outer: tuple[Key, ...], inner: tuple[Key, ...]) -> bool:
    """Whether the value ``inner`` selects may lie within (or be) the one ``outer`` does."""
    if len(outer) > len(inner):
        return False
    return all(
        a == b or (isinstance(a, int) and isinstance(b, int))
        for a, b in zip(outer, inner[: len(outer)], strict=True)
    )


def _count_refs(value: Any, map_item: bool, definite: list[tuple[Key, ...]]) -> int | None:
    """How many times the template's values other than definite input paths read the input
    (None: unbounded); the keys of those paths are added to ``definite``."""
    if isinstance(value, dict):
        total = 0
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(".$"):
                counted = _dynamic_refs(item, map_item, definite)
            else:
                counted = _count_refs(item, map_item, definite)
            if counted is None:
                return None
            total += counted
        return total
    if isinstance(value, list):
        total = 0
        for item in value:
            counted = _count_refs(item, map_item, definite)
            if counted is None:
                return None
            total += counted
        return total
    return 0


def _dynamic_refs(text: Any, map_item: bool, definite: list[tuple[Key, ...]]) -> int | None:
    if not isinstance(text, str):
        return None
    if text.startswith(_SMALL_CALLS):
        return None if _NOT_INPUT.search(text) else 1
    if map_item and text.startswith(_MAP_ITEM):
        return 1
    keys = _definite_keys(text) if text.startswith("$") else None
    if keys is not None:
        definite.append(keys)
        return 0
    growth = path_growth(text) if text.startswith("$") else None
    return None if growth is None else int(growth[0])


def _definite_keys(path: str) -> tuple[Key, ...] | None:
    """The keys of a definite path into the input, each a name or an index (None for any
    other path)."""
    try:
        root, definite = path_shape(path)  # an indefinite path's costly tail left unparsed
        if root != INPUT or not definite:
            return None
        keys = compile_path(path).keys
    except PathSyntaxError:
        return None
    return keys if all(isinstance(key, str | int) for key in keys) else None


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
    if output_selects_result(state.result_path, state.output_path) is not None:
        return result
    placed = result_path_growth(state.result_path, result)
    return then(placed, path_growth(state.output_path))


def _result_growth(state: m.State) -> Growth:
    assert isinstance(state, m.Task | m.Map | m.Parallel)
    if state.result_selector is m.MISSING:
        result: Growth = (0, 1, 0)
    else:
        selector = template_growth(state.result_selector)
        result = None if selector is None else (0, selector[0], selector[2])
    if output_selects_result(state.result_path, state.output_path) is not None:
        return result
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
