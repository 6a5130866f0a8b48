"""GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body; no timestamp."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

from hookwise.domain.events import body_key
from hookwise.verifiers.base import (
    Delivery,
    HandshakeReply,
    SignatureError,
    Verifier,
    WebhookRequest,
    digest_matches,
)


def _hex_values(header: str | None, prefix: str) -> list[bytes]:
    if not header or not header.startswith(prefix):
        return []
    try:
        return [bytes.fromhex(header[len(prefix) :].strip())]
    except ValueError:
        return []


class GitHubVerifier(Verifier):
    scheme = "github"

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        candidates = _hex_values(request.header("x-hub-signature-256"), "sha256=")
        algorithm = hashlib.sha256
        if not candidates and self.source.options.get("allow_sha1"):
            # Legacy SHA-1 signatures only where a source opts in.
            candidates = _hex_values(request.header("x-hub-signature"), "sha1=")
            algorithm = hashlib.sha1
        if not candidates:
            raise SignatureError("signature_missing")
        for secret in secrets:
            expected = hmac.new(secret.encode(), request.body, algorithm).digest()
            if digest_matches(expected, candidates):
                return
        raise SignatureError("signature_invalid")

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        event = request.header("x-github-event") or "unknown"
        action = payload.get("action") if isinstance(payload, dict) else None
        event_type = f"{event}.{action}" if isinstance(action, str) and action else event
        delivery_id = request.header("x-github-delivery")
        if delivery_id:
            # With several hooks on one endpoint, one delivery id per hook.
            hook_id = request.header("x-github-hook-id")
            key = f"{hook_id}:{delivery_id}" if hook_id else delivery_id
        else:
            key = body_key(request.body)
        return Delivery(event_type=event_type, delivery_id=delivery_id, delivery_key=key)

    def handshake(
        self, request: WebhookRequest, payload: Any, secrets: Sequence[str]
    ) -> HandshakeReply | None:
        if request.header("x-github-event") == "ping":
            return HandshakeReply(body=json.dumps({"status": "pong"}))
        return None

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
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {
            "X-GitHub-Event": event_type.split(".", 1)[0],
            "X-GitHub-Delivery": delivery_id,
            "X-Hub-Signature-256": f"sha256={digest}",
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/hookwise",
        }
