"""JSONata expressions (``QueryLanguage: JSONata``): compiled once, evaluated many times.

A string that is exactly ``{% ... %}`` is an expression. :func:`compile_expression` parses
one into a callable taking :class:`~asl.bindings.Bindings`; :func:`compile_jsonata_template`
does the same for a JSON value whose strings, at any depth, may be expressions (Arguments,
Output, Assign values, Items, ...). Expressions read ``$states`` (``input``, ``context`` and,
where AWS allows them, ``result`` and ``errorOutput``), workflow variables as ``$name`` and
AWS's extra functions ``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid`` and
``$parse`` (in :mod:`asl.jsonata_functions`, with the rule of which errors become
``States.QueryEvaluationError``). AWS pins JSONata 2.0.6: ``$eval`` is absent and the
2.1 operators ``??`` and ``?:`` do not parse.

The engine is jsonata-python, driven so that it stays pure: ``$now()``/``$millis()`` read
the state's entry time from the context, ``$random``/``$uuid``/``$shuffle`` draw from the
injected entropy, and evaluation state lives in a per-thread copy of each expression.
Every evaluation is bounded (:mod:`asl.limits`): its steps are charged to a budget of
time and memory, the values it builds are measured, regular expressions match with a
timeout (:mod:`asl.jsonata_regex`), and the steps that could build or walk a huge value in
one go are checked before they start.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import re
import threading
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from jsonata import Jsonata
from jsonata.functions import Functions
from jsonata.jexception import JException
from jsonata.parser import Parser
from jsonata.tokenizer import Tokenizer
from jsonata.utils import Utils

from asl.bindings import Bindings
from asl.errors import QUERY_EVALUATION_ERROR, StatesError
from asl.jsonata_functions import AWS_FRAME, DYNAMIC, EngineFault, FunctionError, guarded
from asl.jsonata_regex import bounded_regex_engine
from asl.limits import (
    MAX_ITEMS,
    Budget,
    Interrupted,
    LimitExceeded,
    Overrun,
    check_value,
    time_limit,
    too_many,
)

__all__ = [
    "RESULT_TYPES",
    "Evaluator",
    "JsonataEvaluationError",
    "JsonataSyntaxError",
    "check_expression",
    "check_result_type",
    "compile_expression",
    "compile_jsonata_template",
    "expression_body",
    "is_expression",
    "json_type",
    "reads_context",
]

_log = logging.getLogger(__name__)

Evaluator = Callable[[Bindings], Any]

#: The result types :func:`check_result_type` knows, as AWS names them in its causes.
RESULT_TYPES = frozenset({"array", "number", "integer", "string", "boolean", "object"})

_NULL = Utils.NULL_VALUE
_MISSING = object()
#: A result that is a function (or a regular expression): not a JSON value, and not nothing.
_UNSUPPORTED = object()


def is_expression(value: Any) -> bool:
    """True for a string that is exactly one JSONata expression: ``{% ... %}``."""
    return isinstance(value, str) and len(value) >= 4 and value[:2] == "{%" and value[-2:] == "%}"


def expression_body(text: str) -> str:
    """The expression inside ``{% ... %}``, trimmed, as AWS quotes it in causes."""
    return text[2:-2].strip()


# --- errors --------------------------------------------------------------------------------


class JsonataSyntaxError(ValueError):
    """A ``{% ... %}`` string that is not a JSONata 2.0.6 expression."""

    def __init__(self, text: str, detail: str) -> None:
        super().__init__(f"The JSONata expression '{expression_body(text)}' is invalid: {detail}")
        self.text = text
        self.detail = detail


class JsonataEvaluationError(StatesError):
    """``States.QueryEvaluationError`` with the field it happened in (the ``location`` of
    AWS's ``EvaluationFailed`` history event)."""

    def __init__(self, cause: str, location: str) -> None:
        super().__init__(QUERY_EVALUATION_ERROR, cause)
        self.location = location


def _failure(body: str, field: str, what: str) -> JsonataEvaluationError:
    cause = f"The JSONata expression '{body}' specified for the field '{field}' {what}"
    return JsonataEvaluationError(cause, field)


# jsonata-python's message texts are JSONata's, but say "Object" for "function" and quote
# with double quotes: _describe puts both right, and fills the placeholders from the
# exception's (current, expected, extra) fields in this order (3: unknown).
_ARGUMENT_ORDER = {"D1002": (1,), "T0411": (1, 3)}
_ARRAY_TYPES = {"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects"}
_PLACEHOLDER = re.compile(r"\{\{\{(\w+)\}\}\}|\{\{(\w+)\}\}")
_MESSAGE_CODES = {  # jsonata-python raises a few errors with a message instead of a code
    "Second argument of replace function cannot be an empty string": "D3010",
    "Fourth argument of replace function must evaluate to a positive number": "D3011",
}


def _describe(exc: JException) -> str:
    """``<code>: <message>`` as JSONata 2.0.6 words the error."""
    code = _MESSAGE_CODES.get(exc.error, exc.error)
    template = JException.error_codes.get(code)
    if template is None:
        return str(exc.error)
    fields = [exc.current, exc.expected, exc.extra, None]
    if code == "T0412":
        fields[2] = _ARRAY_TYPES.get(str(exc.extra), "strings")
    values = iter([fields[i] for i in _ARGUMENT_ORDER.get(code, (0, 1, 2))])

    def fill(match: re.Match[str]) -> str:
        value = next(values, None)
        return ("undefined" if value is None else str(value)) if match[1] else _stringify(value)

    text = template.replace(" Object", " function").replace('"', "'")
    return f"{code}: {_PLACEHOLDER.sub(fill, text)}"


def _stringify(value: Any) -> str:
    """JavaScript's ``JSON.stringify`` of a value, as JSONata inserts it into messages."""
    if value is None or _is_function(value):
        return "undefined"
    converted = _json_result(value)
    return "undefined" if converted is _MISSING else _dumps(converted)


def _dumps(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _python_error(exc: Exception) -> str:
    """The cause detail for an error jsonata-python raised without a JSONata code."""
    if isinstance(exc, ZeroDivisionError | OverflowError):
        return "D1001: Number out of range: null"  # JavaScript's Infinity, stringified
    if isinstance(exc, RecursionError):
        return f"D1011: {JException.error_codes['D1011']}"
    text = str(exc)
    if isinstance(exc, TypeError) and text.startswith("'<' not supported"):
        return _describe(JException("D3070", -1))  # $sort of values of mixed types
    for prefix, code in (("Formatting or parsing an integer", "D3130"), ("Unknown comp", "D3132")):
        if text.startswith(prefix):
            return f"{code}: {text}"
    # A gap in jsonata-python, not in the expression's author: keep its traceback visible.
    _log.warning("jsonata-python failed with %s", type(exc).__name__, exc_info=exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- parsing -------------------------------------------------------------------------------


class _Rejected(Parser.Infix):  # type: ignore[misc]
    """An operator JSONata 2.1 added; 2.0.6 reads its first character as a lone ``?``
    followed by a symbol that cannot start an expression."""

    def __init__(self, parser: Any, operator: str) -> None:
        super().__init__(parser, operator, Tokenizer.operators[operator])

    def led(self, left: Any) -> Any:
        raise JException("S0211", self.position, self.id[1])


class _StrictParser(Parser):  # type: ignore[misc]
    """jsonata-python's parser without ``??`` and ``?:``."""

    def __init__(self) -> None:
        super().__init__()
        for operator in ("??", "?:"):
            symbol = _Rejected(self, operator)
            symbol.value = symbol.id = operator
            symbol.lbp = symbol.bp
            self.symbol_table[operator] = symbol


_parsers = threading.local()


def _parse(body: str) -> Any:
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = _StrictParser()
    try:
        return parser.parse(body, bounded_regex_engine)
    except KeyError as exc:  # jsonata-python's lookup of an operator it does not know
        raise JException("S0204", -1, exc.args[0] if exc.args else None) from None


def _syntax_tree(text: str) -> Any:
    """The parsed body of ``{% ... %}``; raises :class:`JsonataSyntaxError`."""
    try:
        return _parse(expression_body(text))
    except JException as exc:
        raise JsonataSyntaxError(text, _describe(exc)) from None
    except Exception as exc:  # jsonata-python's parser also fails with plain exceptions
        raise JsonataSyntaxError(text, _python_error(exc)) from None


def check_expression(text: str) -> str | None:
    """None when the ``{% ... %}`` string parses as JSONata 2.0.6, else why not."""
    if not is_expression(text):
        return f"The value '{text}' is not a JSONata expression enclosed in {{% %}}"
    try:
        _syntax_tree(text)
    except JsonataSyntaxError as exc:
        return str(exc)
    return None


# --- what an expression reads ---------------------------------------------------------------

#: The parts of ``$states`` that are not the context object.
_STATES_NOT_CONTEXT = frozenset({"input", "result", "errorOutput"})
#: Functions that read the state's entry time from the context object.
_CONTEXT_FUNCTIONS = frozenset({"now", "millis"})


def reads_context(text: str) -> bool:
    """Whether the ``{% ... %}`` expression may read the context object: it refers to
    ``$states`` other than as ``$states.input``, ``.result`` or ``.errorOutput``
    (``$states``, ``$states.context``, ``$lookup($states, 'context')``, ``$states[0]``...
    all may), or calls ``$now`` or ``$millis``. Decided from the syntax tree."""
    return _reads_context(_syntax_tree(text), set())


def _reads_context(node: Parser.Symbol, seen: set[int]) -> bool:
    if id(node) in seen:  # the tree links some nodes to their ancestors
        return False
    seen.add(id(node))
    children = _children(node)
    if node.type == "path" and _starts_with_a_plain_part(node.steps):
        children = [child for child in children if child is not node.steps[0]]
    elif node.type == "variable" and (node.value == "states" or node.value in _CONTEXT_FUNCTIONS):
        return True
    return any(_reads_context(child, seen) for child in children)


def _starts_with_a_plain_part(steps: list[Parser.Symbol]) -> bool:
    """``$states.input`` (or ``.result``, ``.errorOutput``) begins the path, with nothing
    applied to ``$states`` itself and no ``%`` stepping back up to it."""
    if len(steps) < 2 or any(step.type == "parent" for step in steps):
        return False
    first, second = steps[0], steps[1]
    return (
        first.type == "variable"
        and first.value == "states"
        and not _children(first)
        and second.type == "name"
        and second.value in _STATES_NOT_CONTEXT
    )


def _children(node: Parser.Symbol) -> list[Parser.Symbol]:
    """The nodes a node holds, in any attribute (some hold lists of lists of nodes)."""
    found: list[Parser.Symbol] = []
    pending = list(vars(node).values())
    while pending:
        value = pending.pop()
        if isinstance(value, Parser.Symbol):
            found.append(value)
        elif isinstance(value, list | tuple):
            pending.extend(value)
    return found


# --- evaluation ----------------------------------------------------------------------------


def _states(bindings: Bindings) -> dict[str, Any]:
    states = {"input": bindings.input, "context": bindings.context}
    if bindings.has_result:
        states["result"] = bindings.result
    if bindings.has_error_output:
        states["errorOutput"] = bindings.error_output
    return states


class _Frame(Jsonata.Frame):  # type: ignore[misc]
    """The top frame of one evaluation: ``$``, ``$states``, then the workflow variables
    (read in place, never copied), then the functions that need the bindings."""

    def __init__(self, bindings: Bindings) -> None:
        super().__init__(AWS_FRAME)
        self.bindings["$"] = None  # AWS gives no input document: bare field names are undefined
        self.bindings["states"] = _states(bindings)
        # jsonata-python's hooks, looked up at every step: found here, not in the frames above
        self.bindings["__evaluate_entry"] = self.bindings["__evaluate_exit"] = None
        self._source = bindings

    @guarded
    def lookup(self, name: str) -> Any:
        value = self.bindings.get(name, _MISSING)
        if value is not _MISSING:
            return value
        variables = self._source.variables
        if name in variables and not name.startswith("__evaluate"):  # not the engine's hooks
            value = variables[name]
            return _NULL if value is None else value
        factory = DYNAMIC.get(name)
        if factory is not None:
            value = self.bindings[name] = factory(self._source)
            return value
        return self.parent.lookup(name)


#: The results whose size the budget measures at every step.
_MEASURED = frozenset({str, list, dict, Utils.JList, Utils.RangeList})
_CONTAINERS = (list, dict)


class _Engine(Jsonata):  # type: ignore[misc]
    """One parsed expression. Each thread evaluates its own copy: jsonata-python keeps the
    current input and frame on the instance while it evaluates. Every step is charged to
    the evaluation's :class:`~asl.limits.Budget`, and the steps that can walk or
    build a large value in one go are checked first (see :mod:`asl.limits`)."""

    budget: Budget

    def __init__(self, ast: Any) -> None:  # not Jsonata's: that one reads the clock
        self.parser = _PARSER_FLAGS
        self.ast = ast
        self.errors = self.timeout = self.stack = self.input = None
        self.regex_engine = bounded_regex_engine
        self.environment = AWS_FRAME
        self.timestamp = 0
        self.validate_input = self.output_convert_nulls = False

    def get_per_thread_instance(self) -> _Engine:
        return self

    def eval(self, expr: Any, input: Any, environment: Any) -> Any:
        # Jsonata.eval (keeping the current input and frame across the step) with the budget
        budget = self.budget
        budget.left -= 1
        if budget.left < 0:
            budget.check()
        saved_input, saved_environment = self.input, self.environment
        try:
            result = self._eval(expr, input, environment)
        finally:
            self.input, self.environment = saved_input, saved_environment
        if type(result) in _MEASURED:
            budget.measure(result)
        return result

    def apply_inner(self, proc: Any, args: Any, input: Any, environment: Any) -> Any:
        # jsonata-python prints before raising T1006 for a call on a non-function
        if not (Utils.is_function(proc) or Functions.is_lambda(proc) or Functions.is_regex(proc)):
            raise JException("T1006", 0)
        return super().apply_inner(proc, args, input, environment)

    # Steps that walk a whole value (a value holding another many times over is walked
    # as often) or build a large one at once: bounded before they start.

    def evaluate_range_expression(self, lhs: Any, rhs: Any) -> Any:
        if _is_int(lhs) and _is_int(rhs) and rhs - lhs >= MAX_ITEMS:
            raise too_many()
        return super().evaluate_range_expression(lhs, rhs)

    def evaluate_string_concat(self, lhs: Any, rhs: Any) -> str:
        _walkable(lhs, rhs)
        return super().evaluate_string_concat(lhs, rhs)  # type: ignore[no-any-return]

    def evaluate_equality_expression(self, lhs: Any, rhs: Any, op: Any) -> Any:
        _walkable(lhs, rhs)
        return super().evaluate_equality_expression(lhs, rhs, op)

    def evaluate_includes_expression(self, lhs: Any, rhs: Any) -> Any:
        _walkable(lhs, rhs)
        return super().evaluate_includes_expression(lhs, rhs)

    def evaluate_descendants(self, expr: Any, input: Any) -> Any:
        _walkable(input)
        return super().evaluate_descendants(expr, input)

    def flatten(self, arg: Any, flattened: Any) -> Any:
        if flattened is None:  # the outermost call (it recurses with the list it fills)
            _walkable(arg)
        return super().flatten(arg, flattened)

    def evaluate_transform_expression(self, expr: Any, input: Any, environment: Any) -> Any:
        return Jsonata.JFunction(_Transformer(self, expr, environment), "<(oa):o>")

    def run(self, frame: _Frame) -> Any:
        """The raw result: ``None`` is undefined and ``Utils.NULL_VALUE`` is null."""
        return self.eval(self.ast, None, frame)


class _Transformer(Jsonata.Transformer):  # type: ignore[misc]
    """``~> |path|update|``, which copies its object through its JSON text first."""

    def call(self, input: Any, args: Any) -> Any:
        if args:
            _walkable(args[0])
        return super().call(input, args)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _walkable(*values: Any) -> None:
    """Refuse arrays and objects too large to walk (see :func:`~asl.limits.check_value`)."""
    for value in values:
        if isinstance(value, _CONTAINERS):
            check_value(value)


_PARSER_FLAGS = SimpleNamespace(dbg=False)  # all the engine reads of a parser


def _is_function(value: Any) -> bool:
    return Utils.is_function(value) or Functions.is_lambda(value) or Functions.is_regex(value)


_EXACT = 2**53


def _number(value: float) -> int | float:
    # JSONata numbers are doubles: AWS writes integral ones without a fraction, as
    # JavaScript does below 1e21.
    if value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def _nested(value: Any) -> Any:
    """A value inside an object or array: None there is JSON null (from the input)."""
    if value is None or value is _NULL:
        return None
    return _to_json(value)


#: Our own wording: AWS documents no memory limit for an evaluation.
_NO_MEMORY = "needed more memory than the process could give it."


def _json_result(value: Any) -> Any:
    """:func:`_to_json` of a whole result, refused first if it is too large to walk."""
    _walkable(value)
    return _to_json(value)


def _to_json(value: Any) -> Any:
    """The JSON value of a JSONata result, or ``_MISSING`` for undefined (and, as
    ``JSON.stringify`` treats them, functions). Unchanged values are returned as they are."""
    if value is None:
        return _MISSING
    if value is _NULL:
        return None
    if isinstance(value, str | bool):
        return value
    if isinstance(value, int):  # beyond 2**53 a double keeps only the nearest value
        return (
            value
            if -_EXACT <= value <= _EXACT or value.bit_length() > 1023
            else _number(float(value))
        )
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        items = [(key, _nested(item)) for key, item in value.items()]
        if all(new is old for (_, new), old in zip(items, value.values(), strict=True)):
            return value
        return {key: item for key, item in items if item is not _MISSING}
    if isinstance(value, list):
        converted = [_nested(item) for item in value]
        if type(value) is list and all(a is b for a, b in zip(converted, value, strict=True)):
            return value
        return [None if item is _MISSING else item for item in converted]
    return _MISSING  # a function or a regular expression


class _Expression:
    """A compiled ``{% ... %}``: call it with bindings for its JSON result."""

    __slots__ = ("_local", "_prototype", "body", "expected", "field", "text")

    def __init__(self, text: str, field: str, expected: str | None) -> None:
        if not is_expression(text):
            raise JsonataSyntaxError(text, "not enclosed in {% %}")
        if expected is not None and expected not in RESULT_TYPES:
            raise ValueError(f"unknown result type {expected!r}")
        self.text = text
        self.body = expression_body(text)
        self.field = field
        self.expected = expected
        self._prototype = _Engine(_syntax_tree(text))
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"<JSONata {self.text!r} for {self.field!r}>"

    def __call__(self, bindings: Bindings) -> Any:
        value = self._run(bindings)
        if value is _MISSING:
            raise _failure(self.body, self.field, "returned nothing (undefined).")
        if value is _UNSUPPORTED:
            raise _failure(self.body, self.field, "returned an unsupported result type.")
        if self.expected is not None:
            check_result_type(value, self.expected, self.text, self.field)
        return value

    def _run(self, bindings: Bindings) -> Any:
        """The JSON result (``_MISSING`` if undefined); evaluation errors are AWS's causes,
        an engine fault is raised as itself."""
        engine = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._local.engine = copy.copy(self._prototype)
        budget = engine.budget = Budget(bindings.on_event_loop)
        if budget.entropy is not None:
            bindings = bindings.with_entropy(budget.entropy)
        frame = _Frame(bindings)
        previous = getattr(Jsonata.CURRENT, "jsonata", None)
        Jsonata.CURRENT.jsonata = engine  # jsonata-python's functions call back through it
        try:
            with budget:
                result = engine.run(frame)
                return _UNSUPPORTED if _is_function(result) else _json_result(result)
        except Interrupted:  # stopped from outside: its time is up, or its execution ended
            if budget.remaining() < 0:
                raise self._over(time_limit()) from None
            raise
        except EngineFault as carried:
            raise carried.fault from carried.fault.__cause__
        except Overrun:
            raise
        except LimitExceeded as exc:
            raise self._over(exc) from None
        except FunctionError as exc:
            detail = exc.message
        except JException as exc:
            try:
                detail = _describe(exc)
            except LimitExceeded as limit:  # the message would quote a value too large
                raise self._over(limit) from None
        except MemoryError:  # an allocation too large for the machine, refused at once
            raise self._over(LimitExceeded(QUERY_EVALUATION_ERROR, _NO_MEMORY)) from None
        except Exception as exc:  # raised by jsonata-python's code on the expression's values
            detail = _python_error(exc)
        finally:
            Jsonata.CURRENT.jsonata = previous
        raise _failure(self.body, self.field, f"threw an error during evaluation. {detail}")

    def _over(self, limit: LimitExceeded) -> StatesError:
        """The error of an evaluation that went past one of this engine's limits."""
        if limit.name == QUERY_EVALUATION_ERROR:
            return _failure(self.body, self.field, limit.detail)
        cause = f"The JSONata expression '{self.body}' specified for the field '{self.field}' "
        return StatesError(limit.name, cause + limit.detail)


def compile_expression(text: str, field: str, expected: str | None = None) -> Evaluator:
    """Compile ``{% ... %}`` (the whole string) for the ASL field ``field`` (as AWS names it
    in causes, e.g. ``Output`` or ``Arguments/FunctionName``). With ``expected`` (one of
    :data:`RESULT_TYPES`) the result's type is checked too. Raises
    :class:`JsonataSyntaxError` for text that is not a JSONata 2.0.6 expression."""
    return _Expression(text, field, expected)


# --- templates -----------------------------------------------------------------------------


class _Constant:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, bindings: Bindings) -> Any:
        return self.value


def _filled(value: Mapping[str, Any] | list[Any], parts: Mapping[Any, Evaluator]) -> Evaluator:
    """A copy of an object or array with its expressions' results in place."""

    def evaluate(bindings: Bindings) -> Any:
        result: Any = dict(value) if isinstance(value, Mapping) else list(value)
        for key, part in parts.items():
            result[key] = part(bindings)
        return result

    return evaluate


def compile_jsonata_template(value: Any, field: str) -> Evaluator:
    """Compile a JSON value whose strings, at any depth, may be ``{% ... %}`` expressions.
    A nested expression's field is the path to it joined with ``/`` (``Arguments/Payload``;
    an array item adds its index). Values without expressions evaluate to themselves."""
    if is_expression(value):
        return compile_expression(value, field)
    if isinstance(value, Mapping):
        parts = {k: compile_jsonata_template(v, f"{field}/{k}") for k, v in value.items()}
        dynamic = {k: p for k, p in parts.items() if not isinstance(p, _Constant)}
        return _filled(value, dynamic) if dynamic else _Constant(value)
    if isinstance(value, list):
        items = [compile_jsonata_template(v, f"{field}/{i}") for i, v in enumerate(value)]
        found = {i: p for i, p in enumerate(items) if not isinstance(p, _Constant)}
        return _filled(value, found) if found else _Constant(value)
    return _Constant(value)


# --- result types --------------------------------------------------------------------------


def json_type(value: Any) -> str:
    """The JSON type name of a value: null, boolean, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _has_type(value: Any, expected: str) -> bool:
    if expected == "integer":
        return json_type(value) == "number" and float(value).is_integer()
    return json_type(value) == expected


def check_result_type(value: Any, expected: str, text: str, field: str) -> None:
    """Raise AWS's ``States.QueryEvaluationError`` unless ``value`` (the result of the
    expression ``text`` for ``field``) has the type ``expected`` (see :data:`RESULT_TYPES`)."""
    if _has_type(value, expected):
        return
    body = expression_body(text) if is_expression(text) else text
    what = (
        f"returned an unexpected result type. Expected '{expected}', "
        f"but was '{json_type(value)}' for value: {_dumps(value)}"
    )
    raise _failure(body, field, what)
