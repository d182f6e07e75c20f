"""Short readable text for the parts of a workflow: Choice rules, Catchers, Retriers, Tasks.

Everything here is plain text (no markup): the DOT and Mermaid writers escape it for
their own syntax. Long text is cut with an ellipsis rather than left to widen a picture.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from asl import model as m
from asl.jsontext import json_text as compact_json

ELLIPSIS = "…"
#: Longest text of one Choice rule on an edge, before it is cut.
RULE_MAX = 60
#: Longest JSONata condition text, before it is cut.
JSONATA_MAX = 44

_COMPARISONS = {
    "Equals": "==",
    "GreaterThan": ">",
    "GreaterThanEquals": ">=",
    "LessThan": "<",
    "LessThanEquals": "<=",
}
_FAMILIES = ("String", "Numeric", "Timestamp", "Boolean")
_TYPE_TESTS = {
    "IsPresent": "present",
    "IsNull": "null",
    "IsNumeric": "numeric",
    "IsString": "a string",
    "IsBoolean": "a boolean",
    "IsTimestamp": "a timestamp",
}
_SPACES = re.compile(r"\s+")
#: The characters after which a long token breaks best: paths, ARNs, names.
_BREAK_AFTER = "./:-_,"


#: The control characters no picture may hold as they are (C0 and DEL).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: str) -> str:
    """Text with its control characters written as escapes (``A\\nB``), so names that
    differ only there look different, and nothing invisible reaches a picture."""
    return CONTROL.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{ord(m.group()):04x}"), text)


def shorten(text: str, limit: int) -> str:
    """The text on one line, cut to ``limit`` characters with an ellipsis."""
    flat = _SPACES.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    return flat[: max(limit - 1, 1)].rstrip() + ELLIPSIS


def wrap(text: str, width: int, max_lines: int) -> list[str]:
    """Word-wrap text into at most ``max_lines`` lines of about ``width`` characters."""
    lines: list[str] = []
    current = ""
    for word in _SPACES.sub(" ", text).strip().split(" "):
        while len(word) > width:  # a long token (a path, an ARN, a JSON blob) is split
            if current:
                lines.append(current)
                current = ""
            cut = _token_break(word, width)
            lines.append(word[:cut])
            word = word[cut:]
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = shorten(lines[-1] + " " + ELLIPSIS, width)
        if not lines[-1].endswith(ELLIPSIS):
            lines[-1] += ELLIPSIS
    return lines


def _token_break(word: str, width: int) -> int:
    """Where to split a token longer than ``width``: after its last separator within the
    width (``$.order.`` | ``remindersSent``), when that keeps at least half the width on
    the line; else at the width, mid-word."""
    cut = max(word.rfind(mark, 0, width) for mark in _BREAK_AFTER) + 1
    return cut if cut > width // 2 else width


def json_text(value: Any) -> str:
    """A JSON value as compact text: strings in quotes without JSON's backslash escapes
    (a pattern reads as written), integral floats without ``.0``."""
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return compact_json(value)


# --- Choice rules ----------------------------------------------------------------------


def jsonata_text(expression: str | bool, limit: int = JSONATA_MAX) -> str:
    """A JSONata ``{% ... %}`` text without its delimiters, shortened."""
    if isinstance(expression, bool):
        return json_text(expression)
    text = expression.strip()
    if text.startswith("{%") and text.endswith("%}"):
        text = text[2:-2]
    return shorten(text, limit)


def condition_text(condition: m.Condition) -> str:
    """A Choice condition as a short expression: ``$.amount > 100``, ``a and (b or c)``."""
    if isinstance(condition, m.DataTest):
        return _data_test(condition)
    if isinstance(condition, m.JsonataCondition):
        return jsonata_text(condition.condition)
    if isinstance(condition, m.Not):
        return _negation(condition.rule)
    joiner = " and " if isinstance(condition, m.And) else " or "
    return joiner.join(_operand(rule) for rule in condition.rules)


def rule_text(rule: m.ChoiceRule, limit: int = RULE_MAX) -> str:
    """The text of a top-level Choice rule, cut to ``limit`` characters."""
    return shorten(condition_text(rule.condition), limit)


def _operand(rule: m.Condition) -> str:
    text = condition_text(rule)
    return f"({text})" if isinstance(rule, m.And | m.Or) else text


def _negation(rule: m.Condition) -> str:
    if isinstance(rule, m.DataTest):
        family, op = _split_operator(rule.operator)
        if op == "Equals" and family is not None:
            return _comparison(rule, family, "!=")
        if rule.operator in _TYPE_TESTS and isinstance(rule.value, bool):
            return _type_test(rule.variable, rule.operator, not rule.value)
    return f"not ({condition_text(rule)})"


def _split_operator(operator: str) -> tuple[str | None, str]:
    base = operator.removesuffix("Path")
    for family in _FAMILIES:
        if base.startswith(family):
            return family, base[len(family) :]
    return None, base


def _data_test(test: m.DataTest) -> str:
    if test.operator in _TYPE_TESTS:
        return _type_test(test.variable, test.operator, test.value is True)
    if test.operator == "StringMatches":
        return f"{test.variable} matches {json_text(test.value)}"
    family, op = _split_operator(test.operator)
    symbol = _COMPARISONS.get(op)
    if family is None or symbol is None:
        return f"{test.variable} {test.operator} {json_text(test.value)}"
    return _comparison(test, family, symbol)


def _comparison(test: m.DataTest, family: str, symbol: str) -> str:
    value = str(test.value) if test.operator.endswith("Path") else json_text(test.value)
    return f"{test.variable} {symbol} {value}"


def _type_test(variable: str, operator: str, holds: bool) -> str:
    word = _TYPE_TESTS[operator]
    if operator == "IsPresent":
        return f"{variable} is {'present' if holds else 'absent'}"
    return f"{variable} is {word}" if holds else f"{variable} is not {word}"


# --- Catch and Retry -------------------------------------------------------------------


def errors_text(errors: Iterable[str], shown: int = 2, width: int = 28) -> str:
    """Error names (each cut to ``width``) joined, the tail counted: ``A, B +2``."""
    names = [shorten(name, width) for name in errors]
    head = ", ".join(names[:shown])
    rest = len(names) - shown
    return f"{head} +{rest}" if rest > 0 else head


def catch_text(catcher: m.Catcher) -> str:
    """The label of a Catch edge: the error names it catches."""
    return "catch " + errors_text(catcher.error_equals)


def retry_text(retrier: m.Retrier) -> str:
    """One Retrier in a line: attempts, first interval, backoff, cap, jitter, errors."""
    if retrier.max_attempts == 0:
        timing = "no retry"
    else:
        timing = f"{retrier.max_attempts}× {seconds_text(retrier.interval_seconds)}"
        if retrier.backoff_rate != 1.0:
            timing += f" ×{json_text(retrier.backoff_rate)}"
        if retrier.max_delay_seconds is not None:
            timing += f" ≤{seconds_text(retrier.max_delay_seconds)}"
        if retrier.jitter_strategy == "FULL":
            timing += " jitter"
    return f"↻ retry {timing} · {errors_text(retrier.error_equals, 1, 24)}"


def seconds_text(seconds: float) -> str:
    """Whole seconds as people say them: ``45s``, ``2m``, ``1h30m``, ``2d``."""
    value = int(seconds)
    if value != seconds or value < 60:
        return f"{json_text(seconds)}s"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value >= size:
            whole, rest = divmod(value, size)
            return f"{whole}{unit}{seconds_text(rest) if rest else ''}"
    return f"{value}s"  # pragma: no cover - every value >= 60 matched a unit


def duration_text(seconds: float) -> str:
    """A measured duration: ``0 ms``, ``850 ms``, ``1.2 s``, ``3 min 5 s``, ``2 h 4 min``."""
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


# --- What a state does -----------------------------------------------------------------


def caption(state: m.State) -> str:
    """The second line of a state's box: its type and what it does, briefly."""
    if isinstance(state, m.Task):
        return task_text(state)
    if isinstance(state, m.Wait):
        return wait_text(state)
    if isinstance(state, m.Map):
        return map_text(state)
    if isinstance(state, m.Parallel):
        count = len(state.branches)
        return f"Parallel · {count} branch{'es' if count != 1 else ''}"
    if isinstance(state, m.Fail):
        what = state.error if state.error is not None else state.error_path
        return f"Fail · {shorten(what, 32)}" if what is not None else "Fail"
    return state.type


