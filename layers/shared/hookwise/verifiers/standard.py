"""Standard Webhooks and Svix (the same scheme, different header prefix): `v1,<base64>`
entries, space separated, over `<id>.<timestamp>.<body>`, keyed by the base64-decoded
`whsec_` secret. Malformed entries are skipped, never raised."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar

from hookwise.verifiers.base import (
    Delivery,
    SignatureError,
    Verifier,
    WebhookRequest,
    digest_matches,
    from_base64,
    hmac_digest,
    parse_timestamp,
)

KEY_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes | None:
    return from_base64(secret.removeprefix(KEY_PREFIX))


class StandardWebhooksVerifier(Verifier):
    scheme = "standard"
    prefix: ClassVar[str] = "webhook"
    default_tolerance = 300

    def _signed(self, message_id: str, timestamp: int, body: bytes) -> bytes:
        return f"{message_id}.{timestamp}.".encode() + body

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        message_id = request.header(f"{self.prefix}-id")
        header = request.header(f"{self.prefix}-signature")
        if not message_id or not header:
            raise SignatureError("signature_missing")
        timestamp = parse_timestamp(request.header(f"{self.prefix}-timestamp"))
        candidates = []
        for entry in header.split(" "):
            version, _, value = entry.partition(",")
            decoded = from_base64(value) if version == "v1" else None
            if decoded:
                candidates.append(decoded)
        if not candidates:
            raise SignatureError("signature_missing")
        self.check_timestamp(timestamp)
        signed = self._signed(message_id, timestamp, request.body)
        for secret in secrets:
            key = secret_key(secret)
            if key and digest_matches(hmac_digest(key, signed), candidates):
                return
        raise SignatureError("signature_invalid")

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        message_id = request.header(f"{self.prefix}-id") or ""
        kind = payload.get("type") if isinstance(payload, dict) else None
        return Delivery(
            event_type=str(kind or "unknown"), delivery_id=message_id, delivery_key=message_id
        )

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
        key = secret_key(secret) or b""
        signature = base64.b64encode(hmac_digest(key, self._signed(delivery_id, timestamp, body)))
        return {
            f"{self.prefix}-id": delivery_id,
            f"{self.prefix}-timestamp": str(timestamp),
            f"{self.prefix}-signature": f"v1,{signature.decode()}",
            "Content-Type": "application/json",
        }

    @classmethod
    def dev_secret(cls, source_name: str) -> str:
        seed = hashlib.sha256(f"hookwise-dev-{source_name}".encode()).digest()[:24]
        return KEY_PREFIX + base64.b64encode(seed).decode()


class SvixVerifier(StandardWebhooksVerifier):
    scheme = "svix"
    prefix = "svix"
