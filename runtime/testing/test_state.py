"""``test_state``: one state run as AWS's TestState API runs it, with mocks and inspection.

The request is checked as AWS checks it, with AWS's error codes and, where recorded, its
messages (localstack ``tests/aws/services/stepfunctions/v2/test_state/*.snapshot.json``,
recorded against AWS); then :mod:`runtime.testing.state_probe` runs the state through the
engine's own handler. The answer is TestState's response with Python values in place of
the JSON text the API carries: ``status``, ``output``, ``error``, ``cause``,
``nextState`` and, at DEBUG and TRACE, ``inspectionData``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from asl import model as m
from asl.errors import StatesError
from asl.variables import VariableScope
from integrations.base import Invoker, TaskRequest, parse_resource
from integrations.mocks import MockValidationError, SingleMock
from integrations.shapes import NOT_AN_OBJECT
from runtime.api_limits import ValidationException
from runtime.context import execution_context, state_machine_context
from runtime.definitions import InvalidDefinition, compile_definition
from runtime.executions import Engine
from runtime.frame import Frame, Run
from runtime.host import LocalHost
from runtime.states import STEPS
from runtime.testing.local import local_engine
from runtime.testing.state_probe import (
    HttpTrace,
    MockedOutcome,
    Recorder,
    StateConfiguration,
    Trial,
    probe,
)
from runtime.tokens import OnStarted

__all__ = ["INSPECTION_LEVELS", "SINGLE_STATE_NAME", "test_state"]

InspectionLevel = Literal["INFO", "DEBUG", "TRACE"]
INSPECTION_LEVELS: tuple[InspectionLevel, ...] = ("INFO", "DEBUG", "TRACE")
#: The name a single state's definition is tested under: the context's ``State.Name``
#: AWS recorded for one (localstack test_test_state_scenarios, test_base_map_state_inspect).
SINGLE_STATE_NAME = "StateName"
_MACHINE_NAME = "TestStateMachine"

# AWS's recorded messages (localstack test_state_mock_validation,
# test_test_state_machine_scenarios and test_test_state_scenarios snapshots).
_NO_MAP_OR_PARALLEL = (
    "TestState API does not support Map or Parallel states. Supported state types "
    "include: [Task, Wait, Pass, Succeed, Fail, Choice]"
)
_ONE_OF_RESULT_AND_ERROR = (
    "A test mock should have only one of the following fields: [result, errorOutput]."
)
_NO_SECRETS_WITH_MOCK = "TestState does not support RevealSecrets when a mock is specified."
_STATE_NOT_FOUND = "State not found in definition"
_NOT_AN_ARRAY = "Mocked result must be an array."
_BRANCH_COUNT = (
    "Mocked result must contain the same number of items as number of Parallel branches."
)


async def test_state(
    definition: str | Mapping[str, Any],
    input: Any = None,
    *,
    state_name: str | None = None,
    mock: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
    inspection_level: InspectionLevel = "INFO",
    reveal_secrets: bool = False,
    state_configuration: Mapping[str, Any] | None = None,
    role_arn: str | None = None,
    engine: Engine | None = None,
    seed: int | None = None,
    **engine_options: Any,
) -> dict[str, Any]:
    """Run one state as TestState does and return TestState's response.

    ``definition`` is one state (JSON text or a mapping), or a whole state machine when
    ``state_name`` names its top-level state to test. ``mock`` is TestState's ``mock``:
    ``{"result": <value>}`` or ``{"errorOutput": {"error", "cause"}}``, with an optional
    ``fieldValidationMode`` (STRICT, the default, PRESENT or NONE). Without a mock a Task
    calls its integration on ``engine`` (by default one ``local_engine(**engine_options)``
    builds: local functions, HTTP, AWS endpoints). ``context`` (with a mock only) gives the
    context object's ``Execution`` and ``StateMachine``; ``variables`` the variables the
    state reads. ``state_configuration`` is TestState's (``retrierRetryCount``,
    ``errorCausedByState``, ``mapIterationFailureCount``, ``mapItemReaderData``).

    Raises :class:`~runtime.api_limits.ValidationException` or
    :class:`~runtime.definitions.InvalidDefinition` (``.code``, ``.message``) for a
    request AWS refuses.
    """
    _check_request(mock, context, variables, inspection_level, reveal_secrets)
    machine, state = _state_under_test(definition, state_name)
    configuration = _configuration(state, mock, state_configuration)
    invoker, mocked = _mocking(state, mock)
    own_engine = engine is None
    if engine is None:
        engine = local_engine(**engine_options)
    try:
        return await _run(
            machine, state, input, engine, invoker, mocked, configuration,
            context=context, variables=variables, role_arn=role_arn, seed=seed,
            inspection_level=inspection_level,
            reveal_secrets=reveal_secrets,
        )  # fmt: skip
    finally:
        if own_engine:
            await engine.aclose()


test_state.__test__ = False  # type: ignore[attr-defined]  # not a test for pytest to collect


def _check_request(
    mock: Mapping[str, Any] | None,
    context: Mapping[str, Any] | None,
    variables: Mapping[str, Any] | None,
    inspection_level: str,
    reveal_secrets: bool,
) -> None:
    if inspection_level not in INSPECTION_LEVELS:
        raise ValidationException(
            f"Value '{inspection_level}' at 'inspectionLevel' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(INSPECTION_LEVELS)}]"
        )
    if mock is not None:
        if ("result" in mock) == ("errorOutput" in mock):
            raise ValidationException(_ONE_OF_RESULT_AND_ERROR)
        if reveal_secrets:
            raise ValidationException(_NO_SECRETS_WITH_MOCK)
    elif context is not None:
        # botocore: context "may only be specified if a mock is specified"; the wording
        # of AWS's refusal is not recorded: ours.
        raise ValidationException("TestState accepts a context only when a mock is specified.")
    if context is not None and not isinstance(context, Mapping):
        raise ValidationException("The context must be a JSON object.")  # our wording
    if variables is not None and not isinstance(variables, Mapping):
        raise ValidationException("The variables must be a JSON object.")  # our wording


def _state_under_test(
    definition: str | Mapping[str, Any], state_name: str | None
) -> tuple[m.StateMachine, m.State]:
    """The typed machine and state to test; ``InvalidDefinition`` in AWS's words for a
    bad definition."""
    text = definition if isinstance(definition, str) else json.dumps(definition)
    if state_name is not None:
        machine = compile_definition(text, "STANDARD")
        state = machine.scope.states.get(state_name)
        if state is None:
            raise ValidationException(_STATE_NOT_FOUND)
        return machine, state
    try:
        document = json.loads(text)
    except ValueError:
        compile_definition(text, "STANDARD")  # raises AWS's INVALID_JSON_DESCRIPTION
        raise
    if not isinstance(document, dict):
        compile_definition(text, "STANDARD")  # raises AWS's "must be a valid JSON object"
    machine = compile_definition(json.dumps(_one_state_machine(document)), "STANDARD")
    return machine, machine.scope.states[SINGLE_STATE_NAME]


def _one_state_machine(state: dict[str, Any]) -> dict[str, Any]:
    """A machine holding the state, with a Succeed state for each state it may go to (so
    the validator, which checks that every ``Next`` names a state, takes it)."""
    targets = [state.get("Next"), state.get("Default")]
    for key in ("Choices", "Catch"):
        rules = state.get(key)
        if isinstance(rules, list):
            targets += [rule.get("Next") for rule in rules if isinstance(rule, dict)]
    states: dict[str, Any] = {SINGLE_STATE_NAME: state}
    for target in targets:
        if isinstance(target, str) and target != SINGLE_STATE_NAME:
            states[target] = {"Type": "Succeed"}
    return {"StartAt": SINGLE_STATE_NAME, "States": states}


def _configuration(
    state: m.State, mock: Mapping[str, Any] | None, given: Mapping[str, Any] | None
) -> StateConfiguration:
    """``stateConfiguration``, checked against the state it configures (our wording: AWS
    records none of these refusals)."""
    given = given or {}
    unknown = sorted(
        set(given)
        - {
            "retrierRetryCount",
            "errorCausedByState",
            "mapIterationFailureCount",
            "mapItemReaderData",
        }
    )
    if unknown:
        raise ValidationException(f"Unknown stateConfiguration field(s): {unknown}")
    retries = given.get("retrierRetryCount", 0)
    failures = given.get("mapIterationFailureCount")
    caused_by = given.get("errorCausedByState")
    reader_data = given.get("mapItemReaderData")
    for name, count in (("retrierRetryCount", retries), ("mapIterationFailureCount", failures)):
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 0
        ):
            raise ValidationException(f"stateConfiguration.{name} must be a whole number >= 0")
    if failures is not None and not isinstance(state, m.Map):
        raise ValidationException("mapIterationFailureCount applies to a Map state only.")
    if reader_data is not None and not (isinstance(state, m.Map) and state.item_reader):
        raise ValidationException(
            "mapItemReaderData applies to a Map state with an ItemReader only."
        )
    if caused_by is not None:
        if not isinstance(state, m.Map | m.Parallel) or mock is None or "errorOutput" not in mock:
            raise ValidationException(
                "errorCausedByState applies to a Map or Parallel state with a mocked errorOutput."
            )
        if caused_by not in _inner_states(state):
            raise ValidationException(
                f"errorCausedByState '{caused_by}' is not a state of '{state.name}'."
            )
    return StateConfiguration(retries, failures, reader_data)


def _inner_states(state: m.Map | m.Parallel) -> set[str]:
    scopes = state.branches if isinstance(state, m.Parallel) else (state.item_processor,)
    names: set[str] = set()
    for scope in scopes:
        for name, inner in scope.states.items():
            names.add(name)
            if isinstance(inner, m.Map | m.Parallel):
                names |= _inner_states(inner)
    return names


def _mocking(
    state: m.State, mock: Mapping[str, Any] | None
) -> tuple[SingleMock | None, MockedOutcome | None]:
    """The Task's mock (an Invoker) or the Map's/Parallel's mocked outcome, checked."""
    if mock is None:
        if isinstance(state, m.Map | m.Parallel):
            raise InvalidDefinition(_NO_MAP_OR_PARALLEL)
        if isinstance(state, m.Task):
            _check_runnable(state)
        return None, None
    if not isinstance(state, m.Task | m.Map | m.Parallel):
        raise ValidationException(
            f"State type '{state.type}' is not supported when a mock is specified"
        )
    error_output = mock.get("errorOutput")
    mode = mock.get("fieldValidationMode", "STRICT")
    try:
        single = (
            SingleMock(result=mock.get("result"), field_validation_mode=mode)
            if error_output is None
            else SingleMock(error_output=error_output, field_validation_mode=mode)
        )
    except ValueError as exc:
        raise ValidationException(str(exc)) from None
    if isinstance(state, m.Task):
        try:
            single.validate(parse_resource(state.resource))
        except MockValidationError as exc:
            raise ValidationException(str(exc)) from None
        return single, None
    if error_output is not None:
        error = StatesError(error_output["error"], error_output.get("cause"))
        return None, MockedOutcome(error=error)
    return None, MockedOutcome(result=_container_result(state, mock["result"]))


