"""One state run as AWS's TestState runs it: through the engine's own state handler, once.

The state's handler (``runtime.states.STEPS``) runs on a copy of the state without Retry
and Catch, so its one attempt ends in an output or an error; what Retry and Catch would
then do is decided by the engine's pure functions (``runtime.retry``) and reported, not
done: a retried error is ``RETRIABLE`` with the backoff, a caught one ``CAUGHT_ERROR``
with the Catcher's output and Next (recorded against AWS: localstack
``test_state/test_state_configuration`` and ``test_test_state_scenarios`` snapshots).

A mocked Map or Parallel runs no iteration or branch: the mock is its result, as on AWS,
and the state's own fields (ItemsPath, tolerated failures, ResultSelector, ...) apply.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from asl import model as m
from asl.bindings import Bindings
from asl.dataflow import compile_io
from asl.errors import RUNTIME, TIMEOUT, StatesError, error_matches
from asl.jsontext import json_text
from integrations.base import Invoker, TaskRequest
from integrations.http import EXCHANGES, HttpExchange, HttpRequest
from runtime.clock import DeadlineExpired
from runtime.evaluation import evaluate, settle
from runtime.frame import Frame
from runtime.retry import find_catcher, retry_delay
from runtime.states import STEPS

__all__ = [
    "HttpTrace",
    "MockedOutcome",
    "Probe",
    "Recorder",
    "StateConfiguration",
    "Trial",
    "http_inspection",
    "probe",
]

#: TestState's limit on one call (botocore's TestState documentation).
TEST_STATE_SECONDS = 300
EXCEEDED = "States.ExceedToleratedFailureThreshold"
EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"
#: TRACE's HTTP request: without the connection's secrets, or with them (revealSecrets).
HttpTrace = Literal["plain", "revealed"]


@dataclass(frozen=True, slots=True)
class StateConfiguration:
    """TestState's ``stateConfiguration``, parsed. (``errorCausedByState`` is only
    checked: the mocked error is the state's whichever inner state it names, as recorded
    in localstack test_state_configuration, test_map_state_error_caused_by_state.)"""

    retrier_retry_count: int = 0
    map_iteration_failure_count: int | None = None
    map_item_reader_data: Any = None


@dataclass(frozen=True, slots=True)
class MockedOutcome:
    """A mocked Map's or Parallel's outcome: its result, or the error it fails with."""

    result: Any = None
    error: StatesError | None = None


@dataclass(slots=True)
class Probe:
    """What one run of a state gave: the TestState answer's members as Python values."""

    status: str = "SUCCEEDED"
    output: Any = None
    has_output: bool = False
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    #: Inspection data gathered on the way (DEBUG and TRACE show it).
    inspection: dict[str, Any] = field(default_factory=dict)


class Recorder:
    """An Invoker in front of another that keeps the Task's request and its raw result
    (``afterParameters``/``afterArguments`` and ``result`` are what the Task really sent
    and got, even when an intrinsic made them up)."""

    def __init__(self, inner: Invoker) -> None:
        self._inner = inner
        self.parameters: Any = None
        self.result: Any = None
        self.called = False
        self.answered = False

    async def invoke(self, request: TaskRequest) -> Any:
        """Invoke the inner Invoker, keeping what went in and came out."""
        self.called = True
        self.parameters = request.parameters
        self.result = await self._inner.invoke(request)
        self.answered = True
        return self.result


@dataclass(frozen=True, slots=True)
class Trial:
    """One state to run once on ``value``, and what it runs with (``mocked``: a Map's
    or Parallel's mocked outcome)."""

    state: m.State
    value: Any
    frame: Frame
    recorder: Recorder
    mocked: MockedOutcome | None
    configuration: StateConfiguration


async def probe(trial: Trial, http: HttpTrace | None = None) -> Probe:
    """Run the trial's state once and report it as TestState does; with ``http``, an HTTP
    Task's request and response join the inspection data."""
    exchanges: list[HttpExchange] | None = None if http is None else []
    EXCHANGES.set(exchanges)  # this strand's own context: no other call sees it
    answer = await _probe(trial)
    if exchanges:
        request, response = http_inspection(exchanges[-1], http == "revealed")
        answer.inspection["request"], answer.inspection["response"] = request, response
    return answer


