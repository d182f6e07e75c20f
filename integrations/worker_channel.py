"""The channel between the engine and a worker process, over the worker's stdin and
stdout: each message a 4-byte big-endian length, then UTF-8 JSON. While an invocation
runs, the worker sends ``{"log": text}`` messages before its reply."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import IO, Any

__all__ = ["Send", "receive", "send", "sender"]

Send = Callable[[dict[str, Any]], None]


def send(stream: IO[bytes], message: dict[str, Any]) -> None:
    """Write one message."""
    data = json.dumps(message, ensure_ascii=False).encode()
    stream.write(len(data).to_bytes(4, "big") + data)
    stream.flush()


def receive(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message, or None when the other side is gone."""
    header = stream.read(4)
    if len(header) < 4:
        return None
    size = int.from_bytes(header, "big")
    body = stream.read(size)
    if len(body) < size:
        return None
    message: dict[str, Any] = json.loads(body)
    return message


def sender(stream: IO[bytes]) -> Send:
    """Send messages on ``stream``, one at a time (a handler's threads may log at once)."""
    lock = threading.Lock()

    def locked(message: dict[str, Any]) -> None:
        with lock:
            send(stream, message)

    return locked
