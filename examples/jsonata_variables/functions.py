"""Lambda handlers of the cart quote, run locally by ``asl run --functions``.

``price_item`` prices one cart line from the catalogue below; ``quote_shipping`` picks
the cheapest carrier for the destination and parcel weight.
"""

from __future__ import annotations

import os
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")

# sku -> name, price per currency, shipping weight of one unit in kg
CATALOGUE: dict[str, dict[str, Any]] = {
    "TEA-GREEN-100": {
        "name": "Green tea, 100 g",
        "price": {"EUR": "6.40", "USD": "6.90"},
        "kg": "0.12",
    },
    "MUG-STONE-350": {
        "name": "Stoneware mug 350 ml",
        "price": {"EUR": "14.00", "USD": "15.00"},
        "kg": "0.45",
    },
    "KETTLE-GOOSE-1L": {
        "name": "Gooseneck kettle 1 l",
        "price": {"EUR": "39.90", "USD": "42.00"},
        "kg": "1.10",
    },
    "INFUSER-STEEL": {
        "name": "Steel tea infuser",
        "price": {"EUR": "5.50", "USD": "5.90"},
        "kg": "0.05",
    },
}

# country -> carriers as (carrier, service, base price, price per kg, days)
CARRIERS: dict[str, list[tuple[str, str, str, str, int]]] = {
    "PT": [("CTT", "Expresso 48", "3.90", "0.80", 2), ("DPD", "Classic", "4.50", "0.40", 2)],
    "ES": [("DPD", "Classic", "6.90", "0.60", 3), ("GLS", "Business", "7.50", "0.35", 3)],
    "FR": [("Colissimo", "International", "9.80", "1.20", 4)],
    "US": [("UPS", "Worldwide Saver", "24.00", "4.50", 5)],
}


class UnknownSku(Exception):
    """The cart names a product the catalogue does not have."""


class NoCarrierAvailable(Exception):
    """No carrier delivers to the destination."""


def price_item(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One priced cart line: unit price, line total and shipping weight."""
    product = CATALOGUE.get(event["sku"])
    if product is None:
        raise UnknownSku(f"No product with SKU {event['sku']}")
    quantity = int(event["quantity"])
    unit_price = Decimal(product["price"][event["currency"]])
    return {
        "line": event["line"],
        "sku": event["sku"],
        "name": product["name"],
        "quantity": quantity,
        "unitPrice": float(unit_price),
        "lineTotal": float((unit_price * quantity).quantize(CENT, ROUND_HALF_UP)),
        "weightKg": float(Decimal(product["kg"]) * quantity),
    }


def quote_shipping(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The cheapest carrier for the parcel; free above ``FREE_SHIPPING_FROM``."""
    options = CARRIERS.get(event["country"])
    if not options:
        raise NoCarrierAvailable(f"No carrier delivers to {event['country']}")
    weight = Decimal(str(event["weightKg"]))
    cheapest = min(options, key=lambda option: _price(option, weight))
    carrier, service, _, _, days = cheapest
    cost = _price(cheapest, weight)
    free_from = Decimal(os.environ.get("FREE_SHIPPING_FROM", "75"))
    if Decimal(str(event["orderValue"])) >= free_from:
        cost = Decimal(0)
    return {
        "carrier": carrier,
        "service": service,
        "cost": float(cost),
        "currency": event["currency"],
        "estimatedDays": days,
    }


def _price(option: tuple[str, str, str, str, int], weight: Decimal) -> Decimal:
    base, per_kg = Decimal(option[2]), Decimal(option[3])
    return (base + per_kg * weight).quantize(CENT, ROUND_HALF_UP)
