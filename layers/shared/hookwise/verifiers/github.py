"""GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body; no timestamp, and neither
`X-GitHub-Delivery` nor `X-GitHub-Event` is signed."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

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
    signs_identity = False

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
        return Delivery(
            event_type=event_type,
            delivery_id=delivery_id,
            delivery_key=self.delivery_key(request, delivery_id),
        )

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        # Nothing in GitHub's body is per delivery, and the body is what tells deliveries apart:
        # each sample delivery is about a new comment, pull request or issue (its own `id`), or
        # pushes a new head commit.
        fresh = hashlib.sha256(delivery_id.encode()).hexdigest()
        for name in ("comment", "pull_request", "issue"):
            if isinstance(payload.get(name), dict):
                return {**payload, name: {**payload[name], "id": int(fresh[:12], 16)}}
        head = payload.get("head_commit")
        if isinstance(head, dict):
            # A commit id is 40 hex digits.
            return {**payload, "after": fresh[:40], "head_commit": {**head, "id": fresh[:40]}}
        return payload

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
