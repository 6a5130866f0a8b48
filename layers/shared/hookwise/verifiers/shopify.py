"""Shopify: `X-Shopify-Hmac-Sha256: <base64>` of HMAC-SHA256 over the raw body; no timestamp,
and neither `X-Shopify-Webhook-Id` nor `X-Shopify-Topic` is signed."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

from hookwise.verifiers.base import (
    Delivery,
    SignatureError,
    Verifier,
    WebhookRequest,
    from_base64,
    hmac_digest,
    require_signed,
)


class ShopifyVerifier(Verifier):
    scheme = "shopify"
    signs_identity = False

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        candidate = from_base64(request.header("x-shopify-hmac-sha256") or "")
        if not candidate:
            raise SignatureError("signature_missing")
        require_signed(secrets, request.body, [candidate])

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        webhook_id = request.header("x-shopify-webhook-id")
        return Delivery(
            event_type=request.header("x-shopify-topic") or "unknown",
            delivery_id=webhook_id,
            delivery_key=self.delivery_key(request, webhook_id),
        )

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        # Nothing in Shopify's body is per delivery, and the body is what tells deliveries
        # apart: each sample delivery is about a new resource (its own `id`).
        fresh = int(hashlib.sha256(delivery_id.encode()).hexdigest()[:12], 16)
        prepared = {**payload, "id": fresh}
        graphql_id = payload.get("admin_graphql_api_id")
        if isinstance(graphql_id, str):
            prepared["admin_graphql_api_id"] = f"{graphql_id.rpartition('/')[0]}/{fresh}"
        return prepared

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
            "X-Shopify-Hmac-Sha256": base64.b64encode(hmac_digest(secret.encode(), body)).decode(),
            # Sample names use "." where Shopify topics use "/" (orders/create).
            "X-Shopify-Topic": event_type.replace(".", "/"),
            "X-Shopify-Webhook-Id": delivery_id,
            "X-Shopify-Event-Id": delivery_id,
            "X-Shopify-Shop-Domain": "harbor-outfitters.myshopify.com",
            "Content-Type": "application/json",
        }