def _container_result(state: m.Map | m.Parallel, result: Any) -> Any:
    if isinstance(state, m.Map) and state.result_writer is not None:
        if not isinstance(result, dict):
            raise ValidationException(NOT_AN_OBJECT)
        return result
    if not isinstance(result, list):
        raise ValidationException(_NOT_AN_ARRAY)
    if isinstance(state, m.Parallel) and len(result) != len(state.branches):
        raise ValidationException(_BRANCH_COUNT)
    return result


def _check_runnable(state: m.Task) -> None:
    """botocore's TestState: Activity tasks, ``.sync`` and ``.waitForTaskToken`` are
    tested only with a mock (the refusal's wording is ours)."""
    resource = parse_resource(state.resource)
    if resource.kind == "activity" or resource.pattern != "request-response":
        raise ValidationException(
            "TestState supports Activity tasks and the .sync and .waitForTaskToken "
            "integration patterns only when a mock is specified."
        )


async def _run(
    machine: m.StateMachine,
    state: m.State,
    value: Any,
    engine: Engine,
    mock: SingleMock | None,
    mocked: MockedOutcome | None,
    configuration: StateConfiguration,
    *,
    context: Mapping[str, Any] | None,
    variables: Mapping[str, Any] | None,
    role_arn: str | None,
    seed: int | None,
    inspection_level: str,
    reveal_secrets: bool,
) -> dict[str, Any]:
    value = {} if value is None else value
    real: Invoker = engine.host.invoker if isinstance(engine.host, LocalHost) else engine.host
    recorder = Recorder(mock if mock is not None else real)
    host = _OneStateHost(invoker=recorder, seed=seed)
    run = _one_run(host, engine, machine, value, context, role_arn)
    scope = VariableScope().assign(dict(variables)) if variables else None
    frame = Frame(run, 0, scope)
    http: HttpTrace | None = None
    if inspection_level == "TRACE":
        http = "revealed" if reveal_secrets else "plain"
    trial = Trial(state, value, frame, recorder, mocked, configuration)
    answer = await host.clock.spawn(probe, trial, http)
    response: dict[str, Any] = {"status": answer.status}
    if answer.has_output:
        response["output"] = answer.output
    for key, member in (("error", answer.error), ("cause", answer.cause)):
        if member is not None:
            response[key] = member
    if answer.next_state is not None:
        response["nextState"] = answer.next_state
    if inspection_level != "INFO":
        inspection = answer.inspection
        if frame.scope.variables:
            inspection["variables"] = dict(frame.scope.variables)
        response["inspectionData"] = inspection
    return response


