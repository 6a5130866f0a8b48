"""Twilio: `X-Twilio-Signature: <base64>` of HMAC-SHA1 over the full URL followed by the POST
parameters sorted by name (`name` + `value`). JSON bodies are instead bound by a `bodySHA256`
query parameter in the signed URL. No timestamp, and `I-Twilio-Idempotency-Token` is not
signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from hookwise.verifiers.base import (
    Delivery,
    MalformedRequest,
    SignatureError,
    Verifier,
    WebhookRequest,
    from_base64,
    hmac_digest,
    parse_json,
    require_signed,
)


def url_query(url: str) -> dict[str, list[str]]:
    """The signed URL's query; a URL that does not parse (it is built from request headers)
    is a signature that cannot match."""
    try:
        return parse_qs(urlsplit(url).query)
    except ValueError as error:
        raise SignatureError("url_malformed") from error


def signed_text(url: str, body: bytes) -> bytes:
    if "bodySHA256" in url_query(url):
        return url.encode()
    params = sorted(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return (url + "".join(name + value for name, value in params)).encode()


class TwilioVerifier(Verifier):
    scheme = "twilio"
    json_body = False
    signs_identity = False

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        candidate = from_base64(request.header("x-twilio-signature") or "")
        if not candidate:
            raise SignatureError("signature_missing")
        declared = url_query(request.url).get("bodySHA256")
        # Bytes: compare_digest raises on non-ASCII text, and the query is the sender's.
        if declared and not hmac.compare_digest(
            hashlib.sha256(request.body).hexdigest().encode(), declared[0].lower().encode()
        ):
            raise SignatureError("body_hash_mismatch")
        require_signed(secrets, self.signed_bytes(request), [candidate], "sha1")

    def signed_bytes(self, request: WebhookRequest) -> bytes:
        # Not the body: the same parameters in another order, or encoded otherwise, are signed
        # alike, so they are the same delivery.
        return signed_text(request.url, request.body)

    def parse(self, body: bytes) -> Any:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedRequest("body_not_utf8") from error
        if text.lstrip().startswith("{"):
            return parse_json(body)
        return dict(parse_qsl(text, keep_blank_values=True))

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        params = payload if isinstance(payload, dict) else {}
        sid = params.get("MessageSid") or params.get("CallSid")
        kind = "call" if "CallSid" in params else "message"
        status = (
            params.get("MessageStatus")
            or params.get("SmsStatus")
            or params.get("CallStatus")
            or "received"
        )
        delivery_id = request.header("i-twilio-idempotency-token") or sid
        return Delivery(
            event_type=f"{kind}.{status}",
            delivery_id=delivery_id,
            delivery_key=self.delivery_key(request, delivery_id),
        )

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        sid_key = "CallSid" if "CallSid" in payload else "MessageSid"
        prefix = "CA" if sid_key == "CallSid" else "SM"
        return {**payload, sid_key: prefix + delivery_id.replace("-", "")[:32]}

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
        digest = hmac_digest(secret.encode(), signed_text(url, body), "sha1")
        return {
            "X-Twilio-Signature": base64.b64encode(digest).decode(),
            "I-Twilio-Idempotency-Token": delivery_id,
            "Content-Type": "application/x-www-form-urlencoded",
        }
