"""Each package's public export list is pinned: changing it is a deliberate act."""

from __future__ import annotations

import asl
import integrations
import runtime
import runtime.service
import runtime.service.console
import runtime.temporal
import runtime.testing


def test_asl_exports() -> None:
    assert sorted(asl.__all__) == [
        "DefinitionError",
        "DefinitionTooLarge",
        "Diagnostic",
        "StateMachine",
        "StatesError",
        "load",
        "validate",
    ]
    for name in asl.__all__:
        assert hasattr(asl, name)


def test_runtime_exports() -> None:
    assert sorted(runtime.__all__) == ["Engine", "Execution", "Host", "LocalHost", "Machine"]
    for name in runtime.__all__:
        assert hasattr(runtime, name)


def test_runtime_testing_exports() -> None:
    assert sorted(runtime.testing.__all__) == [
        "Execution",
        "ExecutionAssertionError",
        "WorkflowEngine",
        "assert_caught",
        "assert_failed",
        "assert_path",
        "assert_retries",
        "assert_succeeded",
        "local_engine",
        "run",
        "start",
        "state",
        "test_state",
        "trace",
    ]
    for name in runtime.testing.__all__:
        assert hasattr(runtime.testing, name)
    assert runtime.testing.Execution is runtime.Execution


def test_runtime_service_exports() -> None:
    assert sorted(runtime.service.__all__) == [
        "OPERATIONS",
        "RunningServer",
        "ServiceSettings",
        "SettingsError",
        "build_backend",
        "from_environment",
        "serve",
        "serve_in_thread",
    ]
    for name in runtime.service.__all__:
        assert hasattr(runtime.service, name)


def test_runtime_temporal_exports() -> None:
    assert sorted(runtime.temporal.__all__) == [
        "DEFAULT_TASK_QUEUE",
        "TemporalExecutions",
        "new_worker",
    ]
    for name in runtime.temporal.__all__:
        assert hasattr(runtime.temporal, name)


def test_runtime_service_console_exports() -> None:
    assert sorted(runtime.service.console.__all__) == ["add_console", "is_loopback"]
    for name in runtime.service.console.__all__:
        assert hasattr(runtime.service.console, name)


def test_integrations_exports() -> None:
    assert sorted(integrations.__all__) == [
        "CallbackResult",
        "FunctionIntegration",
        "Integration",
        "Invoker",
        "Registry",
        "Resource",
        "TaskRequest",
        "TaskServices",
        "parse_resource",
    ]
    for name in integrations.__all__:
        assert hasattr(integrations, name)
