"""Lambda handlers of the scheduled clean-up, run locally by ``asl run --functions``.

The "table" is a folder with one JSON file per session (``SESSION_STORE``). The first
run fills it from ``seed_sessions.json``; delete the folder to start again. One file per
item keeps concurrent deletes (the Map runs five at a time) independent of each other.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class SessionLocked(Exception):
    """Another process holds the session; deleting it now would race with that process."""


def list_expired(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The oldest sessions that expired before ``asOf``, at most ``limit`` of them."""
    as_of = _timestamp(event["asOf"])
    limit = int(event.get("limit", 10))
    sessions = [json.loads(p.read_text()) for p in sorted(_store().glob("*.json"))]
    expired = sorted(
        (s for s in sessions if _timestamp(s["expiresAt"]) < as_of),
        key=lambda s: (s["expiresAt"], s["id"]),
    )
    batch = expired[:limit]
    return {
        "asOf": event["asOf"],
        "items": batch,
        "count": len(batch),
        "remainingAfterBatch": len(expired) - len(batch),
    }


def delete_item(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Delete one session; deleting one that is already gone is not an error."""
    store = _store()
    session_id = event["id"]
    if (store / f"{session_id}.lock").exists():
        raise SessionLocked(f"Session {session_id} is locked by another process")
    path = store / f"{session_id}.json"
    existed = path.exists()
    path.unlink(missing_ok=True)
    return {"id": session_id, "deleted": existed}


def _store() -> Path:
    store = Path(os.environ.get("SESSION_STORE", "out/scheduled_cleanup/sessions"))
    if not store.exists():
        seed = json.loads((HERE / "seed_sessions.json").read_text())
        store.mkdir(parents=True)
        for session in seed["sessions"]:
            (store / f"{session['id']}.json").write_text(json.dumps(session, indent=2))
    return store


def _timestamp(text: str) -> datetime:
    # fromisoformat accepts the trailing "Z" from Python 3.11 on.
    return datetime.fromisoformat(text)
