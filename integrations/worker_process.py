"""The worker process's side of :mod:`integrations.lambda_workers`: :func:`serve` loads
the handler once, then runs one invocation at a time, as that module's rules say (its
output sent as it is written, its memory capped, the worker retired after a crash or
running out of memory)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import os
import sys
import time
from types import MappingProxyType, ModuleType, SimpleNamespace
from typing import Any

from asl.jsontext import parse_json
from integrations.handler_logs import HandlerLog
from integrations.handler_refs import resolve
from integrations.lambda_runtime import (
    Event,
    LambdaContext,
    Outcome,
    call_async,
    call_sync,
    is_coroutine_handler,
    platform_error,
)
from integrations.lifeline import guard
from integrations.worker_channel import Send, receive, sender

__all__ = ["serve"]

_OUT_OF_MEMORY = "Runtime exited with error: signal: killed"


class _ForwardedLog(HandlerLog):
    """An invocation's output in a worker, sent to the engine as it is written rather than
    kept here: a worker killed at its timeout cannot send what it kept. Output written
    once the invocation has ended (by a thread it left running) is dropped."""

    def __init__(self, send: Send) -> None:
        super().__init__()
        self._send: Send | None = send

    def write(self, text: str) -> None:
        """Send output to the engine."""
        send = self._send
        if send is not None and text:
            send({"log": text})

    def close(self) -> None:
        """The invocation has ended."""
        self._send = None


def serve(lifeline: int) -> None:
    """The worker's main loop: load the handler, then answer invocations until told to
    stop. ``lifeline`` is the file descriptor its guardian watches (see ``lifeline``)."""
    guard(lifeline)
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    # A handler's print and input must not touch the channel.
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    send = sender(channel_out)
    init = receive(channel_in)
    if init is None:
        return
    handler, failure = _load(init)
    if failure is not None:
        send({"ready": False, "error": failure})
        return
    _cap_memory(init["memory"])
    send({"ready": True})
    environment = MappingProxyType(dict(init["environment"]))
    while (message := receive(channel_in)) is not None:
        reply = _answer(handler, message, environment, send)
        send(reply)
        if reply["recycle"]:
            return


def _load(init: dict[str, Any]) -> tuple[Any, dict[str, str] | None]:
    """The handler, or what Lambda reports when it cannot load it."""
    sys.path[:] = init["sys_path"]
    module_name, attribute = init["module"], init["attribute"]
    try:
        module = _import(module_name, init["file"])
    except BaseException as exc:  # an import may raise anything, SystemExit included
        message = f"Unable to import module '{module_name}': {exc}"
        return None, {"errorType": "Runtime.ImportModuleError", "errorMessage": message}
    try:
        return resolve(module, attribute), None
    except AttributeError:
        message = f"Handler '{attribute}' missing on module '{module_name}'"
        return None, {"errorType": "Runtime.HandlerNotFound", "errorMessage": message}


def _import(module_name: str, file: str | None) -> ModuleType:
    if file is None:
        return importlib.import_module(module_name)
    if module_name != "__main__":
        try:
            spec = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin is not None and _same_file(spec.origin, file):
            return importlib.import_module(module_name)
    # Not importable by its name here (a module the engine imported by path): by file.
    name = module_name if module_name != "__main__" else "__asl_main__"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"{file} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def _address_space() -> int | None:
    """Bytes of address space this process uses now (Linux), or None."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _cap_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: no cap
        return
    baseline = _address_space()
    if baseline is None:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = baseline + memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _answer(handler: Any, message: dict[str, Any], environment: Any, send: Send) -> dict[str, Any]:
    """Run one invocation in the worker, its output sent as it comes; the reply says
    whether the worker must retire."""
    fields = message["context"]
    client = fields.pop("client_context")
    context = LambdaContext(
        **fields,
        environment=environment,
        timer_deadline=time.monotonic() + message["timeout"],
        client_context=SimpleNamespace(**client) if client is not None else None,
    )
    region = context.invoked_function_arn.split(":")[3]
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = context.log_stream_name
    log = _ForwardedLog(send)
    try:
        outcome = _run_handler(handler, Event(message["event"]), context, log)
    finally:
        log.close()
    error_type = _error_type(outcome) if outcome is not None else None
    if outcome is None or error_type == "MemoryError":
        outcome = platform_error("Runtime.OutOfMemory", context.aws_request_id, _OUT_OF_MEMORY)
        error_type = "Runtime.OutOfMemory"
    return {
        "payload": outcome.payload,
        "function_error": outcome.function_error,
        "recycle": error_type in ("Runtime.OutOfMemory", "Runtime.ExitError"),
    }


def _run_handler(
    handler: Any, event: Event, context: LambdaContext, log: HandlerLog
) -> Outcome | None:
    """The handler's outcome; None when it ran out of memory even to report its error."""
    try:
        if is_coroutine_handler(handler):
            return asyncio.run(call_async(handler, event, context, log))
        return call_sync(handler, event, context, log)
    except MemoryError:
        return None


def _error_type(outcome: Outcome) -> str | None:
    if not outcome.function_error:
        return None
    try:
        body = parse_json(outcome.payload)
    except ValueError:
        return None
    error_type = body.get("errorType") if isinstance(body, dict) else None
    return error_type if isinstance(error_type, str) else None
