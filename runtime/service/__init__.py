"""``asl serve``: the Step Functions API (AWS JSON 1.0) for unmodified AWS clients.

``wire`` speaks the protocol, ``shapes`` checks requests against botocore's service
model, the operation modules (``machines``, ``versions``, ``runs``, ``map_runs``,
``tasks``, ``tagging``, ``test_state``) answer them on a ``Backend`` (the engine and the
``catalog`` of what AWS keeps beside executions), and ``server`` runs it all.
``schedules`` (with ``schedule_entries``, ``schedule_expressions``, ``schedule_cron``)
starts executions on EventBridge Scheduler schedules.
"""

from runtime.service.server import OPERATIONS, RunningServer, build_backend, serve, serve_in_thread
from runtime.service.settings import ServiceSettings, SettingsError, from_environment

__all__ = [
    "OPERATIONS",
    "RunningServer",
    "ServiceSettings",
    "SettingsError",
    "build_backend",
    "from_environment",
    "serve",
    "serve_in_thread",
]
