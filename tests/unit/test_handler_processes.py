"""Finding the processes a handler's thread started (the check made after every call)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from integrations.handler_processes import HandlerProcesses, _has_children

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's /proc")


def _on_a_thread(work: object) -> object:
    answer: list[object] = []
    thread = threading.Thread(target=lambda: answer.append(work()))  # type: ignore[operator]
    thread.start()
    thread.join()
    return answer[0]


def test_only_the_thread_that_started_a_process_has_children() -> None:
    started: list[subprocess.Popen[bytes]] = []

    def start_one() -> bool:
        started.append(subprocess.Popen(["sleep", "30"]))
        return _has_children()

    try:
        assert _on_a_thread(_has_children) is False
        assert _on_a_thread(start_one) is True
    finally:
        for process in started:
            process.kill()
            process.wait()


def test_a_process_a_handler_thread_left_running_is_killed_at_close() -> None:
    processes = HandlerProcesses()
    started: list[subprocess.Popen[bytes]] = []

    def handler_call() -> None:
        processes.call_started()
        started.append(subprocess.Popen(["sleep", "30"]))
        processes.call_ended()

    _on_a_thread(handler_call)
    _on_a_thread(lambda: (processes.call_started(), processes.call_ended()))  # none started
    processes.kill()
    assert started[0].wait(10) == -9
