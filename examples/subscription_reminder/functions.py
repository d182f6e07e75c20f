"""Lambda handlers of the subscription reminder, run locally by ``asl run --functions``.

``lookup_subscription`` reads a customer's subscription from a small sample table;
``send_reminder`` writes the reminder it would send to the outbox folder
(``OUTBOX_DIR``/<customerId>.txt) and says where it went.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

SUBSCRIPTIONS: dict[str, dict[str, Any]] = {
    "c-1042": {
        "status": "active",
        "plan": "team",
        "email": "ops@example.com",
        "expiresOn": "2025-02-01",
        "remindersSent": 1,
    },
    "c-2001": {
        "status": "cancelled",
        "plan": "solo",
        "email": "sam@example.com",
        "expiresOn": "2025-01-10",
        "remindersSent": 0,
    },
    "c-3003": {
        "status": "active",
        "plan": "solo",
        "email": "kim@example.com",
        "expiresOn": "2025-01-20",
        "remindersSent": 3,
    },
}


class UnknownCustomer(Exception):
    """No subscription is on file for the customer."""


def lookup_subscription(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The customer's subscription record."""
    customer = event["customerId"]
    if customer not in SUBSCRIPTIONS:
        raise UnknownCustomer(f"No subscription on file for {customer}")
    return SUBSCRIPTIONS[customer]


def send_reminder(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Write the reminder to the outbox; return where it went and by which channel."""
    outbox = Path(os.environ.get("OUTBOX_DIR", "out/subscription_reminder"))
    outbox.mkdir(parents=True, exist_ok=True)
    text = f"Your subscription ends on {event['expiresOn']}: renew it to keep your data.\n"
    (outbox / f"{event['customerId']}.txt").write_text(f"To: {event['email']}\n\n{text}")
    return {"sent": True, "channel": event["channel"], "to": event["email"]}
