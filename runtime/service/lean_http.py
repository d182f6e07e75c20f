"""The API's plainest requests served without aiohttp's machinery; aiohttp serves the rest.

Each connection starts on a :class:`LeanConnection`. A request that comes whole (head and
body in the bytes received so far) as ``POST / HTTP/1.1`` with a ``Content-Length`` and
none of the headers that change how a message is read (``Transfer-Encoding``,
``Content-Encoding``, ``Expect``, ``Upgrade``, a ``Connection`` other than
``keep-alive``) is answered here through :class:`runtime.service.wire.Api`, the same
code aiohttp's handler calls: what every AWS SDK sends. Anything else (a request not yet
whole, a console page, a header line this parser is unsure of) and the connection is
handed, with the bytes not yet answered, to aiohttp's own handler, which serves it from
then on exactly as it serves every connection without this module. So aiohttp still
judges every request it would refuse, and the answers are the same; what is saved is
aiohttp's per-request objects (a request, its stream, its headers' multidict, a
response), a few hops of the event loop, and routing.

Replies go out in the order the requests came (one request of a connection at a time);
a client that does not read its replies stops being read (the transport's write buffer
pauses it). A connection idle for the server's ``idle_seconds`` is closed, as aiohttp
closes its own.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

from aiohttp import web

from runtime.service import wire
from runtime.service.errors import RequestTimeout
from runtime.service.wire import MAX_BODY_BYTES, Api, Reply

__all__ = ["LeanServer"]

#: A head longer than this is left to aiohttp (whose limit for a line is 8,190 bytes).
_MAX_HEAD_BYTES = 8190
#: Bytes a busy connection may hold unanswered before it stops being read.
_MAX_BUFFERED = 64 * 1024
#: Headers after which aiohttp reads the message (its body, its connection) its own way.
_HANDED_OVER = frozenset({b"transfer-encoding", b"content-encoding", b"expect", b"upgrade"})
_REQUEST_LINE = b"POST / HTTP/1.1"
#: The header lines after the request line, each as read here: a token, a colon, a value
#: of printable ASCII and tabs (with its spaces around it; each byte matched one way only,
#: so a head that does not match is found so in one pass).
_FIELDS = re.compile(rb"(?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\x20-\x7e\t]*)*")
#: A header line read here (among fields that :data:`_FIELDS` matched): those above, and
#: these.
_NOTED = re.compile(
    rb"\r\n(content-length|x-amz-target|connection|transfer-encoding|content-encoding|expect"
    rb"|upgrade):([\x20-\x7e\t]*)",
    re.IGNORECASE,
)
_REASONS = {status.value: status.phrase for status in HTTPStatus}


class _Date:
    """The ``Date`` header's value, made once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def __call__(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second, self._text = second, formatdate(second, usegmt=True)
        return self._text


@dataclass(slots=True)  # one a request: not frozen, whose __init__ costs more
class _Head:
    """A plain request's head: its ``X-Amz-Target``, where its body starts and ends."""

    target: str
    start: int
    end: int


#: What :func:`_head` says of a head not all come yet (its bytes so far plain enough).
_WAIT = "wait"


def _head(buffer: bytearray) -> _Head | str | None:
    """The head of the request ``buffer`` starts with, when it is plain enough to answer
    here; ``_WAIT`` while it has not all come; None for one aiohttp is to read."""
    end = buffer.find(b"\r\n\r\n", 0, _MAX_HEAD_BYTES + 4)
    if end < 0:
        return _WAIT if len(buffer) <= _MAX_HEAD_BYTES else None
    if not buffer.startswith(_REQUEST_LINE):
        return None
    fields = bytes(buffer[len(_REQUEST_LINE) : end])
    if _FIELDS.fullmatch(fields) is None:
        return None
    target: str | None = None
    length = None
    for field in _NOTED.finditer(fields):
        name = field[1].lower()
        if name in _HANDED_OVER:
            return None
        value = field[2].strip(b" \t")
        if name == b"content-length":
            if length is not None or not value.isdigit():
                return None
            length = int(value)
        elif name == b"x-amz-target":
            if target is None:
                target = value.decode("ascii")
        elif value.lower() != b"keep-alive":  # Connection
            return None
    if length is None or length > MAX_BODY_BYTES:
        return None
    return _Head(target or "", end + 4, end + 4 + length)