async def _probe(trial: Trial) -> Probe:
    state, value, frame = trial.state, trial.value, trial.frame
    answer = Probe()
    answer.inspection["input"] = value
    entered = frame.record_state(f"{state.type}StateEntered", state.name, value)
    frame.entered_event = entered
    # A Wait is held to no limit: it does no work, and on the virtual clock it takes no
    # real time (no recording says how AWS's TestState treats a long Wait: our choice).
    limit = None if isinstance(state, m.Wait) else TEST_STATE_SECONDS
    try:
        async with frame.run.host.clock.deadline(limit):
            output, next_state, assigned = await _attempt(trial, entered, answer)
    except DeadlineExpired:
        _failed(answer, StatesError(TIMEOUT, ""))
        return answer
    except StatesError as failure:
        await _handle(trial, failure, answer)
        return answer
    answer.output, answer.has_output, answer.next_state = output, True, next_state
    if assigned:
        frame.assign(assigned)
    return answer


async def _attempt(
    trial: Trial, entered: int, answer: Probe
) -> tuple[Any, str | None, dict[str, Any] | None]:
    state, value, frame = trial.state, trial.value, trial.frame
    try:
        if isinstance(state, m.Map | m.Parallel):
            return await _mocked_container(state, trial, entered, answer)
        bare = (
            dataclasses.replace(state, retry=(), catch=()) if isinstance(state, m.Task) else state
        )
        return await STEPS[state.type][2](bare, value, frame, entered)
    finally:
        _inspect(state, value, frame, trial.recorder, answer)


async def _mocked_container(
    state: m.Map | m.Parallel, trial: Trial, entered: int, answer: Probe
) -> tuple[Any, str | None, dict[str, Any] | None]:
    value, frame, mocked = trial.value, trial.frame, trial.mocked
    assert mocked is not None  # a Map or Parallel without a mock is refused with the request
    flow = state.flow
    b = frame.bindings(state)
    if isinstance(state, m.Map):
        await _map_limits(state, trial, entered, b, answer)
    if mocked.error is not None:
        raise mocked.error
    frame.result_size = math.inf
    if isinstance(state, m.Parallel):  # a Map's recorded inspection data holds no result
        answer.inspection["result"] = mocked.result
    output, assigned = await evaluate(state, frame, entered, flow.finish, value, mocked.result, b)
    return output, state.next, assigned


async def _map_limits(state: m.Map, trial: Trial, entered: int, b: Bindings, answer: Probe) -> None:
    """A mocked Map's MaxConcurrency and tolerated failures (in the inspection data, as
    recorded), and its failure when ``mapIterationFailureCount`` exceeds them."""
    value, frame, configuration = trial.value, trial.frame, trial.configuration
    flow = state.flow
    if state.item_reader is None:
        effective, items = await evaluate(state, frame, entered, flow.items, value, b)
        count = len(items)
    else:
        effective = value
        data = configuration.map_item_reader_data
        count = len(data) if isinstance(data, list) else 0
    answer.inspection["maxConcurrency"] = await evaluate(
        state, frame, entered, flow.max_concurrency, effective, b
    )
    fields = flow.map_fields
    if fields is None:
        return
    reading = b.with_input(effective)
    tolerated = await evaluate(state, frame, entered, fields.tolerated_count, reading)
    percentage = await evaluate(state, frame, entered, fields.tolerated_percentage, reading)
    if tolerated is not None:
        answer.inspection["toleratedFailureCount"] = tolerated
    if percentage is not None:
        answer.inspection["toleratedFailurePercentage"] = float(percentage)
    failures = configuration.map_iteration_failure_count
    if not failures:
        return
    # Without a tolerance a mocked Map ignores the failure count (recorded: the
    # BASE_MAP_STATE case of test_map_state_failure_count succeeds with 2 failures).
    over_count = tolerated is not None and failures > tolerated
    over_share = percentage is not None and count and failures * 100 / count > percentage
    if over_count or over_share:
        raise StatesError(EXCEEDED, EXCEEDED_CAUSE)


