"""A measuring probe, for benchmarks only (never imported by the engine): with
``bench/activation_probe`` first on ``PYTHONPATH`` and ``ASL_ACTIVATION_LOG`` naming a
file, every Temporal workflow activation of the process is written there as a JSON line:
its workflow's type and id, whether it is the run's first activation and a replay, the
CPU time of the activation's thread and its wall time (what the SDK's deadlock detector
counts, two seconds at most), the collector's time during it and its full (generation
2) collections, and how many activations ran at once.

It wraps ``temporalio.worker._workflow._RunningWorkflow.activate``, a private method of
temporalio 1.35 (the version pinned here): a measuring aid, not something to lean on.
"""

import os

if os.environ.get("ASL_ACTIVATION_LOG"):
    import gc
    import json
    import threading
    import time

    import temporalio.worker._workflow as _workflow

    _LOG = os.environ["ASL_ACTIVATION_LOG"]
    _LOCK = threading.Lock()
    _SEEN: set[str] = set()
    _NOW = {"active": 0, "gc": 0.0, "gc_start": 0.0, "full": 0}
    _ACTIVATE = _workflow._RunningWorkflow.activate

    def _on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            _NOW["gc_start"] = time.perf_counter()
            return
        _NOW["gc"] += time.perf_counter() - _NOW["gc_start"]
        _NOW["full"] += info.get("generation") == 2

    def _activate(self, act):  # type: ignore[no-untyped-def]
        with _LOCK:
            _NOW["active"] += 1
            at_once, first = _NOW["active"], act.run_id not in _SEEN
            _SEEN.add(act.run_id)
        gc0, full0 = _NOW["gc"], _NOW["full"]
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        try:
            return _ACTIVATE(self, act)
        finally:
            cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
            with _LOCK:
                _NOW["active"] -= 1
            info = self.instance.get_info()
            record = {
                "pid": os.getpid(), "type": info.workflow_type, "id": info.workflow_id,
                "first": first, "replay": act.is_replaying, "cpu": cpu, "wall": wall,
                "gc": _NOW["gc"] - gc0, "full_gc": _NOW["full"] - full0, "at_once": at_once,
                "jobs": [job.WhichOneof("variant") for job in act.jobs][:3],
            }  # fmt: skip
            with _LOCK, open(_LOG, "a") as out:
                out.write(json.dumps(record) + "\n")

    gc.callbacks.append(_on_gc)
    _workflow._RunningWorkflow.activate = _activate
