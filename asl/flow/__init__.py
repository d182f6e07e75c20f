"""The compiled data flow of each state: everything a state computes from JSON.

:func:`build_flow` turns one state of the model (and its document) into a flow object
the runtime calls: ``prepare`` (the input of the state's work), ``finish`` (its output
and assigned variables), ``catch``, ``choose``, ``wait``, ``fail``, ``items``... Every
path, template, intrinsic call, Choice rule and JSONata expression is compiled here,
once; running a state only evaluates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from asl import model as m
from asl.flow.jsonata import JsonataFlow
from asl.flow.jsonpath import JsonPathFlow

__all__ = ["JsonPathFlow", "JsonataFlow", "build_flow"]


def build_flow(state: m.State, document: Mapping[str, Any]) -> JsonPathFlow | JsonataFlow:
    """The compiled flow of one state in its query language."""
    text = json.dumps(document)
    if state.query_language == "JSONata":
        return JsonataFlow(state, document, uses_context="states.context" in text)
    return JsonPathFlow(state, document, uses_context="$$" in text)
