"""Hostile expressions through the public entry points: JSONata and intrinsic functions
whose evaluation would never end, backtrack catastrophically, or grow without bound end
in a terminal event, with ``States.QueryEvaluationError`` or ``States.DataLimitExceeded``
naming this engine's limit (AWS documents none: see :mod:`asl.limits`), while the other
executions on the engine go on.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import time
from typing import Any

import pytest

from asl import limits
from runtime.testing import local_engine, run
from tests.invariants import assert_ended
from tests.timing import within

ENDLESS = "($f := function($n){ $f($n + 1) }; $f(0))"
BACKTRACKING = "$match($states.input.s, /(a|a)+$/)"
BACKTRACKED = {"s": "a" * 40 + "!"}
#: Builds a value that holds the one before it twice, 60 times over.
DOUBLING = "($f := function($o, $n){ $n = 0 ? $o : $f(%s, $n - 1) }; $f(%s, 60))"
QUICK = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def _jsonata(expression: str, **fields: Any) -> dict[str, Any]:
    state = {"Type": "Pass", "Output": "{% " + expression + " %}", "End": True}
    return {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": state}, **fields}


def _evaluating() -> int:
    """Threads now running jsonata-python's evaluator."""
    frames = sys._current_frames()
    count = 0
    for thread in threading.enumerate():
        frame = frames.get(thread.ident or -1)
        while frame is not None and thread is not threading.current_thread():
            if "/jsonata/" in frame.f_code.co_filename:
                count += 1
                break
            frame = frame.f_back
    return count


async def _no_evaluation_left(seconds: float = 5) -> None:
    until = time.monotonic() + seconds
    while _evaluating() and time.monotonic() < until:
        await asyncio.sleep(0.05)
    assert _evaluating() == 0


@pytest.fixture
def one_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("asl.limits.EVALUATION_SECONDS", 1.0)


@pytest.mark.usefixtures("one_second")
@pytest.mark.parametrize(
    ("expression", "input_value"),
    [(ENDLESS, {}), (BACKTRACKING, BACKTRACKED)],
    ids=["endless recursion", "catastrophic backtracking"],
)
def test_an_endless_evaluation_ends_at_the_time_limit(
    expression: str, input_value: dict[str, Any]
) -> None:
    with within(5):
        execution = run(_jsonata(expression), input_value)
    assert "EvaluationFailed" in assert_ended(execution)
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert execution.cause == (
        "An error occurred while executing the state 'P' (entered at the event id #2). "
        f"The JSONata expression '{expression}' specified for the field 'Output' ran past "
        "this engine's limit of 1 second for one evaluation."
    )


@pytest.mark.parametrize(
    ("expression", "input_value"),
    [(ENDLESS, {}), (BACKTRACKING, BACKTRACKED)],
    ids=["endless recursion", "catastrophic backtracking"],
)
async def test_a_long_evaluation_lets_other_executions_run(
    expression: str, input_value: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("asl.limits.EVALUATION_SECONDS", 3.0)
    engine = local_engine()
    hog = await engine.create_state_machine(_jsonata(expression), name="hog").start(input_value)
    for _ in range(20):
        quick = await engine.create_state_machine(QUICK, name="quick").start({})
        await quick.wait()
        assert quick.status == "SUCCEEDED"
    assert hog.status == "RUNNING"
    # A stall would last the evaluation's 3 seconds; a loaded machine pauses far less.
    # Measured over the evaluation's first 2 seconds: what follows (the failure written,
    # a deep recursion's frames freed) is not the evaluation holding the loop.
    assert await _longest_pause(hog, 2.0) < 1.5
    await hog.wait()
    assert (hog.status, hog.error) == ("FAILED", "States.QueryEvaluationError")
    assert_ended(hog)


@pytest.mark.usefixtures("one_second")
async def test_a_single_long_step_is_interrupted_past_the_time_limit() -> None:
    # jsonata-python's $spread of many objects runs for long in one step, between two of
    # the evaluation's own checks.
    expression = '$count($spread([1..100000].{"a": $}))'
    with within(5):
        execution = await (
            await local_engine().create_state_machine(_jsonata(expression)).start({})
        ).wait()
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert execution.cause is not None and execution.cause.endswith(
        "ran past this engine's limit of 1 second for one evaluation."
    )
    await _no_evaluation_left()


async def test_many_short_evaluations_of_one_state_share_the_event_loops_slice() -> None:
    # Each ItemSelector is short (about 3,600 steps, under a slice's 10,000); the 400
    # together would hold the loop for seconds. (2000 of them took some 10 s of CPU: under
    # a load of 8 on 2 cores, past the 60 s the test waits.)
    selector = "{% $sum([1..400].($ * $states.context.Map.Item.Index)) %}"
    state = {
        "Type": "Map",
        "Items": "{% [1..400] %}",
        "ItemSelector": selector,
        "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}},
        "Output": "{% $count($states.result) %}",
        "End": True,
    }
    definition = {"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": state}}
    mapping = await local_engine().create_state_machine(definition).start({})
    assert await _longest_pause(mapping) < 0.5
    assert (mapping.status, mapping.output) == ("SUCCEEDED", 400)


