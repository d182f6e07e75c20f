"""Mocked Task results: Step Functions Local's MockConfigFile, and TestState's single mock.

A MockConfigFile (the format of Step Functions Local, unchanged)::

    {"StateMachines": {"<machine>": {"TestCases": {"<case>": {"<state>": "<response>"}}}},
     "MockedResponses": {"<response>": {"0": {"Return": <JSON>},
                                        "1-2": {"Throw": {"Error": "...", "Cause": "..."}}}}}

Response keys are 0-based invocation numbers or inclusive ranges and must cover 0..n
without gaps or overlaps. Past the last key the last entry repeats, as Step Functions
Local 2.0.0 does. :class:`MockInvoker` answers mocked states and hands every other Task
to a fallback Invoker, so mocked and real integrations mix in one execution.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from asl.errors import RUNTIME, StatesError
from integrations.base import CallbackResult, Invoker, Resource, TaskRequest
from integrations.settings_file import SettingsFileError, read_settings
from integrations.shapes import MODES, FieldValidationMode, check_output

__all__ = [
    "MockCases",
    "MockConfig",
    "MockConfigError",
    "MockInvoker",
    "MockValidationError",
    "MockedResponse",
    "SingleMock",
]

_KEY = re.compile(r"^(\d+)(?:-(\d+))?$")
_ACTIVITY_REFUSED = (
    "Activity state cannot be mocked. Please remove mocks mapped for all activity state in "
    "the mock config file."
)


class MockConfigError(ValueError):
    """A MockConfigFile of the wrong shape, or a machine or test case it does not define."""


@dataclass(frozen=True, slots=True)
class MockedResponse:
    """One entry of a mocked response: invocations ``first``..``last`` return or throw."""

    first: int
    last: int
    value: Any = None
    error: str | None = None
    cause: str | None = None

    @property
    def throws(self) -> bool:
        """Whether this entry fails the Task (``Throw``) rather than returning (``Return``)."""
        return self.error is not None

    def apply(self) -> Any:
        """The mocked result; raises the mocked error for a ``Throw``."""
        if self.error is not None:
            raise StatesError(self.error, self.cause)
        return self.value


def _fail(where: str, problem: str) -> MockConfigError:
    return MockConfigError(f"MockConfigFile: {where}: {problem}")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, f"must be an object, not {json.dumps(value)}")
    return value


def _only_keys(value: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise _fail(where, f"unknown field(s) {unknown}; allowed: {list(allowed)}")


def _entry(key: str, value: Any, where: str) -> MockedResponse:
    m = _KEY.match(key)
    if m is None:
        raise _fail(where, f"key '{key}' is not an invocation number ('0') or range ('1-2')")
    first = int(m[1])
    last = int(m[2]) if m[2] is not None else first
    if last < first:
        raise _fail(where, f"range '{key}' ends before it starts")
    body = _mapping(value, f"{where}.{key}")
    _only_keys(body, ("Return", "Throw"), f"{where}.{key}")
    if ("Return" in body) == ("Throw" in body):
        raise _fail(f"{where}.{key}", "needs exactly one of Return and Throw")
    if "Return" in body:
        return MockedResponse(first, last, body["Return"])
    throw = _mapping(body["Throw"], f"{where}.{key}.Throw")
    _only_keys(throw, ("Error", "Cause"), f"{where}.{key}.Throw")
    error, cause = throw.get("Error"), throw.get("Cause")
    if not isinstance(error, str):
        raise _fail(f"{where}.{key}.Throw", "Error must be text")
    if cause is not None and not isinstance(cause, str):
        raise _fail(f"{where}.{key}.Throw", "Cause must be text")
    return MockedResponse(first, last, None, error, cause)


def _response(name: str, value: Any) -> tuple[MockedResponse, ...]:
    where = f"MockedResponses.{name}"
    entries = sorted(
        (_entry(k, v, where) for k, v in _mapping(value, where).items()), key=lambda e: e.first
    )
    if not entries:
        raise _fail(where, "has no invocations")
    expected = 0
    for entry in entries:
        if entry.first > expected:
            raise _fail(where, f"invocation {expected} is not covered")
        if entry.first < expected:
            raise _fail(where, f"invocation {entry.first} is covered twice")
        expected = entry.last + 1
    return tuple(entries)


def _test_cases(
    machine: str, value: Any, responses: Mapping[str, Any]
) -> Mapping[str, Mapping[str, str]]:
    where = f"StateMachines.{machine}"
    body = _mapping(value, where)
    _only_keys(body, ("TestCases",), where)
    cases: dict[str, Mapping[str, str]] = {}
    for case, mapping in _mapping(body.get("TestCases", {}), f"{where}.TestCases").items():
        case_where = f"{where}.TestCases.{case}"
        states = _mapping(mapping, case_where)
        for state, response in states.items():
            if not isinstance(response, str):
                raise _fail(f"{case_where}.{state}", "must name a mocked response")
            if response not in responses:
                raise _fail(
                    f"{case_where}.{state}",
                    f"names the response '{response}', which MockedResponses does not define",
                )
        cases[case] = MappingProxyType(dict(states))
    return MappingProxyType(cases)


def _read(path: str | os.PathLike[str]) -> Any:
    try:
        return read_settings(path)
    except SettingsFileError as exc:
        raise MockConfigError(f"MockConfigFile {exc}") from None


class MockConfig:
    """A validated MockConfigFile."""

    def __init__(
        self,
        state_machines: Mapping[str, Mapping[str, Mapping[str, str]]],
        responses: Mapping[str, tuple[MockedResponse, ...]],
    ) -> None:
        self.state_machines = state_machines
        self.responses = responses

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Mapping[str, Any]) -> MockConfig:
        """Read and validate a MockConfigFile from a path (JSON or YAML) or a parsed dict."""
        document = _read(source) if isinstance(source, str | os.PathLike) else source
        top = _mapping(document, "the document")
        _only_keys(top, ("StateMachines", "MockedResponses"), "the document")
        if "StateMachines" not in top or "MockedResponses" not in top:
            raise _fail("the document", "needs both StateMachines and MockedResponses")
        raw = _mapping(top["MockedResponses"], "MockedResponses")
        responses = {name: _response(name, value) for name, value in raw.items()}
        machines = {
            name: _test_cases(name, value, responses)
            for name, value in _mapping(top["StateMachines"], "StateMachines").items()
        }
        return cls(MappingProxyType(machines), MappingProxyType(responses))

    def test_case(self, state_machine: str, test_case: str) -> Mapping[str, str]:
        """State name -> response name of one test case; MockConfigError if it is unknown."""
        cases = self.state_machines.get(state_machine)
        if cases is None:
            known = ", ".join(sorted(self.state_machines)) or "none"
            raise MockConfigError(
                f"MockConfigFile defines no state machine '{state_machine}' (known: {known})"
            )
        states = cases.get(test_case)
        if states is None:
            known = ", ".join(sorted(cases)) or "none"
            raise MockConfigError(
                f"MockConfigFile defines no test case '{test_case}' for state machine "
                f"'{state_machine}' (known: {known})"
            )
        return states

    def entry(self, response: str, invocation: int) -> MockedResponse:
        """The entry answering the n-th (0-based) invocation; the last one repeats past the end."""
        entries = self.responses[response]
        for entry in entries:
            if entry.first <= invocation <= entry.last:
                return entry
        return entries[-1]


class MockInvoker:
    """An Invoker that answers a test case's mocked states and delegates the rest.

    Invocations are counted per state per execution (retries and Map iterations included).
    A mocked ``.waitForTaskToken`` Task completes with its mocked result.
    """

    def __init__(
        self, config: MockConfig, state_machine_name: str, test_case: str, fallback: Invoker
    ) -> None:
        self._config = config
        self._mocks = config.test_case(state_machine_name, test_case)
        self._fallback = fallback
        self._counts: dict[tuple[str, str], int] = {}

    async def invoke(self, request: TaskRequest) -> Any:
        """The mocked result (or error) of a mocked state; otherwise the fallback's."""
        response = self._mocks.get(request.state_name)
        if response is None:
            return await self._fallback.invoke(request)
        if request.resource.kind == "activity":
            raise StatesError(RUNTIME, _ACTIVITY_REFUSED)
        key = (request.execution_arn, request.state_name)
        count = self._counts.get(key, 0)
        self._counts[key] = count + 1
        result = self._config.entry(response, count).apply()
        if request.resource.pattern == "waitForTaskToken":
            return CallbackResult(result)  # the mock answers the callback itself
        return result

    def forget(self, execution_arn: str) -> None:
        """Drop the invocation counters of a finished execution."""
        for key in [k for k in self._counts if k[0] == execution_arn]:
            del self._counts[key]


