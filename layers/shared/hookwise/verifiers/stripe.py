"""Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]` over `<t>.<body>`; the `whsec_`
secret is used as-is (not base64-decoded); v0 entries are ignored."""

from __future__ import annotations

from typing import Any

from hookwise.verifiers.base import Delivery, WebhookRequest, body_delivery
from hookwise.verifiers.timestamped_list import TimestampedListVerifier


class StripeVerifier(TimestampedListVerifier):
    scheme = "stripe"
    default_tolerance = 300
    header = "Stripe-Signature"
    separator = ","
    timestamp_field = "t"
    signature_field = "v1"
    joiner = "."
    content_type = "application/json; charset=utf-8"

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        data = payload if isinstance(payload, dict) else {}
        return body_delivery(request, data.get("id"), data.get("type"))

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        return {**payload, "id": f"evt_{delivery_id.replace('-', '')[:24]}", "created": timestamp}

    @classmethod
    def dev_secret(cls, source_name: str) -> str:
        return f"whsec_dev_{source_name}"