async def _longest_pause(execution: Any, seconds: float = 60.0) -> float:
    """The longest the event loop went without serving others while ``execution`` ran, over
    at most ``seconds``."""
    longest = 0.0
    until = time.monotonic() + seconds
    while execution.status == "RUNNING" and time.monotonic() < until:
        before = time.monotonic()
        await asyncio.sleep(0.01)
        longest = max(longest, time.monotonic() - before)
    return longest


async def test_the_execution_timeout_stops_a_long_evaluation() -> None:
    engine = local_engine()
    machine = engine.create_state_machine(_jsonata(ENDLESS, TimeoutSeconds=1))
    with within(3):  # the evaluation alone may run 10 seconds
        execution = await (await machine.start({})).wait()
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert_ended(execution)
    await _no_evaluation_left()


async def test_stopping_an_execution_stops_its_evaluation() -> None:
    engine = local_engine()
    execution = await engine.create_state_machine(_jsonata(ENDLESS)).start({})
    await asyncio.sleep(0.3)
    assert execution.status == "RUNNING"
    execution.stop(error="Stopped", cause="by the test")
    await execution.wait()
    assert (execution.status, execution.error) == ("ABORTED", "Stopped")
    assert_ended(execution)
    await _no_evaluation_left()


def test_an_evaluation_that_needs_too_much_memory_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("asl.limits.MEMORY_BYTES", 64 * 2**20)
    expression = "[1..10000] ~> $map(function($v){[1..10000]})"
    execution = run(_jsonata(expression))
    assert_ended(execution)
    assert (execution.status, execution.error) == ("FAILED", "States.QueryEvaluationError")
    assert execution.cause is not None
    assert execution.cause.endswith(
        "needed more than this engine's limit of 64 MiB of memory for one evaluation."
    )


TOO_LONG = r"needed a string of \d+ characters, over this engine's limit of 4194304\.$"
TOO_MANY = (
    r"needed a value of more than 1048576 items \(nested ones counted\), over this "
    r"engine's limit\.$"
)
TOO_MUCH_TEXT = r"needed a value holding more than 4194304 characters of text"


