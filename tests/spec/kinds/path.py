"""Spec kind ``path``: compile one JSONPath with :mod:`asl.paths` and evaluate it.

Case fields:

- ``path``: the path text;
- ``input`` (read by ``$``), ``context`` (``$$``), ``variables`` (``$name``): absent means
  null / no variables;
- exactly one expected outcome:

  - ``result``: the value a definite path selects, or the list of matches of an
    indefinite one (compared strictly: ``1`` is not ``1.0`` nor ``true``);
  - ``notFound``: the exact ``PathNotFound.detail`` (Jayway's message, as AWS quotes it
    after ``Invalid path '<path>' : ``);
  - ``syntaxError: true``: the text must not compile;

- optional ``definite`` (bool): the path selects one value rather than a list of matches;
- optional ``reference`` (bool): the path is (or is not) a valid Reference Path.
"""

from __future__ import annotations

from typing import Any

import pytest

from asl.bindings import Bindings
from asl.paths import PathNotFound, PathSyntaxError, check_path, compile_path


def run(case: dict[str, Any]) -> None:
    """Evaluate the case's path and assert its expected outcome."""
    text = case["path"]
    if case.get("syntaxError"):
        with pytest.raises(PathSyntaxError):
            compile_path(text)
        assert check_path(text) is not None
        return
    path = compile_path(text)
    if "definite" in case:
        assert path.definite is case["definite"]
    if "reference" in case:
        assert (check_path(text, reference=True) is None) is case["reference"]
    bindings = bindings_of(case)
    if "notFound" in case:
        with pytest.raises(PathNotFound) as info:
            path.get(bindings)
        assert info.value.detail == case["notFound"]
        assert info.value.path == text
        return
    assert_strictly_equal(path.get(bindings), case["result"])


def bindings_of(case: dict[str, Any]) -> Bindings:
    """The bindings a case describes (``input``, ``context``, ``variables``)."""
    return Bindings(case.get("input"), case.get("context"), case.get("variables", {}))


def assert_strictly_equal(actual: Any, expected: Any) -> None:
    """Equal JSON values of equal types all the way down (``1`` is not ``1.0``/``true``),
    objects compared with their key order."""
    assert _typed(actual) == _typed(expected), f"{actual!r} != {expected!r}"


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return ("object", [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("array", [_typed(item) for item in value])
    return (type(value).__name__, value)
