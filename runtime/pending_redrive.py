"""The children a redriven Map Run is to run again, while they wait for it
(DescribeMapRun's ``pendingRedrive``).

AWS's API reference (MapRunExecutionCounts, MapRunItemCounts): ``pendingRedrive`` is
"the number of unsuccessful child workflow executions currently waiting to be redriven.
The status of these child workflow executions could be FAILED, ABORTED, or TIMED_OUT in
the original execution attempt or a previous redrive attempt"; the "Redriving Map Runs"
page: a redriven Map Run at its concurrency limit holds the rest of them pending, and
"when a Map Run has completed its execution or is aborted, the count of child workflow
executions in the Pending redrive state is reset to 0". They are read from the Map Run's
children stored with the execution's end (:mod:`runtime.stored_map_runs` writes them),
which a redrive of the execution reads before its replay writes them anew.
"""

from __future__ import annotations

from asl.jsontext import parse_json
from runtime.history import History
from runtime.journal import DurableHistory

__all__ = ["awaiting_redrive"]

_UNSUCCESSFUL = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})


def awaiting_redrive(history: History, map_run_arn: str) -> dict[int, int]:
    """The unsuccessful children (their index: their item count) the current redrive of
    the execution whose history this is runs again in the Map Run ``map_run_arn``; none
    unless that redrive redrove the Map Run (a Map Run's ``MapRunRedriven`` follows its
    execution's latest ``ExecutionRedriven``), nor for the children past the history
    length a redrive allows, which it leaves as they ended."""
    if not isinstance(history, DurableHistory) or not history.log.redrives:
        return {}
    if not _redriven_now(history, map_run_arn):
        return {}
    log = history.log
    waiting: dict[int, int] = {}
    for _, body, _ in log.store.map_run_children(log.arn, map_run_arn):
        fields = parse_json(body)
        if fields.get("status") in _UNSUCCESSFUL and not fields.get("past_redrive_limit"):
            waiting[fields["index"]] = fields.get("item_count", 1)
    return waiting


def _redriven_now(history: History, map_run_arn: str) -> bool:
    """Whether a ``MapRunRedriven`` of the Map Run follows the latest ``ExecutionRedriven``
    (the history read from its end back to that event)."""
    for event in reversed(history):
        if event.type == "ExecutionRedriven":
            return False
        if event.type == "MapRunRedriven" and (event.details or {}).get("mapRunArn") == map_run_arn:
            return True
    return False