class MockCases:
    """An Invoker answering each execution from the test case chosen when it started, as
    Step Functions Local does for ``StartExecution`` on ``<stateMachineArn>#<TestCase>``;
    executions started without one reach the fallback."""

    def __init__(self, config: MockConfig, fallback: Invoker) -> None:
        self.config = config
        self._fallback = fallback
        self._chosen: dict[str, MockInvoker] = {}

    def choose(self, execution_arn: str, state_machine_name: str, test_case: str) -> None:
        """Answer ``execution_arn`` from a test case (``MockConfigError`` if it is unknown)."""
        invoker = MockInvoker(self.config, state_machine_name, test_case, self._fallback)
        self._chosen[execution_arn] = invoker

    async def invoke(self, request: TaskRequest) -> Any:
        """The chosen test case's answer for the request's execution, else the fallback's."""
        invoker = self._chosen.get(request.execution_arn, self._fallback)
        return await invoker.invoke(request)

    def forget(self, execution_arn: str) -> None:
        """Drop what was kept for an execution that has ended."""
        self._chosen.pop(execution_arn, None)


_ABSENT: Any = object()
_MOCK_INVALID = "Mock result schema validation error: "


class MockValidationError(ValueError):
    """A TestState mock whose ``result`` does not fit the API's output shape.

    TestState answers it with the API error ``ValidationException`` (``code``) and this
    message, e.g. ``Mock result schema validation error: Field 'StatusCode' must be a
    number`` (recorded against AWS).
    """

    code = "ValidationException"


