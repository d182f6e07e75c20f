"""asl.limits and its use by the JSONata evaluator: the bounded built-ins and regular
expressions give jsonata-python's own results, sizes are measured without walking a value
held many times over, and the budget's slice, watch and entropy work as documented."""

from __future__ import annotations

import contextvars
import json
from typing import Any

import pytest
from jsonata import Jsonata

from asl.bindings import Bindings, LoopBindings, SystemEntropy
from asl.jsonata import compile_expression
from asl.limits import (
    MAX_ITEMS,
    Interrupted,
    LimitExceeded,
    Overrun,
    Watch,
    check_value,
    watching,
)
from tests.timing import within

SAME_AS_JSONATA_PYTHON = [
    "$replace('abcabc', 'b', 'X')",
    "$replace('abcabc', 'b', '[$0]')",
    "$replace('a$b', '$', '$$')",
    "$replace('aaaa', 'a', 'b', 2)",
    "$replace('aaaa', 'a', 'b', 0)",
    "$replace('aaaa', 'aa', 'b')",
    "$replace('abc', 'b', '$1')",
    "$replace('abcabc', /(b)(c)/, '$2$1')",
    "$replace('abc', /(b)/, '$5')",
    "$replace('abc', /(b)/, '$12')",
    "$replace('abc', /b/, function($m){ $uppercase($m.match) })",
    "$replace('abab', /b/, 'x', 1)",
    "$distinct([1, true, 1.0, '1', [1], [true], {'a': 1, 'b': 2}, {'b': 2, 'a': 1}, null, null])",
    "$distinct([3, 1, 3, 2, 1])",
    "$distinct('x')",
    "$pad('ab', 5, '#')",
    "$pad('ab', -5)",
    "$join(['a', 'b', 'c'], ', ')",
    "$join(['a'])",
    "$string({'a': [1, 2.5, true, null]})",
    "$string([1, 2], true)",
    "$match('abcabc', /b(c)/)",
    "$contains('abc', /B/i)",
    "$split('a1b2c', /[0-9]/)",
    "$split('a1b2c', /[0-9]/, 1)",
    "'abc' ~> $replace(/b/, 'x')",
    "{'a': {'b': 1}} ~> |a|{'c': 2}|",
    "[1, 2, 3][$ in [2, 3]]",
    "[[1, 2], [1, 2]][0] = [1, 2]",
    "$count({'a': {'b': {'c': 1}}}.**)",
    "{'a': [1, [2, 3]]}.*",
    "'x' & {'a': 1}",
    "$sum([1..100])",
]


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _ours(expression: str) -> Any:
    return compile_expression("{% " + expression + " %}", "Output")(Bindings())


@pytest.mark.parametrize("expression", SAME_AS_JSONATA_PYTHON)
def test_bounded_steps_give_jsonata_pythons_results(expression: str) -> None:
    assert _json(_ours(expression)) == _json(Jsonata(expression).evaluate(None))


def _held_twice(levels: int) -> Any:
    value: Any = ["leaf"]
    for _ in range(levels):
        value = [value, {"again": value}]
    return value


def test_check_value_stops_early_on_a_value_held_many_times_over() -> None:
    with within(2), pytest.raises(LimitExceeded) as raised:
        check_value(_held_twice(60))  # 2**60 items written out
    assert raised.value.name == "States.DataLimitExceeded"
    check_value(_held_twice(10))


def test_check_value_counts_the_text_of_every_copy() -> None:
    text = "x" * 100_000
    check_value([text] * 40)
    with pytest.raises(LimitExceeded, match="characters of text"):
        check_value([text] * 50)
    with pytest.raises(LimitExceeded, match="items"):
        check_value([[0] * 1024] * (MAX_ITEMS // 1024))


LONG = "{% $sum([1..20000].($ * 2)) %}"


def test_on_the_event_loop_a_long_evaluation_overruns() -> None:
    long = compile_expression(LONG, "Output")
    short = compile_expression("{% $sum([1..100]) %}", "Output")
    with pytest.raises(Overrun):
        long(LoopBindings())
    assert short(LoopBindings()) == 5050
    assert long(Bindings()) == 20000 * 20001  # elsewhere it runs on
    assert type(LoopBindings().with_input(1)) is LoopBindings


def test_a_cancelled_watch_interrupts_the_evaluation() -> None:
    watch = Watch(SystemEntropy(1))
    watch.cancelled = True

    def evaluate() -> Any:
        with watching(watch):
            return compile_expression(LONG, "Output")(Bindings())

    with pytest.raises(Interrupted):
        contextvars.copy_context().run(evaluate)


def test_a_watched_evaluation_draws_from_the_watchs_entropy() -> None:
    expression = compile_expression("{% [$random(), $uuid()] %}", "Output")

    def evaluate(seed: int) -> Any:
        with watching(Watch(SystemEntropy(seed))):
            return expression(Bindings(entropy=SystemEntropy(99)))

    first, again, other = (contextvars.copy_context().run(evaluate, s) for s in (1, 1, 2))
    assert first == again != other
    drawn = SystemEntropy(1)
    assert first == [drawn.random(), drawn.uuid4()]
