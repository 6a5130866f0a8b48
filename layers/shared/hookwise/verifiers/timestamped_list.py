"""Stripe and Paddle sign alike: one header carries a timestamp and a list of hex signatures of
`<timestamp><joiner><body>` (several during a secret rotation); unknown entries are ignored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from hookwise.verifiers.base import (
    SignatureError,
    Verifier,
    WebhookRequest,
    from_hex,
    hmac_digest,
    parse_timestamp,
    require_signed,
    signature_fields,
)


class TimestampedListVerifier(Verifier):
    header: ClassVar[str]
    separator: ClassVar[str]
    timestamp_field: ClassVar[str]
    signature_field: ClassVar[str]
    joiner: ClassVar[str]
    content_type: ClassVar[str] = "application/json"

    def _signed(self, timestamp: int, body: bytes) -> bytes:
        return f"{timestamp}{self.joiner}".encode() + body

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        header = request.header(self.header)
        if not header:
            raise SignatureError("signature_missing")
        fields = signature_fields(header, self.separator)
        timestamp = parse_timestamp(next(iter(fields.get(self.timestamp_field, [])), None))
        candidates = [d for d in map(from_hex, fields.get(self.signature_field, [])) if d]
        if not candidates:
            raise SignatureError("signature_missing")
        self.check_timestamp(timestamp)
        require_signed(secrets, self._signed(timestamp, request.body), candidates)

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
        digest = hmac_digest(secret.encode(), self._signed(timestamp, body)).hex()
        value = f"{self.timestamp_field}={timestamp}{self.separator}{self.signature_field}={digest}"
        return {self.header: value, "Content-Type": self.content_type}
