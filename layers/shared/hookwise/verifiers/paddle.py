"""Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=...]` over `<ts>:<body>`."""

from __future__ import annotations

from typing import Any

from hookwise.verifiers.base import Delivery, WebhookRequest, body_delivery
from hookwise.verifiers.timestamped_list import TimestampedListVerifier


class PaddleVerifier(TimestampedListVerifier):
    scheme = "paddle"
    # Paddle's SDK default; a source may widen it.
    default_tolerance = 5
    header = "Paddle-Signature"
    separator = ";"
    timestamp_field = "ts"
    signature_field = "h1"
    joiner = ":"

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        data = payload if isinstance(payload, dict) else {}
        return body_delivery(request, data.get("event_id"), data.get("event_type"))

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        return {**payload, "event_id": f"evt_{delivery_id.replace('-', '')[:26]}"}