def _message(reply: Reply, date: str) -> bytes:
    head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, '')}"]
    head.extend(f"{name}: {value}" for name, value in reply.headers.items())
    head.append(f"Content-Length: {len(reply.body)}")
    head.append(f"Date: {date}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body


class LeanServer:
    """Listens for the API: each connection a :class:`LeanConnection` on ``api``, handed to
    ``fallback`` (aiohttp's server of the application) for what it does not answer."""

    def __init__(self, api: Api, fallback: web.Server, idle_seconds: float) -> None:
        self.api = api
        self.fallback = fallback
        self.idle_seconds = idle_seconds
        self.date = _Date()
        self._connections: set[LeanConnection] = set()
        self._listener: asyncio.Server | None = None
        self._sweeper: asyncio.TimerHandle | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host`` and ``port`` (0: a free one); the port bound."""
        loop = asyncio.get_running_loop()
        self._listener = await loop.create_server(self._connection, host, port)
        self._sweeper = loop.call_later(self.idle_seconds / 5, self._sweep)
        return int(self._listener.sockets[0].getsockname()[1])

    def _connection(self) -> LeanConnection:
        return LeanConnection(self)

    def opened(self, connection: LeanConnection) -> None:
        """A connection began (here)."""
        self._connections.add(connection)

    def closed(self, connection: LeanConnection) -> None:
        """A connection ended, or was handed to aiohttp."""
        self._connections.discard(connection)

    def _sweep(self) -> None:
        """Close the connections idle for ``idle_seconds`` (checked every fifth of it, so
        closed within 1.2 times it); again in a while."""
        idle_since = time.monotonic() - self.idle_seconds
        for connection in list(self._connections):
            connection.close_if_idle(idle_since)
        loop = asyncio.get_running_loop()
        self._sweeper = loop.call_later(self.idle_seconds / 5, self._sweep)

    async def stop(self, grace: float) -> None:
        """Stop listening, close idle connections, give busy ones ``grace`` seconds to
        answer, then close them too."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._listener is not None:
            self._listener.close()
        deadline = time.monotonic() + grace
        while True:
            for connection in list(self._connections):
                connection.close_if_idle(float("inf"))
            if not self._connections or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.05)
        for connection in list(self._connections):
            connection.abort()
        if self._listener is not None:
            await self._listener.wait_closed()


