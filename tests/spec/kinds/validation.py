"""Spec cases of kind ``validation``: a definition and the diagnostics AWS gives for it.

Case fields: ``definition`` (any JSON value) or ``definitionText`` (raw text);
``machineType`` (``STANDARD`` by default); ``substitutions`` (the values of its ``${Name}``
placeholders, as DefinitionSubstitutions gives them); ``padTo`` (the definition's text
is padded with trailing spaces to exactly this many characters); then either ``valid:
true`` (no ERROR, and the definition loads into a model), ``apiError``: ``{code,
message}`` of the API error that refuses the definition before validating it (both
``asl.validate`` and ``asl.load`` raise it), or ``diagnostics``: the expected ERRORs as a
multiset of (code, location), each message compared exactly when given; an expected
WARNING must be among the warnings (other warnings are allowed).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

import asl


def run(case: dict[str, Any]) -> None:
    """Validate the case's definition and assert AWS's diagnostics."""
    if "definitionText" in case:
        source = case["definitionText"]
    else:
        source = json.dumps(case["definition"], indent=2)
    if "padTo" in case:
        source = source.ljust(case["padTo"])
    options = {
        "machine_type": case.get("machineType", "STANDARD"),
        "substitutions": case.get("substitutions"),
    }
    if "apiError" in case:
        for call in (asl.validate, asl.load):
            with pytest.raises(asl.DefinitionTooLarge) as refused:
                call(source, **options)
            assert {"code": refused.value.code, "message": refused.value.message} == case[
                "apiError"
            ]
        return
    found = [d.to_aws() for d in asl.validate(source, **options)]
    errors = [d for d in found if d["severity"] == "ERROR"]
    if case.get("valid"):
        assert errors == [], errors
        assert isinstance(asl.load(source, **options), asl.StateMachine)
        return
    expected = case["diagnostics"]
    expected_errors = [d for d in expected if d["severity"] == "ERROR"]
    assert Counter(_key(d) for d in errors) == Counter(_key(d) for d in expected_errors), found
    warnings = [d for d in found if d["severity"] == "WARNING"]
    for wanted in expected:
        pool = errors if wanted["severity"] == "ERROR" else warnings
        assert any(_matches(wanted, d) for d in pool), (wanted, found)


def _key(diagnostic: dict[str, Any]) -> tuple[str, str | None]:
    return diagnostic["code"], diagnostic.get("location")


def _matches(wanted: dict[str, Any], got: dict[str, Any]) -> bool:
    if _key(wanted) != _key(got):
        return False
    return "message" not in wanted or wanted["message"] == got["message"]
