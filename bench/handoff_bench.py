"""What it costs to run a synchronous handler off the event loop, before any work.

Usage: .venv/bin/python bench/handoff_bench.py

Prints microseconds per round trip: the event loop handing a call to one of the reused
threads that run synchronous Lambda handlers (``integrations.threads.ThreadPool``) and
getting its answer back; and, for scale, two bare threads passing a value back and
forth through locks. This is the floor under ``task_echo`` with a synchronous handler.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.threads import ThreadPool

ROUNDS = 20_000


async def _pool_round_trip() -> float:
    pool = ThreadPool("bench")
    for _ in range(200):
        await pool.submit(int)
    started = time.perf_counter()
    for _ in range(ROUNDS):
        await pool.submit(int)
    elapsed = time.perf_counter() - started
    pool.close()
    return elapsed / ROUNDS


def _lock_ping_pong() -> float:
    there, back = threading.Lock(), threading.Lock()
    there.acquire()
    back.acquire()
    stop = False

    def partner() -> None:
        while True:
            there.acquire()
            if stop:
                return
            back.release()

    thread = threading.Thread(target=partner, daemon=True)
    thread.start()
    started = time.perf_counter()
    for _ in range(ROUNDS):
        there.release()
        back.acquire()
    elapsed = time.perf_counter() - started
    stop = True
    there.release()
    thread.join()
    return elapsed / ROUNDS


def main() -> None:
    """Print both round trips in microseconds."""
    pool = asyncio.run(_pool_round_trip()) * 1e6
    print(f"event loop -> reused handler thread -> loop  {pool:6.1f} us")
    print(f"two bare threads, lock ping-pong            {_lock_ping_pong() * 1e6:6.1f} us")


if __name__ == "__main__":
    main()
