"""Slack and Zoom sign alike: `v0=<hex>` of HMAC-SHA256 over `v0:<timestamp>:<body>`, with the
timestamp in its own header. One implementation, two header sets."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from hookwise.domain.events import body_key
from hookwise.verifiers.base import (
    Delivery,
    HandshakeReply,
    SignatureError,
    Verifier,
    WebhookRequest,
    body_delivery,
    digest_matches,
    from_hex,
    hmac_digest,
    parse_timestamp,
)


class TimestampedHexVerifier(Verifier):
    signature_header: ClassVar[str]
    timestamp_header: ClassVar[str]
    default_tolerance = 300

    @staticmethod
    def signature(secret: str, timestamp: int, body: bytes) -> bytes:
        return hmac_digest(secret.encode(), f"v0:{timestamp}:".encode() + body)

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        header = request.header(self.signature_header) or ""
        candidate = from_hex(header[3:]) if header.startswith("v0=") else None
        if not candidate:
            raise SignatureError("signature_missing")
        timestamp = parse_timestamp(request.header(self.timestamp_header))
        self.check_timestamp(timestamp)
        if not any(
            digest_matches(self.signature(s, timestamp, request.body), [candidate]) for s in secrets
        ):
            raise SignatureError("signature_invalid")

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
            self.signature_header: "v0=" + self.signature(secret, timestamp, body).hex(),
            self.timestamp_header: str(timestamp),
            "Content-Type": "application/json",
        }


class SlackVerifier(TimestampedHexVerifier):
    scheme = "slack"
    signature_header = "x-slack-signature"
    timestamp_header = "x-slack-request-timestamp"

    def handshake(
        self, request: WebhookRequest, payload: Any, secrets: Sequence[str]
    ) -> HandshakeReply | None:
        if isinstance(payload, dict) and payload.get("type") == "url_verification":
            return HandshakeReply(body=json.dumps({"challenge": payload.get("challenge", "")}))
        return None

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        data = payload if isinstance(payload, dict) else {}
        inner = data.get("event")
        inner = inner if isinstance(inner, dict) else {}
        return body_delivery(request, data.get("event_id"), inner.get("type") or data.get("type"))

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        return {
            **payload,
            "event_id": f"Ev{delivery_id.replace('-', '')[:16].upper()}",
            "event_time": timestamp,
        }


class ZoomVerifier(TimestampedHexVerifier):
    scheme = "zoom"
    signature_header = "x-zm-signature"
    timestamp_header = "x-zm-request-timestamp"

    def handshake(
        self, request: WebhookRequest, payload: Any, secrets: Sequence[str]
    ) -> HandshakeReply | None:
        if not (isinstance(payload, dict) and payload.get("event") == "endpoint.url_validation"):
            return None
        inner = payload.get("payload")
        inner = inner if isinstance(inner, dict) else {}
        token = str(inner.get("plainToken", ""))
        # Zoom checks the token against the secret it has: the newest one.
        encrypted = hmac_digest(secrets[0].encode(), token.encode()).hex() if secrets else ""
        return HandshakeReply(body=json.dumps({"plainToken": token, "encryptedToken": encrypted}))

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        # With no delivery id, only the bytes tell deliveries apart: each sample delivery is a
        # new meeting instance (its own uuid) at its own time.
        inner = payload.get("payload", {})
        meeting = {
            **inner.get("object", {}),
            "uuid": base64.b64encode(hashlib.sha256(delivery_id.encode()).digest()[:16]).decode(),
        }
        return {
            **payload,
            "event_ts": timestamp * 1000,
            "payload": {**inner, "object": meeting},
        }

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        # Zoom publishes no delivery id: a redelivery is recognised by its exact bytes.
        event = payload.get("event") if isinstance(payload, dict) else None
        return Delivery(
            event_type=str(event or "unknown"),
            delivery_id=None,
            delivery_key=body_key(request.body),
        )
