"""Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]` over `<t>.<body>`; the `whsec_`
secret is used as-is (not base64-decoded); v0 entries are ignored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookwise.verifiers.base import (
    Delivery,
    SignatureError,
    Verifier,
    WebhookRequest,
    body_delivery,
    from_hex,
    hmac_digest,
    parse_timestamp,
    require_signed,
    signature_fields,
)


class StripeVerifier(Verifier):
    scheme = "stripe"
    default_tolerance = 300

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        header = request.header("stripe-signature")
        if not header:
            raise SignatureError("signature_missing")
        fields = signature_fields(header, ",")
        timestamp = parse_timestamp(next(iter(fields.get("t", [])), None))
        candidates = [d for d in (from_hex(v) for v in fields.get("v1", [])) if d]
        if not candidates:
            raise SignatureError("signature_missing")
        self.check_timestamp(timestamp)
        signed = f"{timestamp}.".encode() + request.body
        require_signed(secrets, signed, candidates)

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        data = payload if isinstance(payload, dict) else {}
        return body_delivery(request, data.get("id"), data.get("type"))

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        return {**payload, "id": f"evt_{delivery_id.replace('-', '')[:24]}", "created": timestamp}

    def sign(
        self,
        body: bytes,
        secret: str,
        *,
        url: str,
        event_type: str,
        delivery_id: str,
        timestamp: int,
    ) -> dict[str, str]:
        digest = hmac_digest(secret.encode(), f"{timestamp}.".encode() + body).hex()
        return {
            "Stripe-Signature": f"t={timestamp},v1={digest}",
            "Content-Type": "application/json; charset=utf-8",
        }

    @classmethod
    def dev_secret(cls, source_name: str) -> str:
        return f"whsec_dev_{source_name}"