class _OneStateHost(LocalHost):
    """The Host of one tested state: an Activity task is answered by the Invoker (its
    mock: TestState takes an Activity task only with one), not by a worker."""

    async def wait_for_activity(
        self,
        request: TaskRequest,
        on_started: OnStarted,
        *,
        started: float | None = None,
        token: str | None = None,
    ) -> Any:
        """The mocked answer, the task started by no worker (``started`` and ``token``,
        which a recovered execution's wait passes, mean nothing to a mock)."""
        on_started(None)
        return await self.invoke(request)


def _execution(
    arn: str, name: str, value: Any, role_arn: str | None, start: float
) -> dict[str, Any]:
    """The context's ``Execution`` as AWS's recorded TestState context has it: no
    ``RedriveCount``, ``RoleArn`` null without a role (test_test_state_scenarios,
    test_state_with_variables)."""
    whole = execution_context(
        execution_arn=arn, name=name, input_value=value, role_arn=role_arn or "", start_time=start
    )
    whole["RoleArn"] = role_arn
    del whole["RedriveCount"]
    return whole


def _one_run(
    host: LocalHost,
    engine: Engine,
    machine: m.StateMachine,
    value: Any,
    context: Mapping[str, Any] | None,
    role_arn: str | None,
) -> Run:
    """The execution a tested state believes it is in: an Express one, as AWS's recorded
    context shows (``...:express:<machine>:<name>:<id>``), unless ``context`` says."""
    region, account = engine.region, engine.account
    name = host.new_uuid()
    machine_arn = f"arn:aws:states:{region}:{account}:stateMachine:{_MACHINE_NAME}"
    arn = f"arn:aws:states:{region}:{account}:express:{_MACHINE_NAME}:{name}:{host.new_uuid()}"
    given = context or {}
    execution = given.get("Execution")
    named = given.get("StateMachine")
    return Run(
        host=host,
        machine=machine,
        execution_arn=arn,
        state_machine_arn=machine_arn,
        execution_context=execution
        if isinstance(execution, dict)
        else _execution(arn, name, value, role_arn, host.now()),
        state_machine_context=named
        if isinstance(named, dict)
        else state_machine_context(machine_arn, _MACHINE_NAME),
        region=region,
        account=account,
        history_limit=None,
        steps=STEPS,
    )
