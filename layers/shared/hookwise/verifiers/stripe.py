"""Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]` over `<t>.<body>`; the `whsec_`
secret is used as-is (not base64-decoded); v0 entries are ignored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookwise.domain.events import body_key
from hookwise.verifiers.base import (
    Delivery,
    SignatureError,
    Verifier,
    WebhookRequest,
    digest_matches,
    from_hex,
    hmac_digest,
    parse_timestamp,
)


class StripeVerifier(Verifier):
    scheme = "stripe"
    default_tolerance = 300

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        header = request.header("stripe-signature")
        if not header:
            raise SignatureError("signature_missing")
        fields: dict[str, list[str]] = {}
        for item in header.split(","):
            name, _, value = item.strip().partition("=")
            fields.setdefault(name.strip(), []).append(value.strip())
        timestamp = parse_timestamp(next(iter(fields.get("t", [])), None))
        candidates = [d for d in (from_hex(v) for v in fields.get("v1", [])) if d]
        if not candidates:
            raise SignatureError("signature_missing")
        self.check_timestamp(timestamp)
        signed = f"{timestamp}.".encode() + request.body
        if not any(digest_matches(hmac_digest(s.encode(), signed), candidates) for s in secrets):
            raise SignatureError("signature_invalid")

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        event_id = payload.get("id") if isinstance(payload, dict) else None
        kind = payload.get("type") if isinstance(payload, dict) else None
        return Delivery(
            event_type=str(kind or "unknown"),
            delivery_id=event_id if isinstance(event_id, str) else None,
            delivery_key=event_id if isinstance(event_id, str) else body_key(request.body),
        )

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
