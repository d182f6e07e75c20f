"""The compiled data flow of each state: everything a state computes from JSON.

:func:`build_flow` turns one state of the model into a flow object the runtime calls,
typed by the :class:`StateFlow` protocol: ``prepare`` (the input of the state's work),
``finish`` (its output and assigned variables), ``catch``, ``choose``, ``wait``,
``fail``, ``items``... Every path, template, intrinsic call, Choice rule and JSONata
expression is compiled here, once, from the typed model alone; running a state only
evaluates.
"""

from __future__ import annotations

from asl import model as m
from asl.flow.context_use import reads_context
from asl.flow.jsonata import JsonataFlow
from asl.flow.jsonpath import JsonPathFlow
from asl.flow.protocol import StateFlow

__all__ = ["JsonPathFlow", "JsonataFlow", "StateFlow", "build_flow"]


def build_flow(state: m.State) -> StateFlow:
    """The compiled flow of one state in its query language."""
    flow = JsonataFlow if state.query_language == "JSONata" else JsonPathFlow
    return flow(state, uses_context=reads_context(state))
