"""The web console of ``asl serve``: HTML pages under ``/console/`` on the API's port.

``html`` renders (every value escaped), ``pages`` answers the GET routes, ``actions``
the forms (each one an API operation, called through the same code as ``POST /``),
``live`` pushes a running execution's changes as server-sent events, and ``guard``
holds the access token and the cross-site request checks.
"""

from runtime.service.console.guard import is_loopback
from runtime.service.console.routes import add_console

__all__ = ["add_console", "is_loopback"]
