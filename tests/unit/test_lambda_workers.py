"""Local Lambda functions in worker processes: crashes, hangs, memory, environment, reuse.

Handlers live in a module written to a temporary folder, so the workers import it from its
file, as they do for a functions file's handlers.
"""

from __future__ import annotations

import asyncio
import json
import os
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from asl.errors import StatesError
from integrations.base import SYSTEM_SERVICES, TaskRequest, TaskServices, parse_resource
from integrations.functions_file import load_functions_file
from integrations.lambda_workers import HandlerRef, WorkerPoolExecutor, handler_reference
from integrations.lambdas import LocalFunctions
from tests.modules import import_file
from tests.services import FakeServices

REGION, ACCOUNT = "us-east-1", "123456789012"
INVOKE = "arn:aws:states:::lambda:invoke"

HANDLERS = """
    import asyncio
    import ctypes
    import os
    import sys
    import time
    from pathlib import Path

    CALLS = 0
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") == "broken":
        raise RuntimeError("cannot start here")

    def echo(event, context):
        global CALLS
        CALLS += 1
        return {"event": event, "pid": os.getpid(), "calls": CALLS}

    def environment(event, context):
        names = ["STAGE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                 "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION", "AWS_DEFAULT_REGION"]
        return {name: os.environ.get(name) for name in names}

    def chatty(event, context):
        print("x" * 100_000)
        sys.stdout.flush()
        return "quiet"

    def crash(event, context):
        os._exit(3)

    def segfault(event, context):
        ctypes.string_at(0)

    def leave(event, context):
        sys.exit(4)

    def hang(event, context):
        if event == "hang":
            time.sleep(60)
        return os.getpid()

    def talk_then_hang(event, context):
        print("working on", event)
        print("still working", file=sys.stderr)
        time.sleep(60)

    def talk_then_crash(event, context):
        print("about to crash")
        os._exit(3)

    def hog(event, context):
        if event == "hog":
            chunks = []
            while True:
                chunks.append(bytearray(64 * 1024 * 1024))
        return os.getpid()

    def fail(event, context):
        raise ValueError("Some exception was raised.")

    async def asynchronous(event, context):
        await asyncio.sleep(0)
        return {"async": event, "remaining": context.get_remaining_time_in_millis() > 0}

    def meet(event, context):
        # Wait until every invocation of the group has arrived: only concurrent ones can.
        folder = Path(event["folder"])
        (folder / str(os.getpid())).touch()
        while len(list(folder.iterdir())) < event["count"]:
            time.sleep(0.01)
        return os.getpid()

    def pid(event, context):
        return os.getpid()

    class Service:
        @staticmethod
        def handle(event, context):
            return "static"

    class Callable:
        def __call__(self, event, context):
            return "object"

    bound = Callable()

    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") != "vanishing":
        def vanishing(event, context):
            return "only in the engine"
"""


@pytest.fixture
def handlers(tmp_path: Path) -> ModuleType:
    path = tmp_path / "worker_handlers.py"
    path.write_text(textwrap.dedent(HANDLERS))
    return import_file(path)


@pytest.fixture
async def functions() -> AsyncIterator[LocalFunctions]:
    local = LocalFunctions(workers=WorkerPoolExecutor(max_workers=4))
    yield local
    await local.aclose()


def request(name: str, value: Any, services: TaskServices = SYSTEM_SERVICES) -> TaskRequest:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    resource = parse_resource(arn)
    return TaskRequest(resource, value, "S", "e", "m", REGION, ACCOUNT, services=services)


def add(functions: LocalFunctions, module: ModuleType, name: str, **settings: Any) -> None:
    functions.register(name, getattr(module, name), isolation="process", **settings)


async def fail(functions: LocalFunctions, name: str, value: Any = None) -> StatesError:
    with pytest.raises(StatesError) as caught:
        await functions.invoke(request(name, value))
    return caught.value


def platform_cause(functions: LocalFunctions, error: str, message: str) -> str:
    request_id = functions.invocations[-1].request_id
    body = {"errorMessage": f"RequestId: {request_id} Error: {message}", "errorType": error}
    return json.dumps(body, separators=(",", ":"))


