"""The embedded default: moto's server in this process, so AWS Tasks run with no setup.

When no endpoint is configured, the AWS integrations start one moto server on a free
loopback port (``127.0.0.1``, port 0 -> the port the OS picked) the first time a Task
needs it, send every call there, and stop it when the process exits. moto keeps its
state in memory, shared by every moto server of the process.
"""

from __future__ import annotations

import atexit
import logging
import threading
from typing import Any

__all__ = ["EmbeddedMoto", "embedded_endpoint_url"]

_log = logging.getLogger(__name__)


class EmbeddedMoto:
    """One moto server, started on first use and stopped at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Any = None
        self._url: str | None = None

    @property
    def url(self) -> str | None:
        """The server's URL, or None while it is not running."""
        return self._url

    def endpoint_url(self) -> str:
        """The server's URL, starting it if needed (blocking: call from a thread)."""
        with self._lock:
            if self._url is None:
                self._url = self._start()
            return self._url

    def _start(self) -> str:
        from moto.server import ThreadedMotoServer  # heavy: imported only when used

        _quiet_request_log()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        atexit.register(self.stop)
        url = f"http://{host}:{port}"
        _log.info("embedded moto server listening on %s", url)
        return url

    def stop(self) -> None:
        """Stop the server if it runs (a later call to :meth:`endpoint_url` starts a new one)."""
        with self._lock:
            server, self._server, self._url = self._server, None, None
        if server is not None:
            server.stop()


def _quiet_request_log() -> None:
    """werkzeug logs every request at INFO to stderr unless its logger has a level."""
    logger = logging.getLogger("werkzeug")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


_EMBEDDED = EmbeddedMoto()


def embedded_endpoint_url() -> str:
    """The URL of this process's embedded moto server, started on first call (blocking)."""
    return _EMBEDDED.endpoint_url()
