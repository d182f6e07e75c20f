"""Drawing a definition the validator rejects: a repaired copy to lay out, and its problems.

A broken machine is worth seeing while it is being fixed, so ``asl render`` draws it
anyway, each problem marked on the state it is in. The copy is repaired as little as
possible, in passes until the validator accepts it:

- a transition (``StartAt``, ``Next``, ``Default``, a Choice rule's or Catcher's
  ``Next``) to a state that does not exist gets a stand-in state of that name, drawn as
  missing;
- a Choice rule with a problem keeps its target and is drawn as an invalid rule;
- a field with a problem is left out (a state's ``Parameters`` with a bad path, say), a
  Catcher with one is dropped;
- a state that cannot be read at all (no ``Type``, an unknown one, a missing required
  field) is drawn as a stand-in that keeps its ``Next`` and says what it was declared as;
  one that had neither ``Next`` nor ``End`` (nor is a Succeed) gets no edge at all.

Problems that do not stop the drawing (a state nothing reaches) are only marked. When
nothing drawable is left (no states, a definition that is not an object), there is no
repair.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from asl.diagnostics import MISSING_END_STATE, MISSING_TRANSITION_TARGET, Diagnostic
from asl.graph import Location, build_graph
from asl.loader import pointer
from asl.validate import problems_at

__all__ = ["Repair", "repair"]

#: Passes before giving up: each pass fixes every problem it can, and a fix rarely
#: uncovers more than one new problem, so a handful suffice.
MAX_PASSES = 12
#: State fields that carry the picture's structure: never left out, a stand-in instead.
_STRUCTURE = frozenset({"Type", "Next", "End", "Default"})
#: State fields that hold nested scopes (a problem there is the scope's, when it can be).
_SCOPES = frozenset({"Branches", "ItemProcessor", "Iterator"})
#: Problems that do not stop the drawing: marked, never mended.
_DRAWABLE = frozenset({MISSING_TRANSITION_TARGET, MISSING_END_STATE})


@dataclass(slots=True)
class Repair:
    """A definition the validator accepts, and what was wrong with the original."""

    document: dict[str, Any]
    #: State node id (JSON pointer) -> the problems found inside that state.
    problems: dict[str, list[Diagnostic]] = field(default_factory=dict)
    #: Problems not inside any state (the machine's own fields, a missing ``StartAt``).
    general: list[Diagnostic] = field(default_factory=list)
    #: Node id -> the type a stand-in state was declared with (None when it had none).
    stand_ins: dict[str, str | None] = field(default_factory=dict)
    #: Node ids of states added because a transition names them and they do not exist.
    missing: set[str] = field(default_factory=set)
    #: (Choice node id, rule index) of the rules drawn as invalid.
    broken_rules: set[tuple[str, int]] = field(default_factory=set)


def repair(value: Any) -> Repair | None:
    """A drawable copy of a definition with its problems, or None when nothing can be drawn."""
    if not isinstance(value, Mapping) or not _has_states(value):
        return None
    found = [(d, loc) for d, loc in problems_at(value) if d.severity == "ERROR"]
    result = Repair(copy.deepcopy(dict(value)))
    states = _state_locations(value)
    for diagnostic, loc in found:
        state = _innermost_state(loc, states)
        if state is None:
            result.general.append(diagnostic)
        else:
            result.problems.setdefault(pointer(*state), []).append(diagnostic)
    for _ in range(MAX_PASSES):
        errors = [(d, loc) for d, loc in problems_at(result.document) if d.severity == "ERROR"]
        if not _mend(result, errors):
            return result
    return result


def _mend(result: Repair, errors: list[tuple[Diagnostic, Location | None]]) -> bool:
    """One pass: each place with problems mended once (its other problems were found in
    what the mending replaced; the next pass sees what is left). Whether anything was."""
    mended: set[Location] = set()
    for diagnostic, loc in errors:
        if loc is not None and loc not in mended and _fix(result, diagnostic, loc):
            mended.add(loc)
    return bool(mended)


def _has_states(scope: Mapping[str, Any]) -> bool:
    states = scope.get("States")
    return isinstance(states, Mapping) and bool(states)


def _state_locations(value: Mapping[str, Any]) -> set[Location]:
    graph = build_graph(value)
    return {attrs["location"] for _, attrs in graph.nodes(data=True)}


def _innermost_state(loc: Location | None, states: set[Location]) -> Location | None:
    if loc is None:
        return None
    for end in range(len(loc), 1, -1):
        if loc[:end] in states:
            return loc[:end]
    return None


def _at(document: Any, loc: Location) -> Any:
    node = document
    for key in loc:
        present = key in node if isinstance(node, Mapping) else _has_index(node, key)
        if not present:
            return None
        node = node[key]
    return node


def _has_index(node: Any, key: str | int) -> bool:
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


def _fix(result: Repair, diagnostic: Diagnostic, loc: Location) -> bool:
    """Mend one problem of the copy; False when it needs no mending or cannot be mended."""
    document = result.document
    state_loc = _innermost_state(loc, _state_locations(document))
    if diagnostic.code == MISSING_TRANSITION_TARGET and loc[-1] in ("StartAt", "Next", "Default"):
        return _add_missing(result, loc)
    if state_loc is None:
        return _fix_scope(document, loc)
    rest = loc[len(state_loc) :]
    state = _at(document, state_loc)
    if not isinstance(state, MutableMapping) or not rest:
        return _stand_in(result, state_loc) if _unreadable(diagnostic) else False
    head = rest[0]
    if head in _SCOPES and (head != "Branches" or (len(rest) > 1 and isinstance(rest[1], int))):
        return _fix_scope(document, loc) or _stand_in(result, state_loc)
    if head == "Choices" and len(rest) > 1 and isinstance(rest[1], int):
        return _break_rule(result, state_loc, rest[1])
    if head == "Catch" and len(rest) > 1 and isinstance(rest[1], int):
        catchers = state.get("Catch")
        if isinstance(catchers, list) and rest[1] < len(catchers):
            del catchers[rest[1]]
            return True
    if head in _STRUCTURE or head in ("Choices", "Catch"):
        return _stand_in(result, state_loc)
    state.pop(head, None)
    return True


def _unreadable(diagnostic: Diagnostic) -> bool:
    """True for a problem with the state as a whole (not one nothing reaches, say)."""
    return diagnostic.code not in _DRAWABLE


def _add_missing(result: Repair, loc: Location) -> bool:
    """A stand-in for the state a transition names, in the transition's scope."""
    target = _at(result.document, loc)
    if not isinstance(target, str):
        return False
    scope_loc = _scope_of(loc)
    states = _at(result.document, (*scope_loc, "States"))
    if not isinstance(states, MutableMapping) or target in states:
        return False
    states[target] = {"Type": "Fail"}
    result.missing.add(pointer(*scope_loc, "States", target))
    return True