def gone(pid: int) -> bool:
    """Whether a process no longer exists, not even as a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def until_gone(pid: int) -> bool:
    for _ in range(500):  # a retired worker is reaped on a thread: allow it a moment
        if gone(pid):
            return True
        await asyncio.sleep(0.01)
    return False


# --- normal runs ------------------------------------------------------------------------


async def test_echo_runs_in_a_warm_worker(functions: LocalFunctions, handlers: ModuleType) -> None:
    add(functions, handlers, "echo")
    first = await functions.invoke(request("echo", {"x": [1, "two"]}))
    second = await functions.invoke(request("echo", None))
    assert first["event"] == {"x": [1, "two"]}
    assert second["event"] is None
    assert first["pid"] == second["pid"] != os.getpid()
    assert (first["calls"], second["calls"]) == (1, 2)  # module state lives on, as in Lambda
    parameters = {"FunctionName": "echo", "Payload": {"k": "v"}}
    invoke = TaskRequest(parse_resource(INVOKE), parameters, "S", "e", "m", REGION, ACCOUNT)
    envelope = await functions.invoke(invoke)
    assert envelope["StatusCode"] == 200
    assert envelope["Payload"]["event"] == {"k": "v"}
    assert handlers.CALLS == 0  # never ran in the engine


async def test_environment_is_set_for_real(
    functions: LocalFunctions, handlers: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STAGE", raising=False)
    add(functions, handlers, "environment", memory=256, environment={"STAGE": "test"})
    seen = await functions.invoke(request("environment", {}))
    assert seen == {
        "STAGE": "test",
        "AWS_LAMBDA_FUNCTION_NAME": "environment",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }
    assert "STAGE" not in os.environ


async def test_async_handlers_prints_and_objects(
    functions: LocalFunctions, handlers: ModuleType
) -> None:
    add(functions, handlers, "asynchronous")
    add(functions, handlers, "chatty")
    functions.register("static", handlers.Service.handle, isolation="process")
    functions.register("object", handlers.bound, isolation="process")
    assert await functions.invoke(request("asynchronous", 7)) == {"async": 7, "remaining": True}
    assert await functions.invoke(request("chatty", {})) == "quiet"  # stdout is not the channel
    assert await functions.invoke(request("static", {})) == "static"
    assert await functions.invoke(request("object", {})) == "object"


async def test_a_handler_error_is_reported_as_in_process(
    functions: LocalFunctions, handlers: ModuleType
) -> None:
    add(functions, handlers, "fail")
    error = await fail(functions, "fail")
    line = handlers.fail.__code__.co_firstlineno + 1
    expected = {
        "errorMessage": "Some exception was raised.",
        "errorType": "ValueError",
        "requestId": functions.invocations[-1].request_id,
        "stackTrace": [
            f'  File "{handlers.__file__}", line {line}, in fail\n'
            '    raise ValueError("Some exception was raised.")\n'
        ],
    }
    assert (error.error, error.cause) == ("ValueError", json.dumps(expected))


# --- what a worker survives -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("crash", "Runtime exited with error: exit status 3"),
        ("segfault", "Runtime exited with error: signal: segmentation fault"),
        ("leave", "Runtime exited with error: exit status 4"),
    ],
)
async def test_a_crash_fails_only_its_invocation(
    functions: LocalFunctions, handlers: ModuleType, name: str, message: str
) -> None:
    add(functions, handlers, name)
    add(functions, handlers, "pid")
    error = await fail(functions, name)
    assert error.error == "Runtime.ExitError"
    assert error.cause == platform_cause(functions, "Runtime.ExitError", message)
    assert await functions.invoke(request("pid", {})) != os.getpid()  # the engine lives on
    again = await fail(functions, name)  # a fresh worker takes the next invocation
    assert again.error == "Runtime.ExitError"


async def test_a_hung_handler_is_killed_at_its_timeout(
    functions: LocalFunctions, handlers: ModuleType
) -> None:
    add(functions, handlers, "hang", timeout=1)
    first = await functions.invoke(request("hang", "return"))
    error = await fail(functions, "hang", "hang")
    assert error.error == "Sandbox.Timedout"
    assert error.cause == platform_cause(
        functions, "Sandbox.Timedout", "Task timed out after 1.00 seconds"
    )
    assert await until_gone(first)
    replacement = await functions.invoke(request("hang", "return"))
    assert replacement != first
    timed_out = functions.invocations[1]
    assert (timed_out.billed_ms, timed_out.error) == (1000, "Sandbox.Timedout")


async def test_a_handler_killed_at_its_timeout_keeps_what_it_printed_in_its_log(
    functions: LocalFunctions, handlers: ModuleType
) -> None:
    add(functions, handlers, "talk_then_hang", timeout=1)
    error = await fail(functions, "talk_then_hang", "order 7")
    assert error.error == "Sandbox.Timedout"
    (timed_out,) = functions.invocations
    assert timed_out.output == "working on order 7\nstill working\n"
    assert "working on order 7\nstill working\nEND RequestId" in timed_out.log()


async def test_a_crashed_handler_keeps_what_it_printed_in_its_log(
    functions: LocalFunctions, handlers: ModuleType
) -> None:
    add(functions, handlers, "talk_then_crash")
    assert (await fail(functions, "talk_then_crash")).error == "Runtime.ExitError"
    assert functions.invocations[-1].output == "about to crash\n"


async def test_the_timeout_runs_on_the_hosts_clock(
    functions: LocalFunctions, handlers: ModuleType
) -> None:
    add(functions, handlers, "hang", timeout=900)
    services = FakeServices()
    pid = await functions.invoke(request("hang", "return", services))
    assert services.timers == [10.0, 900]  # the worker's start, then the invocation
    call = asyncio.ensure_future(functions.invoke(request("hang", "hang", services)))
    await services.wait_for_timer()
    services.advance(899)
    await asyncio.sleep(0.05)
    assert not call.done()
    services.advance(1)
    with pytest.raises(StatesError) as caught:
        await call
    assert caught.value.error == "Sandbox.Timedout"
    assert "Task timed out after 900.00 seconds" in (caught.value.cause or "")
    assert await until_gone(pid)


async def test_a_memory_hog_runs_out_of_memory(
    functions: LocalFunctions, handlers: ModuleType
) -> None:
    add(functions, handlers, "hog", memory=128, timeout=30)
    first = await functions.invoke(request("hog", "small"))
    error = await fail(functions, "hog", "hog")
    assert error.error == "Runtime.OutOfMemory"
    assert error.cause == platform_cause(
        functions, "Runtime.OutOfMemory", "Runtime exited with error: signal: killed"
    )
    assert await until_gone(first)
    assert await functions.invoke(request("hog", "small")) != first


async def test_cancelling_an_invocation_kills_its_worker(
    functions: LocalFunctions, handlers: ModuleType
) -> None:
    add(functions, handlers, "hang", timeout=30)
    pid = await functions.invoke(request("hang", "return"))
    task = asyncio.ensure_future(functions.invoke(request("hang", "hang")))
    await asyncio.sleep(0.2)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)  # returns without waiting for the kill
    assert done and task.cancelled()
    assert await until_gone(pid)


async def test_a_module_that_fails_in_the_worker(
    functions: LocalFunctions, handlers: ModuleType
) -> None:
    functions.register("broken", handlers.echo, isolation="process")
    functions.register("vanishing", handlers.vanishing, isolation="process")
    error = await fail(functions, "broken")
    assert error.error == "Runtime.ImportModuleError"
    assert error.cause is not None
    assert json.loads(error.cause) == {
        "errorMessage": f"Unable to import module '{handlers.__name__}': cannot start here",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    error = await fail(functions, "vanishing")
    assert error.error == "Runtime.HandlerNotFound"
    assert error.cause is not None
    assert json.loads(error.cause)["errorMessage"] == (
        f"Handler 'vanishing' missing on module '{handlers.__name__}'"
    )


# --- pools, concurrency, shutdown -------------------------------------------------------


async def test_concurrent_invocations_get_workers_of_their_own(
    handlers: ModuleType, tmp_path: Path
) -> None:
    workers = WorkerPoolExecutor(max_workers=8)
    functions = LocalFunctions(workers=workers)
    add(functions, handlers, "meet", timeout=20, reserved_concurrency=3)
    event = {"folder": str(tmp_path / "meeting"), "count": 3}
    (tmp_path / "meeting").mkdir()
    try:
        pids = await asyncio.gather(*(functions.invoke(request("meet", event)) for _ in range(3)))
        assert len(set(pids)) == 3
        assert workers.processes == sorted(pids)  # all three stay warm
    finally:
        await functions.aclose()


async def test_a_pool_never_grows_past_its_size(handlers: ModuleType) -> None:
    functions = LocalFunctions(workers=WorkerPoolExecutor(max_workers=2))
    add(functions, handlers, "pid")
    try:
        pids = await asyncio.gather(*(functions.invoke(request("pid", i)) for i in range(6)))
        assert 1 <= len(set(pids)) <= 2
    finally:
        await functions.aclose()
    assert all([await until_gone(p) for p in set(pids)])


async def test_close_reaps_every_worker(handlers: ModuleType) -> None:
    workers = WorkerPoolExecutor()
    functions = LocalFunctions(workers=workers)
    add(functions, handlers, "pid")
    add(functions, handlers, "echo")
    pids = [await functions.invoke(request("pid", 1)), await functions.invoke(request("pid", 2))]
    pids.append((await functions.invoke(request("echo", 1)))["pid"])
    assert sorted(set(pids)) == workers.processes
    functions.close()
    assert workers.processes == []
    assert all(gone(p) for p in pids)  # reaped, not zombies
    assert await functions.invoke(request("pid", 3)) not in pids  # usable again
    await functions.aclose()


async def test_every_function_in_processes_through_the_default_executor(
    handlers: ModuleType,
) -> None:
    workers = WorkerPoolExecutor()
    functions = LocalFunctions(workers)
    functions.register("pid", handlers.pid)
    try:
        assert await functions.invoke(request("pid", 0)) != os.getpid()
        with pytest.raises(ValueError, match="cannot run in a worker process"):
            functions.register("inline", lambda event, context: event)
    finally:
        await functions.aclose()


async def test_functions_file_with_a_worker_pool(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text(textwrap.dedent(HANDLERS))
    (tmp_path / "functions.yaml").write_text(
        "functions:\n  echo: handlers.py:echo\n  env:\n    handler: handlers.py:environment\n"
        "    environment: {STAGE: file}\n"
    )
    workers = WorkerPoolExecutor()
    functions = load_functions_file(tmp_path / "functions.yaml", executor=workers)
    try:
        result = await functions.invoke(request("echo", "hi"))
        assert (result["event"], result["calls"]) == ("hi", 1)
        assert result["pid"] != os.getpid()
        assert (await functions.invoke(request("env", {})))["STAGE"] == "file"
    finally:
        await functions.aclose()


# --- handlers a worker cannot find ------------------------------------------------------


def test_handlers_that_cannot_be_found_are_refused(handlers: ModuleType) -> None:
    def closure(event: Any, context: Any) -> Any:
        return event

    functions = LocalFunctions()
    for name, handler in [
        ("closure", closure),
        ("lambda", lambda event, context: event),
        ("bound", handlers.Callable().__call__),
    ]:
        with pytest.raises(ValueError, match=f"function {name}: the handler .* cannot run in a"):
            functions.register(name, handler, isolation="process")
    assert dict(functions.functions) == {}
    functions.register("closure", closure)  # in-process is fine
    with pytest.raises(ValueError, match="isolation of function x must be 'thread', 'process' or"):
        functions.register("x", closure, isolation="fork")  # type: ignore[arg-type]


def test_handler_reference(handlers: ModuleType) -> None:
    file = handlers.__file__
    name = handlers.__name__
    assert handler_reference(handlers.echo) == HandlerRef(name, file, "echo")
    assert handler_reference(handlers.Service.handle) == HandlerRef(name, file, "Service.handle")
    assert handler_reference(handlers.bound) == HandlerRef(name, file, "bound")
    assert handler_reference(json.dumps) == HandlerRef("json", json.__file__, "dumps")


def test_pool_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_workers must be at least 1"):
        WorkerPoolExecutor(max_workers=0)
