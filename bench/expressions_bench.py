"""Benchmarks of compiled ASL expressions, one part per expression family.

Usage: python bench/expressions_bench.py [PART ...]

Each part is a function in :data:`PARTS` that prints evaluations per second with fixed
iteration counts (a few seconds in all). Parts so far: ``paths`` (a plain reference path
on the fast path against jsonpath-ng on the same path and input; target >= 10x) and
``templates`` (a 10-field Parameters template with paths and one intrinsic; target
> 100,000 evaluations/s), ``choice`` (a Choice state of 10 rules) and ``jsonata``
(JSONata expressions and an Output template).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jsonpath_ng.ext import parse as ng_parse

from asl.bindings import Bindings
from asl.choice import compile_choices, parse_choices
from asl.jsonata import compile_expression, compile_jsonata_template
from asl.paths import compile_path
from asl.templates import compile_template

ORDER: dict[str, Any] = {
    "order": {
        "id": "o-123",
        "customer": {"first name": "Ada", "tier": "gold", "address": {"city": "Paris"}},
        "items": [{"sku": f"SKU-{i}", "price": i * 1.5, "qty": i % 3} for i in range(20)],
        "total": 142.5,
    },
    "flags": {"express": True, "gift": False},
}


def _rate(label: str, count: int, run: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(count):
        run()
    rate = count / (time.perf_counter() - start)
    print(f"  {label:<44} {rate:>14,.0f} evaluations/s")
    return rate


def bench_paths() -> None:
    """A plain reference path: compiled fast path vs jsonpath-ng on the same path."""
    for text in ("$.order.items[3].sku", "$['order']['customer']['first name']"):
        _bench_path(text)


def _bench_path(text: str) -> None:
    print(f"path {text}")
    bindings = Bindings(ORDER)
    path = compile_path(text)
    assert path.definite
    expression = ng_parse(text)
    assert [m.value for m in expression.find(ORDER)] == [path.get(bindings)]
    ours = _rate("asl.paths compiled .get", 200_000, lambda: path.get(bindings))
    theirs = _rate("jsonpath-ng parsed once, .find", 20_000, lambda: expression.find(ORDER))
    _rate("jsonpath-ng parse(p).find(data)", 500, lambda: ng_parse(text).find(ORDER))
    print(f"  ratio vs parsed-once jsonpath-ng: {ours / theirs:.1f}x (target >= 10x)")


def bench_templates() -> None:
    """A 10-field Parameters template: 8 paths, one literal, one intrinsic call."""
    template = compile_template(
        {
            "orderId.$": "$.order.id",
            "firstName.$": "$.order.customer['first name']",
            "tier.$": "$.order.customer.tier",
            "city.$": "$.order.customer.address.city",
            "firstSku.$": "$.order.items[0].sku",
            "lastPrice.$": "$.order.items[-1].price",
            "total.$": "$.order.total",
            "express.$": "$.flags.express",
            "source": "bench",
            "label.$": "States.Format('order {} for {}', $.order.id, $.order.customer.tier)",
        },
        "Parameters",
    )
    bindings = Bindings(ORDER)
    assert template(bindings)["label"] == "order o-123 for gold"
    print("template: 10-field Parameters (8 paths, 1 literal, 1 intrinsic)")
    rate = _rate("compiled template", 50_000, lambda: template(bindings))
    print(f"  target > 100,000 evaluations/s: {'met' if rate > 100_000 else 'NOT met'}")


def bench_jsonata() -> None:
    """JSONata: a $states path, an aggregate with a variable, a 5-field Output template."""
    bindings = Bindings(ORDER, variables={"discount": 0.1})
    print("jsonata")
    path = compile_expression("{% $states.input.order.customer.tier %}", "Output")
    assert path(bindings) == "gold"
    _rate("{% $states.input.order.customer.tier %}", 20_000, lambda: path(bindings))
    total = compile_expression(
        "{% $sum($states.input.order.items.(price * qty)) * (1 - $discount) %}", "Output"
    )
    _rate("{% $sum(items.(price * qty)) * (1 - $discount) %}", 2_000, lambda: total(bindings))
    output = compile_jsonata_template(
        {
            "id": "{% $states.input.order.id %}",
            "tier": "{% $uppercase($states.input.order.customer.tier) %}",
            "count": "{% $count($states.input.order.items) %}",
            "express": "{% $states.input.flags.express %}",
            "source": "bench",
        },
        "Output",
    )
    assert output(bindings)["tier"] == "GOLD"
    _rate("5-field Output template (4 expressions)", 5_000, lambda: output(bindings))


def bench_choice() -> None:
    """A Choice state of 10 rules (numbers, strings, booleans, timestamps, And/Not), the
    last one matching, so every rule is evaluated."""
    rules: list[dict[str, Any]] = [
        {"Variable": "$.order.total", "NumericGreaterThan": 1000, "Next": "Big"},
        {"Variable": "$.order.customer.tier", "StringEquals": "platinum", "Next": "Vip"},
        {"Variable": "$.flags.gift", "BooleanEquals": True, "Next": "Gift"},
        {"Variable": "$.order.id", "StringMatches": "x-*", "Next": "Other"},
        {"Variable": "$.order.total", "NumericLessThan": 10, "Next": "Small"},
        {"Variable": "$.order.placed", "IsPresent": True, "Next": "Placed"},
        {"Variable": "$.order.customer.address.city", "StringEquals": "Lisbon", "Next": "Pt"},
        {
            "And": [
                {"Variable": "$.order.total", "NumericGreaterThan": 100},
                {"Not": {"Variable": "$.flags.express", "BooleanEquals": True}},
            ],
            "Next": "Slow",
        },
        {
            "Variable": "$.order.items[1].qty",
            "NumericEqualsPath": "$.order.items[3].qty",
            "Next": "Same",
        },
        {"Variable": "$.order.customer.tier", "StringEquals": "gold", "Next": "Gold"},
    ]
    choose = compile_choices(parse_choices(rules), "Default")
    bindings = Bindings(ORDER)
    assert choose(bindings) == (9, "Gold")
    print("choice: 10 rules, the last one matching")
    _rate("compiled Choice", 50_000, lambda: choose(bindings))


PARTS: list[Callable[[], None]] = [bench_paths, bench_templates, bench_choice, bench_jsonata]


def main(names: list[str]) -> None:
    """Run the parts named (``paths``, ``templates``...), or all of them."""
    for part in PARTS:
        if not names or part.__name__.removeprefix("bench_") in names:
            part()


if __name__ == "__main__":
    main(sys.argv[1:])
