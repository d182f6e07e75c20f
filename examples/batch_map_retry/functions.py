"""Lambda handler of the batch import, run locally by ``asl run --functions``.

``import_record`` validates and normalises one contact record and writes it to the
import folder (``IMPORT_DIR``/<batchId>/<id>.json). A record another writer is saving
at the same moment is reported as ``RecordStoreBusy``, which the workflow retries.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InvalidRecord(Exception):
    """The record breaks a rule of the import format; retrying will not help."""


class RecordStoreBusy(Exception):
    """Another writer holds this record's lock; a retry a moment later usually succeeds."""


def import_record(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Validate, normalise and store one record; return its id, index and status."""
    record = _normalise(event["record"])
    folder = Path(os.environ.get("IMPORT_DIR", "out/batch_map_retry")) / event["batchId"]
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / f"{record['id']}.lock"
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise RecordStoreBusy(f"Record {record['id']} is being written by another import") from None
    try:
        (folder / f"{record['id']}.json").write_text(json.dumps(record, indent=2))
    finally:
        os.close(fd)
        lock.unlink()
    return {"index": event["index"], "id": record["id"], "status": "imported"}


def _normalise(record: dict[str, Any]) -> dict[str, Any]:
    record_id = str(record.get("id", ""))
    if not RECORD_ID.match(record_id):
        raise InvalidRecord(f"id {record_id!r} is not a valid record id")
    email = str(record.get("email", "")).strip().lower()
    if not EMAIL.match(email):
        raise InvalidRecord(f"record {record_id}: email {record.get('email')!r} is not valid")
    name = " ".join(str(record.get("name", "")).split())
    if not name:
        raise InvalidRecord(f"record {record_id}: name is missing")
    country = str(record.get("country", "")).strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidRecord(f"record {record_id}: country {country!r} is not an ISO 3166 code")
    try:
        signed_up = date.fromisoformat(str(record.get("signupDate")))
    except ValueError:
        raise InvalidRecord(f"record {record_id}: signupDate is not a date") from None
    return {
        "id": record_id,
        "email": email,
        "name": name.title() if name.islower() or name.isupper() else name,
        "country": country,
        "signupDate": signed_up.isoformat(),
    }
