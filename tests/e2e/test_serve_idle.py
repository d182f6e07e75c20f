"""Idle connections to `asl serve` are closed after the server's ``idle_seconds``
(ServiceSettings; 60 s by default, Elastic Load Balancing's default idle timeout: AWS
documents none for its endpoints), so a client that opens many connections and walks away
cannot hold the server's file descriptors; a client that comes back connects again. The
test makes the timeout short rather than sleeping long."""

from __future__ import annotations

import select
import socket
import time
from urllib.parse import urlsplit

from runtime.service import ServiceSettings, serve_in_thread
from tests.polling import until
from tests.serving import sfn_client

CONNECTIONS = 40
IDLE_SECONDS = 0.5
#: A request of the API (boto3's shape), sent before one connection idles: the idle time
#: counts from the end of the last request, not only from the connection's start.
REQUEST = (
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
    b"X-Amz-Target: AWSStepFunctions.ListStateMachines\r\nContent-Length: 2\r\n\r\n{}"
)


def _closed_by_server(connection: socket.socket) -> bool:
    """Whether the server closed the connection (end of stream; what it answered before
    is read and passed over)."""
    while select.select([connection], [], [], 0)[0]:
        try:
            if not connection.recv(65536):
                return True
        except ConnectionResetError:
            return True
    return False


def test_idle_connections_are_closed_and_clients_come_back() -> None:
    with serve_in_thread(ServiceSettings(idle_seconds=IDLE_SECONDS)) as server:
        address = urlsplit(server.url)
        opened = [
            socket.create_connection((address.hostname, address.port), timeout=5)
            for _ in range(CONNECTIONS)
        ]
        try:
            opened[0].sendall(REQUEST)  # a keep-alive connection after its answer
            until(lambda: all(_closed_by_server(c) for c in opened), bound=20)
        finally:
            for connection in opened:
                connection.close()
        sfn = sfn_client(server.url)  # no retries: each call must go through
        assert sfn.list_state_machines()["stateMachines"] == []
        time.sleep(3 * IDLE_SECONDS)  # its pooled connection closed meanwhile
        assert sfn.list_state_machines()["stateMachines"] == []


def test_a_request_coming_in_parts_is_not_idle() -> None:
    """Idle time counts from the last byte received: a head sent in two parts, each after
    less than the idle time but both after more, is answered."""
    head, body = REQUEST.split(b"Content-Length", 1)
    with serve_in_thread(ServiceSettings(idle_seconds=IDLE_SECONDS)) as server:
        address = urlsplit(server.url)
        with socket.create_connection((address.hostname, address.port), timeout=5) as client:
            time.sleep(0.7 * IDLE_SECONDS)
            client.sendall(head)
            time.sleep(0.7 * IDLE_SECONDS)
            client.sendall(b"Content-Length" + body)
            assert client.recv(65536).startswith(b"HTTP/1.1 200 ")
