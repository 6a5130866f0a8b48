"""Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=...]` over `<ts>:<body>`."""

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


class PaddleVerifier(Verifier):
    scheme = "paddle"
    # Paddle's SDK default; a source may widen it.
    default_tolerance = 5

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        header = request.header("paddle-signature")
        if not header:
            raise SignatureError("signature_missing")
        fields = signature_fields(header, ";")
        timestamp = parse_timestamp(next(iter(fields.get("ts", [])), None))
        candidates = [d for d in (from_hex(v) for v in fields.get("h1", [])) if d]
        if not candidates:
            raise SignatureError("signature_missing")
        self.check_timestamp(timestamp)
        signed = f"{timestamp}:".encode() + request.body
        require_signed(secrets, signed, candidates)

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        data = payload if isinstance(payload, dict) else {}
        return body_delivery(request, data.get("event_id"), data.get("event_type"))

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        return {**payload, "event_id": f"evt_{delivery_id.replace('-', '')[:26]}"}

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
        digest = hmac_digest(secret.encode(), f"{timestamp}:".encode() + body).hex()
        return {
            "Paddle-Signature": f"ts={timestamp};h1={digest}",
            "Content-Type": "application/json",
        }