class SingleMock:
    """TestState's ``mock``: every invocation returns ``result`` or fails with ``error_output``.

    ``result`` is the parsed JSON value (the API carries it as JSON text); ``error_output``
    is ``{"error": ..., "cause": ...}`` (``cause`` optional). ``field_validation_mode``
    (``STRICT``, the default, ``PRESENT`` or ``NONE``) says how strictly ``result`` must
    fit the output shape of the API the Task calls (see ``integrations.shapes``); a result
    that does not fit raises :class:`MockValidationError` from :meth:`validate`, which a
    TestState implementation calls before running the state, and from :meth:`invoke`.
    A mocked ``.waitForTaskToken`` Task completes with the mocked result.
    """

    def __init__(
        self,
        *,
        result: Any = _ABSENT,
        error_output: Mapping[str, Any] | None = None,
        field_validation_mode: FieldValidationMode = "STRICT",
    ) -> None:
        if (result is _ABSENT) == (error_output is None):
            raise ValueError("SingleMock needs exactly one of result and error_output")
        if field_validation_mode not in MODES:
            raise ValueError(
                f"field_validation_mode must be one of {list(MODES)}, not {field_validation_mode!r}"
            )
        self.field_validation_mode: FieldValidationMode = field_validation_mode
        self._checked: set[str] = set()  # resource ARNs the result was found to fit
        if error_output is not None:
            error, cause = error_output.get("error"), error_output.get("cause")
            extra = set(error_output) - {"error", "cause"}
            if extra or not isinstance(error, str) or not isinstance(cause, str | None):
                raise ValueError(
                    "error_output must be {'error': <text>} with an optional 'cause' text, "
                    f"not {error_output!r}"
                )
            self._entry = MockedResponse(0, 0, None, error, cause)
        else:
            self._entry = MockedResponse(0, 0, result)

    def validate(self, resource: Resource) -> None:
        """Raise MockValidationError naming the first field of ``result`` that does not fit
        the output shape of ``resource``'s API (an ``error_output`` mock always fits)."""
        if self._entry.throws or resource.arn in self._checked:
            return
        problems = check_output(resource, self._entry.value, self.field_validation_mode)
        if problems:
            raise MockValidationError(_MOCK_INVALID + problems[0])
        self._checked.add(resource.arn)

    async def invoke(self, request: TaskRequest) -> Any:
        """The mocked result; raises the mocked error."""
        self.validate(request.resource)
        result = self._entry.apply()
        if request.resource.pattern == "waitForTaskToken":
            return CallbackResult(result)
        return result