class LeanConnection(asyncio.Protocol):
    """One connection: its plain API requests answered here, one at a time, until it sends
    something else; then aiohttp's handler takes it over."""

    def __init__(self, server: LeanServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        #: The head of the request whose body is coming, once read.
        self._head: _Head | None = None
        #: When the body of that request is late (``wire.BODY_SECONDS``).
        self._late: asyncio.TimerHandle | None = None
        self._busy = False
        self._eof = False
        self._close_after = False
        self._paused_reading = False
        self._paused_writing = False
        self._write_resumed: asyncio.Future[None] | None = None
        self._handed_over = False
        self._task: asyncio.Task[None] | None = None
        self._last_active = time.monotonic()

    def connection_made(self, transport: Any) -> None:
        self._transport = transport
        self._server.opened(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._last_active = time.monotonic()  # a head coming in parts is not idle
        if not self._busy:
            self._next()
        elif len(self._buffer) > _MAX_BUFFERED and not self._paused_reading:
            self._pause_reading(True)

    def eof_received(self) -> bool | None:
        self._eof = True
        if not self._busy:  # else once its reply is written
            self._next()
        return True  # closed by _next (or by aiohttp's handler, once handed over)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._transport = None
        self._server.closed(self)
        if self._late is not None:
            self._late.cancel()
        if self._write_resumed is not None and not self._write_resumed.done():
            self._write_resumed.set_result(None)

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        if self._write_resumed is not None and not self._write_resumed.done():
            self._write_resumed.set_result(None)

    def close_if_idle(self, idle_since: float) -> None:
        """Close the connection when no request is under way and it has been idle since
        before ``idle_since`` (a monotonic time; infinity: idle at all)."""
        idle = not self._busy and self._head is None
        if idle and self._last_active < idle_since and self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close the connection now, whatever is under way."""
        if self._transport is not None:
            self._transport.abort()

    def _next(self) -> None:
        """Answer the request the buffer starts with once it has all come, if it can be
        answered here; hand the connection over when it holds anything else."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if not self._buffer:
            if self._eof:
                transport.close()
            return
        head = self._head
        if head is None:
            read = _head(self._buffer)
            if read is None:
                self._hand_over()
                return
            if not isinstance(read, _Head):  # not all come yet
                if self._eof:  # and never will: no one to answer
                    transport.close()
                return
            head = self._head = read
        if len(self._buffer) < head.end:
            if self._eof:  # the client hung up mid-body: no one to answer
                transport.close()
            elif self._late is None:
                loop = asyncio.get_running_loop()
                self._late = loop.call_later(wire.BODY_SECONDS, self._body_late)
            return
        if self._late is not None:
            self._late.cancel()
            self._late = None
        body = bytes(self._buffer[head.start : head.end])
        del self._buffer[: head.end]
        self._head = None
        self._start(head.target, body)

    def _body_late(self) -> None:
        """The body of the request under way did not come within ``wire.BODY_SECONDS``:
        answered ``RequestTimeout``, as aiohttp's handler answers it, and the connection
        closed (what is left of the body could not be told from a next request)."""
        self._late = None
        head, self._head = self._head, None
        self._buffer.clear()
        self._close_after = True
        if head is not None:
            self._start(head.target, None)

    def _start(self, target: str, body: bytes | None) -> None:
        self._busy = True
        self._task = asyncio.get_running_loop().create_task(self._answer(target, body))

    async def _answer(self, target: str, body: bytes | None) -> None:
        """Answer a request (``body`` None: it never came) and go on to the next."""

        async def read() -> bytes:
            if body is None:
                raise RequestTimeout()
            return body

        reply = await self._server.api.answer(target, read)
        transport = self._transport
        if reply is not None and transport is not None and not transport.is_closing():
            transport.write(_message(reply, self._server.date()))
            if self._close_after:
                transport.close()
            elif self._paused_writing:  # a client not reading its replies: wait for it
                self._write_resumed = asyncio.get_running_loop().create_future()
                await self._write_resumed
                self._write_resumed = None
        self._busy = False
        self._task = None
        self._last_active = time.monotonic()
        if self._paused_reading:
            self._pause_reading(False)
        self._next()

    def _pause_reading(self, pause: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if pause:
            transport.pause_reading()
        else:
            transport.resume_reading()
        self._paused_reading = pause

    def _hand_over(self) -> None:
        """aiohttp's handler serves the connection from here on, from the bytes not yet
        answered (and the end of the client's stream, if it came)."""
        transport = self._transport
        if transport is None or self._handed_over:
            return
        self._handed_over = True
        self._server.closed(self)
        if self._late is not None:
            self._late.cancel()
            self._late = None
        handler: Any = self._server.fallback()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        if self._paused_writing:
            handler.pause_writing()
        if self._paused_reading:
            self._pause_reading(False)
        pending, self._buffer = bytes(self._buffer), bytearray()
        if pending:
            handler.data_received(pending)
        if self._eof and not handler.eof_received():
            transport.close()
