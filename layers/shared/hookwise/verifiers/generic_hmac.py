"""Generic HMAC over the raw body, for senders with their own header: the header name,
prefix, encoding (hex or base64), algorithm (sha256, sha1, sha512) and where the id and the
event type live are the source's `options`."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from hookwise.verifiers.base import (
    Delivery,
    SignatureError,
    Verifier,
    WebhookRequest,
    from_base64,
    from_hex,
    hmac_digest,
    require_signed,
)

Encoding = Literal["hex", "base64"]
Algorithm = Literal["sha256", "sha1", "sha512"]


@dataclass(frozen=True)
class HmacOptions:
    """Checked when the configuration is validated (`SourceConfig`) and again here, so a bad
    option is refused at `hookwise config check`, never at the first delivery."""

    header: str = "X-Signature"
    prefix: str = ""
    # Anything else is refused, never read as hex or handed to hashlib.
    encoding: Encoding = "hex"
    algorithm: Algorithm = "sha256"
    id_header: str | None = None
    id_field: str | None = "id"
    type_header: str | None = None
    type_field: str | None = "type"

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> HmacOptions:
        """ValueError naming what is wrong: an unknown option, a value of the wrong kind."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(unknown)}; known: {sorted(known)}")
        parsed = cls(**options)
        for name, value in vars(parsed).items():
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
        for name, allowed in (("encoding", Encoding), ("algorithm", Algorithm)):
            if getattr(parsed, name) not in get_args(allowed):
                raise ValueError(f"{name} must be one of {', '.join(get_args(allowed))}")
        if not parsed.header:
            raise ValueError("header must not be empty")
        return parsed


class HmacVerifier(Verifier):
    scheme = "hmac"

    @property
    def options(self) -> HmacOptions:
        try:
            return HmacOptions.parse(self.source.options)
        except ValueError as error:
            raise ValueError(f"sources.{self.source.name}.options: {error}") from error

    def _encode(self, digest: bytes) -> str:
        if self.options.encoding == "base64":
            return base64.b64encode(digest).decode()
        return digest.hex()

    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        options = self.options
        header = request.header(options.header) or ""
        if not header.startswith(options.prefix):
            raise SignatureError("signature_missing")
        value = header[len(options.prefix) :]
        candidate = from_base64(value) if options.encoding == "base64" else from_hex(value)
        if not candidate:
            raise SignatureError("signature_missing")
        require_signed(secrets, request.body, [candidate], options.algorithm)

    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        options = self.options
        data = payload if isinstance(payload, dict) else {}
        # Only the body is signed: an id there is the key; one in `id_header` is recorded,
        # and without a body id the body's digest is the key.
        signed_id = data.get(options.id_field) if options.id_field else None
        signed_id = str(signed_id) if signed_id else None
        delivery = (request.header(options.id_header) if options.id_header else None) or signed_id
        kind = (request.header(options.type_header) if options.type_header else None) or (
            data.get(options.type_field) if options.type_field else None
        )
        return Delivery(
            event_type=str(kind or "unknown"),
            delivery_id=delivery,
            delivery_key=self.delivery_key(request, signed_id),
        )

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        field = self.options.id_field
        return {**payload, field: delivery_id} if field else payload

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
        options = self.options
        digest = hmac_digest(secret.encode(), body, options.algorithm)
        headers = {
            options.header: options.prefix + self._encode(digest),
            "Content-Type": "application/json",
        }
        if options.id_header:
            headers[options.id_header] = delivery_id
        if options.type_header:
            headers[options.type_header] = event_type
        return headers
