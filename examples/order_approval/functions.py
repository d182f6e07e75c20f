"""Lambda handlers of the order workflow, run locally by ``asl run --functions``.

Everything they change lives under ``out/order_approval/`` (see ``functions.json``):
charges are recorded in a ledger, confirmation e-mails land in an outbox folder, and
stock levels start from ``stock.json`` on first use.
"""

from __future__ import annotations

import hashlib
import json
import os
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CENT = Decimal("0.01")


class InvalidOrder(Exception):
    """The order cannot be processed as submitted."""


class PaymentDeclined(Exception):
    """The payment provider refused the charge."""


class OutOfStock(Exception):
    """A line asks for more units than the warehouse holds."""


def validate_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Check the order's lines and price it: subtotal, tax and total in the order currency."""
    items = event.get("items")
    if not isinstance(items, list) or not items:
        raise InvalidOrder("An order needs at least one line")
    subtotal = Decimal(0)
    for number, line in enumerate(items, start=1):
        quantity, price = line.get("quantity"), line.get("unitPrice")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise InvalidOrder(f"Line {number}: quantity must be a positive whole number")
        if not isinstance(price, (int, float)) or isinstance(price, bool) or price < 0:
            raise InvalidOrder(f"Line {number}: unitPrice must be a non-negative number")
        subtotal += Decimal(str(price)) * quantity
    tax_rate = Decimal(os.environ.get("TAX_RATE", "0.08"))
    tax = (subtotal * tax_rate).quantize(CENT, ROUND_HALF_UP)
    return {
        "orderId": event["orderId"],
        "lineCount": len(items),
        "subtotal": float(subtotal.quantize(CENT)),
        "tax": float(tax),
        "total": float(subtotal.quantize(CENT) + tax),
        "currency": event.get("currency", "USD"),
    }


def charge_payment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Charge the customer's payment token once per order (a second call is a no-op)."""
    token, amount = event["paymentToken"], event["amount"]
    if token.startswith("tok_declined"):
        raise PaymentDeclined(f"Card declined for order {event['orderId']}")
    charge_id = "ch_" + hashlib.sha256(event["orderId"].encode()).hexdigest()[:16]
    ledger = _out_dir() / "charges.jsonl"
    if charge_id not in _read(ledger):
        record = {"chargeId": charge_id, "orderId": event["orderId"], "amount": amount}
        with ledger.open("a") as f:
            f.write(json.dumps({**record, "currency": event["currency"]}) + "\n")
    return {"chargeId": charge_id, "amount": amount, "currency": event["currency"]}


def send_confirmation(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Write the confirmation e-mail to the outbox folder."""
    outbox = _out_dir() / "outbox"
    outbox.mkdir(exist_ok=True)
    lines = "\n".join(f"  {i['quantity']} x {i['name']}" for i in event["items"])
    message = (
        f"From: {os.environ.get('SENDER', 'orders@example.com')}\n"
        f"To: {event['email']}\n"
        f"Subject: Your order {event['orderId']} is confirmed\n\n"
        f"Hello {event['name']},\n\nWe have charged {event['total']:.2f} {event['currency']}"
        f" (charge {event['chargeId']}) for:\n{lines}\n"
    )
    path = outbox / f"{event['orderId']}.eml"
    path.write_text(message)
    return {"messageFile": str(path), "to": event["email"]}


def update_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Take the ordered units out of stock; return what is left of each item."""
    path = _out_dir() / "stock.json"
    stock = json.loads(path.read_text() if path.exists() else (HERE / "stock.json").read_text())
    for item in event["items"]:
        left = stock.get(item["sku"], 0) - item["quantity"]
        if left < 0:
            raise OutOfStock(f"Only {stock.get(item['sku'], 0)} of {item['sku']} left")
        stock[item["sku"]] = left
    path.write_text(json.dumps(stock, indent=2))
    return {
        "orderId": event["orderId"],
        "remaining": {i["sku"]: stock[i["sku"]] for i in event["items"]},
    }


def _out_dir() -> Path:
    out = Path(os.environ.get("ORDER_DATA_DIR", "out/order_approval"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def _read(ledger: Path) -> set[str]:
    if not ledger.exists():
        return set()
    return {json.loads(line)["chargeId"] for line in ledger.read_text().splitlines() if line}