def task_text(task: m.Task) -> str:
    """What a Task calls: ``lambda:invoke · import-record``, ``sqs:sendMessage · callback``."""
    resource = task.resource
    if not isinstance(resource, str):
        return "Task"
    arguments = task.arguments if task.arguments is not m.MISSING else task.parameters
    if resource.startswith("arn:aws:states:::"):
        service = resource.removeprefix("arn:aws:states:::")
        service, _, pattern = service.partition(".")
        extra = {"waitForTaskToken": "callback", "sync": "sync", "sync:2": "sync"}.get(pattern)
        function = _function_name(arguments) if service == "lambda:invoke" else None
        if service == "http:invoke" and isinstance(arguments, dict):
            function = arguments.get("Method") if isinstance(arguments.get("Method"), str) else None
        parts = [shorten(service, 34), *(p for p in (function, extra) if p)]
        return " · ".join(parts)
    match = re.match(r"arn:[^:]+:(lambda|states):[^:]*:[^:]*:(function|activity):([^:]+)", resource)
    if match:
        kind = "lambda" if match.group(2) == "function" else "activity"
        return f"{kind} · {shorten(match.group(3), 30)}"
    return shorten(resource, 40)


def _function_name(arguments: Any) -> str | None:
    if not isinstance(arguments, dict):
        return None
    name = arguments.get("FunctionName")
    if not isinstance(name, str) or name.startswith("{%"):
        return None
    match = re.search(r"function:([^:]+)", name)
    return shorten(match.group(1) if match else name, 30)


