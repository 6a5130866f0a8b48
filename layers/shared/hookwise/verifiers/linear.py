"""Linear: `Linear-Signature: <hex>` over the raw body; freshness from the body's
`webhookTimestamp`, in milliseconds, within 60 seconds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hookwise.domain.events import body_key
from hookwise.verifiers.base import (
    Delivery,
    MalformedRequest,
    SignatureError,
    Verifier,
    WebhookRequest,
    from_hex,
    hmac_digest,
    require_signed,
)


class LinearVerifier(Verifier):
    scheme = "linear"
    default_tolerance = 60

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        candidate = from_hex(request.header("linear-signature") or "")
        if not candidate:
            raise SignatureError("signature_missing")
        require_signed(secrets, request.body, [candidate])
        # The timestamp is inside the signed body, so it is checked once the body is trusted.
        payload = self.parse(request.body)
        stamp = payload.get("webhookTimestamp") if isinstance(payload, dict) else None
        if not isinstance(stamp, int | float) or isinstance(stamp, bool):
            raise SignatureError("timestamp_missing_or_malformed")
        self.check_timestamp(stamp, per_second=1000)

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        if not isinstance(payload, dict):
            raise MalformedRequest("body_not_an_object")
        # `Linear-Delivery` is not signed, but `webhookTimestamp` is: a replay under a fresh id
        # is refused once 60 s old. The body cannot be the key: a retry is signed afresh, with
        # a new timestamp (the old one would be stale), so new bytes.
        delivery = request.header("linear-delivery")
        kind = ".".join(str(p) for p in (payload.get("type"), payload.get("action")) if p)
        return Delivery(
            event_type=kind or "unknown",
            delivery_id=delivery,
            delivery_key=delivery or body_key(request.body),
        )

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        return {**payload, "webhookTimestamp": timestamp * 1000}

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
        return {
            "Linear-Signature": hmac_digest(secret.encode(), body).hex(),
            "Linear-Delivery": delivery_id,
            "Linear-Event": event_type.split(".")[0],
            "Content-Type": "application/json; charset=utf-8",
        }
