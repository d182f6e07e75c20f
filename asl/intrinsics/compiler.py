"""Syntax tree -> one closure per node, built once; evaluation never looks at text again.

Failures become ``States.Runtime`` with the causes AWS writes (recorded against AWS, minus the
``An error occurred while executing the state ...`` prefix the runtime adds):

- a path argument that selects nothing: ``The function '<field text>' had the following
  error: The JsonPath argument for the field '<path>' could not be found in the input '<JSON>'``
- a function rejecting its arguments: ``There was an error while evaluating the intrinsic
  function: <field text>. Invalid arguments in States.<Name>`` (or a more specific message).

Both quote the whole field as written, also when a nested call failed. A result larger
than this engine's limits (:mod:`asl.limits`: ``States.Array`` of a value many times over,
nested ten deep, ``States.Format`` of many large values) fails with
``States.DataLimitExceeded``, the same prefix and our own wording: AWS records none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asl.bindings import Bindings
from asl.errors import RUNTIME, StatesError
from asl.intrinsics.parser import Call, IntrinsicSyntaxError, Literal, Node, PathArg
from asl.intrinsics.registry import REGISTRY
from asl.intrinsics.render import json_text
from asl.intrinsics.signature import IntrinsicError
from asl.limits import MAX_TEXT, LimitExceeded, check_value, too_long
from asl.paths import PathNotFound

Evaluator = Callable[[Bindings], Any]


@dataclass(frozen=True, slots=True)
class CompiledCall:
    """An intrinsic call parsed once; calling it evaluates the tree against bindings."""

    text: str
    tree: Call
    evaluate: Evaluator

    def __call__(self, bindings: Bindings) -> Any:
        return self.evaluate(bindings)


def build(text: str, tree: Call) -> CompiledCall:
    """Check every function name in ``tree`` and turn it into one evaluator."""
    return CompiledCall(text, tree, _call(text, tree))


def _node(text: str, node: Node, as_template: bool = False) -> Evaluator:
    if isinstance(node, Literal):
        value = node.template if as_template and node.template is not None else node.value
        return lambda bindings: value
    if isinstance(node, PathArg):
        return _path(text, node)
    return _call(text, node)


def _call(text: str, node: Call) -> Evaluator:
    function = REGISTRY.get(node.name)
    if function is None:
        raise IntrinsicSyntaxError(f"'{text}' calls '{node.name}', which is not an intrinsic")
    if function.ignores_arguments:
        arguments: tuple[Evaluator, ...] = ()
    else:
        # A literal first argument of States.Format keeps its escapes as a parsed template.
        template_first = node.name == "States.Format"
        arguments = tuple(
            _node(text, arg, as_template=template_first and i == 0)
            for i, arg in enumerate(node.args)
        )
    prefix = f"There was an error while evaluating the intrinsic function: {text}. "

    def evaluate(bindings: Bindings) -> Any:
        values = [argument(bindings) for argument in arguments]
        try:
            result = function.invoke(values, bindings)
            if type(result) is str:
                if len(result) > MAX_TEXT:
                    raise too_long(len(result))
            elif isinstance(result, list | dict):
                check_value(result)
        except IntrinsicError as exc:
            raise StatesError(RUNTIME, prefix + exc.message) from None
        except LimitExceeded as exc:
            raise StatesError(exc.name, f"{prefix}The function {exc.detail}") from None
        return result

    return evaluate


def _path(text: str, node: PathArg) -> Evaluator:
    path = node.path
    root = _root_reader(node.text)

    def evaluate(bindings: Bindings) -> Any:
        try:
            return path.get(bindings)
        except PathNotFound:
            raise StatesError(RUNTIME, _missing_cause(text, node.text, root(bindings))) from None

    return evaluate


def _root_reader(path_text: str) -> Callable[[Bindings], Any]:
    """What the cause quotes as "the input": the document the path starts from."""
    if path_text.startswith("$$"):
        return lambda bindings: bindings.context
    name = path_text[1:].split(".", 1)[0].split("[", 1)[0]
    if name:
        return lambda bindings: bindings.variables.get(name)
    return lambda bindings: bindings.input


def _missing_cause(text: str, path_text: str, document: Any) -> str:
    try:
        quoted = json_text(document)
    except (RecursionError, TypeError):
        quoted = "<unprintable>"
    return (
        f"The function '{text}' had the following error: The JsonPath argument for the "
        f"field '{path_text}' could not be found in the input '{quoted}'"
    )