async def _handle(trial: Trial, failure: StatesError, answer: Probe) -> None:
    """What Retry, then Catch, would do with the error (never done: reported)."""
    state, value, frame, configuration = trial.state, trial.value, trial.frame, trial.configuration
    retriers: tuple[m.Retrier, ...] = getattr(state, "retry", ())
    catchers: tuple[m.Catcher, ...] = getattr(state, "catch", ())
    details: dict[str, Any] = {}
    error = failure.error
    retry_index = _retrier_index(retriers, error)
    if retry_index is not None:
        details["retryIndex"] = retry_index
        attempts = [configuration.retrier_retry_count] * len(retriers)
        delay = retry_delay(retriers, attempts, error, frame.run.host.entropy)
        if delay is not None:
            details["retryBackoffIntervalSeconds"] = round(delay)
            answer.inspection["errorDetails"] = details
            _failed(answer, failure, "RETRIABLE")
            return
    index = find_catcher(catchers, error)
    if index is None:
        if details:
            answer.inspection["errorDetails"] = details
        _failed(answer, failure)
        return
    details["catchIndex"] = index
    answer.inspection["errorDetails"] = details
    b = frame.bindings(state, configuration.retrier_retry_count)
    error_output = {"Error": error, "Cause": failure.cause}
    output, assigned = await settle(frame, state.flow.catch, index, value, error_output, b)
    _failed(answer, failure, "CAUGHT_ERROR")
    answer.output, answer.has_output, answer.next_state = output, True, catchers[index].next
    if assigned:
        frame.assign(assigned)


def _retrier_index(retriers: tuple[m.Retrier, ...], error: str) -> int | None:
    if error == RUNTIME:
        return None
    for index, retrier in enumerate(retriers):
        if error_matches(retrier.error_equals, error):
            return index
    return None


def _failed(answer: Probe, failure: StatesError, status: str = "FAILED") -> None:
    answer.status, answer.error, answer.cause = status, failure.error, failure.cause


# ---------------------------------------------------------------------------------------
# Inspection data: what each step of the state's data flow made, as far as it got.


def _inspect(state: m.State, value: Any, frame: Frame, recorder: Recorder, answer: Probe) -> None:
    inspection = answer.inspection
    if state.query_language == "JSONata":
        if recorder.called:
            inspection["afterArguments"] = recorder.parameters
        if recorder.answered:
            inspection["result"] = recorder.result
        return
    # A step that fails is where the state failed: the steps before it are what it shows.
    with contextlib.suppress(StatesError):
        _jsonpath_steps(state, value, frame.bindings(state), recorder, inspection)


def _jsonpath_steps(
    state: m.State, value: Any, b: Bindings, recorder: Recorder, inspection: dict[str, Any]
) -> None:
    """JSONPath's steps in AWS's recorded choice: a Pass with a ``Result`` shows no
    InputPath or Parameters step (localstack test_test_state_scenarios, BASE_RESULT_PASS
    and IO_RESULT_PASS); a Map shows its limits only (see :func:`_map_limits`)."""
    if isinstance(state, m.Map):
        return
    io = compile_io(
        input_path=state.input_path,
        parameters=getattr(state, "parameters", m.MISSING),
        result_selector=getattr(state, "result_selector", m.MISSING),
        result_path=getattr(state, "result_path", "$"),
    )
    result = getattr(state, "result", m.MISSING)
    if not isinstance(state, m.Pass) or result is m.MISSING:
        inspection["afterInputPath"] = io.input_path(b.with_input(value))
    if isinstance(state, m.Pass):
        if result is m.MISSING:
            result = inspection["afterParameters"] = io.effective_input(value, b)
        else:
            inspection["result"] = result
    elif isinstance(state, m.Task):
        if not recorder.called:
            return
        inspection["afterParameters"] = recorder.parameters
        if not recorder.answered:
            return
        result = inspection["result"] = recorder.result
    elif isinstance(state, m.Parallel):
        inspection["afterParameters"] = io.effective_input(value, b)
        if "result" not in inspection:
            return
        result = inspection["result"]
    else:
        return
    selected = inspection["afterResultSelector"] = io.selected_result(result, b)
    inspection["afterResultPath"] = io.result_path(value, selected)


def http_inspection(
    exchange: HttpExchange, revealed: bool
) -> tuple[dict[str, str], dict[str, str]]:
    """TRACE's ``request`` and ``response`` of an HTTP Task (botocore's members; the
    text of ``headers`` is our choice, as no recording shows AWS's: a JSON object of
    each header's values, as the Task's result gives the response's)."""
    sent: HttpRequest = exchange.sent if revealed else exchange.plain
    protocol = sent.url.split(":", 1)[0]
    request = {
        "protocol": protocol,
        "method": sent.method,
        "url": sent.url,
        "headers": _header_text(sent.headers),
        "body": (sent.body or b"").decode("utf-8", "replace"),
    }
    response = {
        "protocol": protocol,
        "statusCode": str(exchange.status),
        "statusMessage": exchange.reason,
        "headers": _header_text(exchange.headers),
        "body": exchange.body.decode("utf-8", "replace"),
    }
    return request, response


def _header_text(headers: tuple[tuple[str, str], ...]) -> str:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name, []).append(value)
    return json_text(grouped)
