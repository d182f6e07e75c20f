"""Start a coroutine at once, and make a task of it only if it has to wait.

Most async Lambda handlers a test registers return without awaiting anything that
suspends (an echo, a stub, a computed answer). Made a task, such a handler costs a task,
a loop turn and a timer for its timeout; run in place, it costs a call. :func:`start`
runs the coroutine's first step in place, in a copy of the caller's context (as a task
would); if it ends there its result is at hand, and if it suspends, a task resumes it
from where it stopped, in the same context, so what it does next is exactly what a task
started at the beginning would have done.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Coroutine, Generator
from typing import Any, Generic, TypeVar

__all__ = ["Started", "start"]

_T = TypeVar("_T")


class Started(Generic[_T]):
    """What :func:`start` gives: the coroutine's ``result`` if its first step ended it
    (``task`` is None), else the ``task`` that goes on running it."""

    __slots__ = ("result", "task")

    def __init__(self, result: _T | None, task: asyncio.Task[_T] | None) -> None:
        self.result = result
        self.task = task


def start(coroutine: Coroutine[Any, Any, _T]) -> Started[_T]:
    """Run ``coroutine`` until it ends or first suspends (see the module). What its first
    step raises is raised here."""
    context = contextvars.copy_context()
    try:
        yielded = context.run(coroutine.send, None)
    except StopIteration as stop:
        return Started(stop.value, None)
    loop = asyncio.get_running_loop()
    return Started(None, loop.create_task(_resume(coroutine, yielded), context=context))


@types.coroutine
def _resume(coroutine: Coroutine[Any, Any, _T], yielded: Any) -> Generator[Any, Any, _T]:
    """Hand the task what the coroutine's first step yielded (the future it waits for),
    then pass each value or exception the task sends on to the coroutine."""
    while True:
        try:
            sent = yield yielded
        except BaseException as exc:  # cancellation included: the coroutine decides
            try:
                yielded = coroutine.throw(exc)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
        else:
            try:
                yielded = coroutine.send(sent)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