@pytest.mark.parametrize(
    ("expression", "cause"),
    [
        ("$replace($states.input.s, 'a', $states.input.s)", TOO_LONG),
        ("$replace($states.input.s, /a/, $states.input.s)", TOO_LONG),
        ("$pad('', 1e12)", TOO_LONG),
        ("$join([1..100].($states.input.s))", TOO_LONG),
        ("($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $f('a', 40))", TOO_LONG),
        ("$count([1..10000000])", TOO_MANY),
        ("$string(" + DOUBLING % ("[$o, $o]", "[1]") + ")", TOO_MANY),
        (DOUBLING % ("{'a': $o, 'b': $o}", "{'x': 1}"), TOO_MANY),
        ("$count((" + DOUBLING % ("{'a': $o, 'b': $o}", "{'x': 1}") + ").**)", TOO_MANY),
        (DOUBLING % ("[$o, $o]", "[1]") + " = " + DOUBLING % ("[$o, $o]", "[1]"), TOO_MANY),
        ("$string($map([1..100], function($v){ $states.input.s }))", TOO_MUCH_TEXT),
    ],
    ids=[
        "$replace of a text",
        "$replace of a pattern",
        "$pad",
        "$join",
        "doubling a string",
        "range",
        "$string of a value held many times",
        "an output held many times",
        "descendants of a value held many times",
        "comparing values held many times",
        "$string of a long text held many times",
    ],
)
def test_a_value_too_large_fails_with_data_limit_exceeded(expression: str, cause: str) -> None:
    with within(10):
        execution = run(_jsonata(expression), {"s": "a" * 200_000})
    own = f"The JSONata expression '{expression}' specified for the field 'Output' "
    _too_large(execution, own, cause)


def _too_large(execution: Any, own: str, cause: str) -> None:
    """The execution failed with States.DataLimitExceeded: the state's prefix, ``own``
    (the expression's part of the cause), then text matching ``cause``."""
    assert_ended(execution)
    assert (execution.status, execution.error) == ("FAILED", "States.DataLimitExceeded")
    prefix = "An error occurred while executing the state 'P' (entered at the event id #2). "
    assert execution.cause is not None and execution.cause.startswith(prefix + own)
    assert re.search(cause, execution.cause[len(prefix + own) :])


def test_a_slow_evaluation_repeats_with_its_seed() -> None:
    # Past the event loop's slice: finished on a worker thread, drawing from an entropy
    # seeded on the loop.
    expression = "[$random(), $sum([1..30000].($ * 2)), $uuid(), $random()]"
    first, second = (run(_jsonata(expression), {}, seed=7) for _ in range(2))
    assert first.status == "SUCCEEDED"
    assert first.output == second.output
    assert first.output[1] == 30000 * 30001
    assert first.history_json() == second.history_json()


def test_a_seeded_run_repeats_however_loaded_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    # A loaded machine (or a long garbage collection) can stall the loop past a slice's
    # time: a seeded run's evaluations leave the loop by their steps alone, so the run
    # draws the same random values and records the same history whatever the load.
    item = {"Type": "Pass", "Output": "{% {'v': $states.input * 2, 'u': $uuid()} %}"}
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "Items": "{% [1, 2, 3, 4] %}",
                "ItemProcessor": {"StartAt": "P", "States": {"P": {**item, "End": True}}},
                "Output": "{% {'r': $states.result, 'u': $uuid(), 'x': $random()} %}",
                "End": True,
            }
        },
    }
    quiet = run(definition, {}, seed=7)
    monkeypatch.setattr(limits, "INLINE_SECONDS", 0.0)  # every timed slice is already over
    loaded = run(definition, {}, seed=7)
    assert quiet.status == "SUCCEEDED"
    assert loaded.output == quiet.output
    assert loaded.history_json() == quiet.history_json()
    unseeded = run(definition, {})  # its slices still end by the clock (here at once)
    assert unseeded.status == "SUCCEEDED"


@pytest.mark.parametrize(
    ("call", "cause"),
    [
        ("States.Format('" + "{}" * 30 + "', " + ", ".join(["$.s"] * 30) + ")", TOO_LONG),
        (
            "States.ArrayLength(States.Array(" + ", ".join(["$.s"] * 30) + "))",
            TOO_MUCH_TEXT,
        ),
    ],
    ids=["States.Format", "States.Array"],
)
def test_an_intrinsic_result_too_large_fails_with_data_limit_exceeded(
    call: str, cause: str
) -> None:
    state = {"Type": "Pass", "Parameters": {"v.$": call}, "End": True}
    execution = run({"StartAt": "P", "States": {"P": state}}, {"s": "a" * 200_000})
    own = f"There was an error while evaluating the intrinsic function: {call}. The function "
    _too_large(execution, own, cause)
