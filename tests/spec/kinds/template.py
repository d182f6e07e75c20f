"""Spec kind ``template``: compile one payload template with :mod:`asl.templates` and
evaluate it.

Case fields:

- ``template``: the template (any JSON value), written in the ASL field ``field``
  (default ``"Parameters"``);
- ``input`` (``$``), ``context`` (``$$``), ``variables`` (``$name``);
- exactly one expected outcome:

  - ``result``: the payload (compared strictly, key order included);
  - ``error`` and ``cause``: the :class:`StatesError` raised at evaluation, exact cause;
  - ``syntaxError: true``: the template must not compile (``TemplateSyntaxError``);

- optional ``constant: true``: the template has no ``.$`` key, so evaluating it returns
  the template object itself, uncopied.
"""

from __future__ import annotations

from typing import Any

import pytest

from asl.errors import StatesError
from asl.templates import TemplateSyntaxError, compile_template
from tests.spec.kinds.path import assert_strictly_equal, bindings_of


def run(case: dict[str, Any]) -> None:
    """Compile and evaluate the case's template and assert its expected outcome."""
    field = case.get("field", "Parameters")
    if case.get("syntaxError"):
        with pytest.raises(TemplateSyntaxError):
            compile_template(case["template"], field)
        return
    template = compile_template(case["template"], field)
    bindings = bindings_of(case)
    if "error" in case:
        with pytest.raises(StatesError) as info:
            template(bindings)
        assert (info.value.error, info.value.cause) == (case["error"], case["cause"])
        return
    payload = template(bindings)
    assert_strictly_equal(payload, case["result"])
    if case.get("constant"):
        assert payload is case["template"]
