"""asl serve's connections over raw sockets: plain API requests answered by the server's
lean HTTP path (``runtime.service.lean_http``), anything else by aiohttp, on one
connection, in the order sent (HTTP/1.1, RFC 9112: replies to pipelined requests come
in the order of the requests)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from runtime.service.server import serve_in_thread
from runtime.service.settings import ServiceSettings


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve_in_thread(ServiceSettings()) as running:
        yield running.url


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _request(operation: str, body: dict[str, Any], extra: bytes = b"") -> bytes:
    data = json.dumps(body).encode()
    return (
        b"POST / HTTP/1.1\r\nHost: x\r\n"
        + f"X-Amz-Target: AWSStepFunctions.{operation}\r\n".encode()
        + b"Content-Type: application/x-amz-json-1.0\r\n"
        + extra
        + f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data
    )


class _Replies:
    """HTTP/1.1 replies (each with a Content-Length) read off a connection in turn."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.buffer = b""

    def _fill(self) -> None:
        chunk = self.connection.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buffer += chunk

    def next(self) -> tuple[int, dict[str, str], bytes]:
        """The next reply: its status, headers (names in lower case) and body."""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(lines[0].split(" ")[1]), headers, body

    def closed(self) -> bool:
        """Whether the server closed the connection (after every reply was read)."""
        return not self.buffer and self.connection.recv(1) == b""


def test_requests_sent_together_are_answered_in_their_order(server: str) -> None:
    with _connect(server) as connection:
        connection.sendall(
            _request("ListActivities", {})
            + _request("NoSuchOperation", {})
            + _request("DescribeActivity", {"activityArn": "nope"})
        )
        replies = _Replies(connection)
        first, second, third = replies.next(), replies.next(), replies.next()
    assert first[0] == 200 and json.loads(first[2]) == {"activities": []}
    unknown = "UnknownOperationException"
    assert second[0] == 400 and json.loads(second[2])["__type"].endswith(unknown)
    assert third[0] == 400 and json.loads(third[2])["__type"] == "InvalidArn"
    assert first[1]["content-type"] == "application/x-amz-json-1.0"
    assert second[1]["x-amzn-errortype"].endswith(unknown)
    assert len({reply[1]["x-amzn-requestid"] for reply in (first, second, third)}) == 3


def test_a_head_and_its_body_sent_apart_are_one_request(server: str) -> None:
    # botocore sends a request's head and its body in two writes.
    request = _request("CreateActivity", {"name": "apart"})
    head, _, body = request.partition(b"\r\n\r\n")
    with _connect(server) as connection:
        replies = _Replies(connection)
        connection.sendall(head + b"\r\n")
        time.sleep(0.05)
        connection.sendall(b"\r\n" + body[:5])
        time.sleep(0.05)
        connection.sendall(body[5:])
        status, _, answer = replies.next()
        connection.sendall(_request("ListActivities", {}))
        listed = json.loads(replies.next()[2])
    assert status == 200 and json.loads(answer)["activityArn"].endswith(":activity:apart")
    assert [a["name"] for a in listed["activities"]] == ["apart"]


def test_a_console_page_between_api_requests_on_one_connection(server: str) -> None:
    page = b"GET /console/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with _connect(server) as connection:
        replies = _Replies(connection)
        connection.sendall(_request("ListStateMachines", {}))
        before = replies.next()
        connection.sendall(page)
        console = replies.next()
        connection.sendall(_request("ListStateMachines", {}))
        after = replies.next()
    assert before[0] == after[0] == 200
    assert json.loads(before[2]) == json.loads(after[2]) == {"stateMachines": []}
    assert console[0] == 200 and console[1]["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "extra",
    [
        b"Connection: close\r\n",
        b"Content-Encoding: identity\r\n",
        b"X-Custom: \xc3\xa9\r\n",
        b"".join(b"X-Pad" + bytes([65 + i]) + b":" + b" " * 60 + b"\r\n" for i in range(26))
        + b"X-Custom: \xc3\xa9\r\n",
    ],
    ids=["Connection: close", "Content-Encoding", "header not ASCII", "after padded headers"],
)
def test_requests_left_to_aiohttp_are_answered_alike(server: str, extra: bytes) -> None:
    with _connect(server) as connection:
        replies = _Replies(connection)
        connection.sendall(_request("DescribeActivity", {"activityArn": "nope"}, extra))
        status, headers, body = replies.next()
    assert status == 400 and json.loads(body)["__type"] == "InvalidArn"
    assert headers["x-amzn-errortype"] == "InvalidArn"
    assert "aiohttp" in headers["server"]  # aiohttp answered it (the lean path names none)


def test_a_plain_request_is_answered_by_the_lean_path(server: str) -> None:
    with _connect(server) as connection:
        connection.sendall(_request("DescribeActivity", {"activityArn": "nope"}))
        status, headers, body = _Replies(connection).next()
    assert status == 400 and json.loads(body)["__type"] == "InvalidArn"
    assert "server" not in headers  # not aiohttp's answer, which names itself


def test_header_names_in_any_case_and_values_padded_are_read_by_the_lean_path(
    server: str,
) -> None:
    data = json.dumps({"activityArn": "nope"}).encode()
    request = (
        b"POST / HTTP/1.1\r\nhost: x\r\nx-amz-TARGET: \t AWSStepFunctions.DescribeActivity  \r\n"
        + b"CONNECTION:keep-alive\r\ncontent-length:  "
        + str(len(data)).encode()
        + b" \r\n\r\n"
        + data
    )
    with _connect(server) as connection:
        connection.sendall(request)
        status, headers, body = _Replies(connection).next()
    assert status == 400 and json.loads(body)["__type"] == "InvalidArn"
    assert "server" not in headers  # the lean path's answer


def test_a_client_done_sending_gets_its_answer_then_the_end(server: str) -> None:
    with _connect(server) as connection:
        connection.sendall(_request("ListActivities", {}))
        connection.shutdown(socket.SHUT_WR)
        replies = _Replies(connection)
        status, _, body = replies.next()
        assert replies.closed()
    assert status == 200 and "activities" in json.loads(body)