def _scope_of(loc: Location) -> Location:
    """The location of the scope a transition at ``loc`` belongs to."""
    if loc[-1] == "StartAt":
        return loc[:-1]
    for end in range(len(loc) - 1, 0, -1):
        if loc[end - 1] == "States":
            return loc[: end - 1]
    return ()


def _fix_scope(document: dict[str, Any], loc: Location) -> bool:
    """A problem of a scope's own fields: a missing or unusable ``StartAt`` becomes the
    first state; any other field with a problem is left out."""
    target = _at(document, loc)
    usable = isinstance(target, MutableMapping) and _has_states(target)
    if usable and not isinstance(target.get("StartAt"), str):
        target["StartAt"] = next(iter(target["States"]))
        return True
    if not loc:
        return False
    parent, key = _at(document, loc[:-1]), loc[-1]
    if not isinstance(parent, MutableMapping) or key == "States":
        return False
    if key == "StartAt":
        first = next(iter(parent["States"])) if _has_states(parent) else None
        if first is None or parent.get("StartAt") == first:
            return False
        parent["StartAt"] = first
        return True
    if isinstance(key, str) and key in parent:
        parent.pop(key)
        return True
    return False


def _break_rule(result: Repair, state_loc: Location, index: int) -> bool:
    """An invalid Choice rule keeps its target, with a condition that reads nothing."""
    state = _at(result.document, state_loc)
    rules = state.get("Choices")
    if not isinstance(rules, list) or index >= len(rules):
        return _stand_in(result, state_loc)
    rule = rules[index]
    target = rule.get("Next") if isinstance(rule, Mapping) else None
    if not isinstance(target, str):
        del rules[index]
        if not rules:
            return _stand_in(result, state_loc)
        return True
    if state.get("QueryLanguage", result.document.get("QueryLanguage")) == "JSONata":
        rules[index] = {"Condition": "{% true %}", "Next": target}
    else:
        rules[index] = {"Variable": "$", "IsPresent": True, "Next": target}
    node = pointer(*state_loc)
    if (node, index) in result.broken_rules:
        return _stand_in(result, state_loc)  # the placeholder itself did not do
    result.broken_rules.add((node, index))
    return True


def _stand_in(result: Repair, state_loc: Location) -> bool:
    """Replace a state by one that keeps where it goes and says what it was: a Pass to its
    ``Next`` (or ``Default``), or ending its scope when it did (``End: true``, a Succeed).
    A state that had neither (a Choice whose rules cannot be read and without ``Default``,
    any other state without ``Next`` or ``End``) goes nowhere, as a Fail does: no edge made
    up, so it does not look as if it ended the machine."""
    state = _at(result.document, state_loc)
    node = pointer(*state_loc)
    if node in result.stand_ins or not isinstance(state, Mapping):
        return False
    declared = state.get("Type")
    target = state.get("Next")
    if not isinstance(target, str) and isinstance(state.get("Default"), str):
        target = state["Default"]
    stand_in: dict[str, Any] = {"Type": "Pass"}
    if isinstance(target, str):
        stand_in["Next"] = target
    elif state.get("End") is True or declared == "Succeed":
        stand_in["End"] = True
    else:
        stand_in = {"Type": "Fail"}
    parent = _at(result.document, state_loc[:-1])
    parent[state_loc[-1]] = stand_in
    result.stand_ins[node] = declared if isinstance(declared, str) else None
    result.broken_rules = {(n, i) for n, i in result.broken_rules if n != node}
    return True