def wait_text(wait: m.Wait) -> str:
    """How long a Wait waits: ``Wait 5s``, ``Wait until $.when``."""
    if isinstance(wait.seconds, int | float) and not isinstance(wait.seconds, bool):
        return f"Wait {seconds_text(wait.seconds)}"
    if isinstance(wait.seconds, str):
        return f"Wait {jsonata_text(wait.seconds, 28)}s"
    if wait.seconds_path is not None:
        return f"Wait {shorten(wait.seconds_path, 28)}s"
    if wait.timestamp is not None:
        until = jsonata_text(wait.timestamp, 28) if wait.timestamp.startswith("{%") else None
        return f"Wait until {until or shorten(wait.timestamp, 28)}"
    if wait.timestamp_path is not None:
        return f"Wait until {shorten(wait.timestamp_path, 28)}"
    return "Wait"


def map_text(state: m.Map) -> str:
    """What a Map iterates and how many at once."""
    if state.items is not m.MISSING:
        source = jsonata_text(state.items, 24) if isinstance(state.items, str) else "items"
    elif state.item_reader is not None:
        source = shorten(state.item_reader.resource.removeprefix("arn:aws:states:::"), 24)
    else:
        source = shorten(state.items_path, 24)
    mode = state.item_processor.processor_config.mode
    text = f"Map over {source}"
    if mode == "DISTRIBUTED":
        text += " · distributed"
    limit = state.max_concurrency
    if isinstance(limit, int) and limit > 0:
        text += f" · {limit} at a time"
    elif state.max_concurrency_path is not None or isinstance(limit, str):
        text += " · limited"
    return text
