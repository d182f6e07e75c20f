"""The engine's end of a worker's lifeline (``integrations.lifeline``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from integrations.lifeline import Lifeline, kill_group


def test_two_threads_cutting_one_lifeline_close_its_end_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A retired worker is reaped by its own thread and by aclose at once. Had both closed
    # the end, the second close could hit the number handed meanwhile to a new worker's
    # lifeline, and that worker's guardian would kill it.
    lifeline = Lifeline()
    lifeline.hand_over()
    keep = lifeline._keep
    inside, release = threading.Event(), threading.Event()
    closes: list[int] = []
    real_close = os.close

    def close(fd: int) -> None:
        if fd == keep:
            closes.append(fd)
            if len(closes) == 1:  # hold the first cut inside its close
                inside.set()
                release.wait(5)
        real_close(fd)

    monkeypatch.setattr(os, "close", close)
    first = threading.Thread(target=lifeline.cut)
    first.start()
    assert inside.wait(5)
    lifeline.cut()
    release.set()
    first.join(5)
    assert closes == [keep]


def test_a_reaped_worker_is_not_killed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # Once reaped, the worker's pid (and so the id of the group it led) is free for the
    # system to give another process: a kill by that id could hit a stranger.
    process = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    process.wait()
    signalled: list[int] = []
    monkeypatch.setattr(os, "killpg", lambda pgid, sig: signalled.append(pgid))
    monkeypatch.setattr(os, "kill", lambda pid, sig: signalled.append(pid))
    kill_group(process)
    assert signalled == []


def test_a_running_worker_is_killed_with_its_group() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    kill_group(process)
    assert process.wait(timeout=10) == -signal.SIGKILL
