"""Whether a state reads the context object (``$$`` / ``$states.context``), decided once
from the parsed forms of its expressions: the runtime builds the context only for the
states that read it.

JSONPath: a ``$$`` path written where a path goes (every ``..._path`` field of the model,
a ``...Path`` key of ReaderConfig, a Choice rule's ``Variable`` and
``...Path`` operand), as a payload template's ``.$`` value, or as an argument of an
intrinsic call there. JSONata: any ``{% %}`` string in the state's fields that
:func:`asl.jsonata.reads_context` says reads it. Nested scopes (a Parallel's branches, a
Map's processor) hold other states, with flows of their own: they are not looked into.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass

from asl import jsonata
from asl import model as m
from asl.intrinsics import is_intrinsic_call
from asl.intrinsics.parser import Call, PathArg, parse
from asl.paths import CONTEXT, path_shape

__all__ = ["reads_context"]

#: Model fields holding a JSONPath payload template (``"key.$"`` values are expressions).
_TEMPLATE_FIELDS = frozenset(
    {"parameters", "result_selector", "item_selector", "assign", "batch_input", "credentials"}
)
#: Model fields holding ASL's own keys (``MaxItemsPath`` is a path).
_CONFIG_FIELDS = frozenset({"reader_config", "writer_config"})
#: Model fields of text that is never an expression, even when it looks like one.
_TEXT_FIELDS = frozenset({"name", "type", "comment", "next", "default", "resource", "label"})


def reads_context(state: m.State) -> bool:
    """Whether any expression of the state may read the context object."""
    if state.query_language == "JSONata":
        return any(
            jsonata.reads_context(text) for text in _strings(state) if jsonata.is_expression(text)
        )
    return any(_text_reads_context(text) for text in _jsonpath_expressions(state))


def _is_own_object(value: object) -> bool:
    """A model object of the state's own: not a nested scope (its states have their flows)."""
    return is_dataclass(value) and not isinstance(value, m.Scope)


def _own_fields(value: object) -> Iterator[tuple[str, object]]:
    """A model object's fields, without its compiled flow."""
    assert is_dataclass(value)
    for f in fields(value):
        if f.name != "flow":
            yield f.name, getattr(value, f.name)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif _is_own_object(value):
        for name, item in _own_fields(value):
            if name not in _TEXT_FIELDS:
                yield from _strings(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _jsonpath_expressions(value: object) -> Iterator[str]:
    """Every path or intrinsic call of a JSONPath model object, as written."""
    if isinstance(value, m.DataTest):
        yield value.variable
        if value.operator.endswith("Path"):
            yield value.value
    elif _is_own_object(value):
        for name, item in _own_fields(value):
            if name in _TEMPLATE_FIELDS:
                yield from _template_expressions(item)
            elif name in _CONFIG_FIELDS and isinstance(item, Mapping):
                yield from (v for k, v in item.items() if k.endswith("Path") and isinstance(v, str))
            elif name.endswith("_path") and isinstance(item, str):
                yield item
            else:
                yield from _jsonpath_expressions(item)
    elif isinstance(value, tuple):
        for item in value:
            yield from _jsonpath_expressions(item)


def _template_expressions(template: object) -> Iterator[str]:
    """The ``.$`` values of a payload template, at any depth."""
    pending = [template]
    while pending:
        value = pending.pop()
        if isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(key, str) and key.endswith(".$") and isinstance(item, str):
                    yield item
                else:
                    pending.append(item)
        elif isinstance(value, list):
            pending.extend(value)


def _text_reads_context(text: str) -> bool:
    if text.startswith("$"):
        return path_shape(text)[0] == CONTEXT
    return is_intrinsic_call(text) and _call_reads_context(parse(text))


def _call_reads_context(call: Call) -> bool:
    return any(
        (isinstance(arg, PathArg) and arg.path.root == CONTEXT)
        or (isinstance(arg, Call) and _call_reads_context(arg))
        for arg in call.args
    )
