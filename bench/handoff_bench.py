"""What it costs to run a synchronous handler off the event loop, before any work.

Usage: .venv/bin/python bench/handoff_bench.py

Prints microseconds per round trip: the event loop handing a call to one of the reused
threads that run synchronous Lambda handlers (``integrations.threads.ThreadPool``) and
getting its answer back; the least asyncio itself allows for that (one bare thread
taking calls from a queue and answering through ``loop.call_soon_threadsafe``, which
wakes the loop through its self-pipe); and, for scale, two bare threads passing a value
back and forth through locks. This is the floor under ``task_echo`` with a synchronous
handler.
"""

from __future__ import annotations

import asyncio
import queue
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


async def _bare_round_trip() -> float:
    loop = asyncio.get_running_loop()
    calls: queue.SimpleQueue[asyncio.Future[int] | None] = queue.SimpleQueue()

    def serve() -> None:
        while (future := calls.get()) is not None:
            loop.call_soon_threadsafe(future.set_result, 0)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    async def call() -> None:
        future = loop.create_future()
        calls.put(future)
        await future

    for _ in range(200):
        await call()
    started = time.perf_counter()
    for _ in range(ROUNDS):
        await call()
    elapsed = time.perf_counter() - started
    calls.put(None)
    thread.join()
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
    """Print the round trips in microseconds."""
    pool = asyncio.run(_pool_round_trip()) * 1e6
    bare = asyncio.run(_bare_round_trip()) * 1e6
    print(f"event loop -> reused handler thread -> loop  {pool:6.1f} us")
    print(f"event loop -> bare thread -> loop (asyncio)  {bare:6.1f} us")
    print(f"two bare threads, lock ping-pong            {_lock_ping_pong() * 1e6:6.1f} us")


if __name__ == "__main__":
    main()
