"""One interface for every provider's signature scheme.

A verifier checks the exact bytes received (never re-serialised JSON), compares decoded bytes
in constant time, accepts any of a source's active secrets (rotation), and tells the ingest
service the provider's delivery id and event type. Each scheme is one module.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from hookwise.domain.events import body_key


class SourceSpec(Protocol):
    """What a verifier reads of its source: `hookwise.sources.Source` in the ingest function,
    the validated configuration's `SourceConfig` elsewhere."""

    @property
    def name(self) -> str: ...

    @property
    def scheme(self) -> str: ...

    @property
    def tolerance_seconds(self) -> int | None: ...

    @property
    def options(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class WebhookRequest:
    """A provider's POST as received, independent of API Gateway."""

    source: str
    method: str
    # The URL the provider called (Twilio signs it); reconstructed from the gateway event.
    url: str
    # Header names lower-cased; a repeated header is joined with ",".
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Rejected(Exception):
    """The request must not be accepted. `status` is the HTTP answer, `reason` a log category."""

    status: ClassVar[int] = 401

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureError(Rejected):
    """Signature missing, invalid, or timestamp outside tolerance: 401, generic body."""

    status = 401


class MalformedRequest(Rejected):
    """The body is not what the scheme requires (for example not JSON): 400."""

    status = 400


@dataclass(frozen=True)
class Delivery:
    """Who the provider says this delivery is."""

    event_type: str
    # The provider's own delivery/event id, when it sends one: recorded for on-call.
    delivery_id: str | None
    # What makes a redelivery the same event (`Verifier.delivery_key`).
    delivery_key: str


@dataclass(frozen=True)
class HandshakeReply:
    """A synchronous answer (Slack challenge, Zoom validation, GitHub ping); nothing is stored."""

    body: str
    content_type: str = "application/json"
    status: int = 200


Clock = Callable[[], float]


class Verifier(ABC):
    scheme: ClassVar[str]
    # Schemes whose bodies must be JSON answer 400 to anything else.
    json_body: ClassVar[bool] = True
    default_tolerance: ClassVar[int | None] = None
    # Whether the signature binds a delivery to its id: covers it (in the body, or signed with
    # it), or covers a timestamp that bounds its replay (reference/signatures.md). Where it does
    # neither (GitHub, Shopify, Twilio), every header but the signature is the sender's to
    # choose: anyone holding one captured request could replay it forever under fresh ids, so a
    # delivery is known by the bytes signed and its id is only recorded.
    signs_identity: ClassVar[bool] = True

    def __init__(self, source: SourceSpec, clock: Clock = time.time) -> None:
        self.source = source
        self.clock = clock

    @property
    def tolerance(self) -> int | None:
        return self.source.tolerance_seconds or self.default_tolerance

    @abstractmethod
    def verify(self, request: WebhookRequest, secrets: Sequence[str]) -> None:
        """Raise SignatureError unless one of `secrets` signed this request."""

    def parse(self, body: bytes) -> Any:
        """The payload as the scheme defines it; MalformedRequest (400) if it is not."""
        return parse_json(body) if self.json_body else None

    @abstractmethod
    def identify(self, request: WebhookRequest, payload: Any) -> Delivery:
        """The delivery id and event type, from headers or the parsed payload."""

    def signed_bytes(self, request: WebhookRequest) -> bytes:
        """What the signature covers, a timestamp aside: the raw body, for most schemes."""
        return request.body

    def delivery_key(self, request: WebhookRequest, delivery_id: str | None) -> str:
        """What makes a redelivery the same event: the provider's id where the signature binds
        it, else a digest of the bytes signed (the same bytes again are the same delivery,
        whatever unsigned headers come with them)."""
        if delivery_id and self.signs_identity:
            return delivery_id
        return body_key(self.signed_bytes(request))

    def handshake(
        self, request: WebhookRequest, payload: Any, secrets: Sequence[str]
    ) -> HandshakeReply | None:
        """A reply for a verification request that must be answered synchronously."""
        return None

    @abstractmethod
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
        """Headers a provider would send with `body`: for `hookwise send` and tests."""

    def prepare_sample(self, payload: Any, *, delivery_id: str, timestamp: int) -> Any:
        """Make a shipped sample a fresh delivery: schemes whose id or timestamp lives in the
        body (Stripe `id`, Slack `event_id`, Linear `webhookTimestamp`...) override this."""
        return payload

    @classmethod
    def dev_secret(cls, source_name: str) -> str:
        """A well-known secret for the local stack (never used on AWS)."""
        return f"dev-secret-{source_name}"

    def check_timestamp(self, timestamp: float, *, per_second: int = 1) -> None:
        """Reject a signed timestamp (in 1/`per_second` units) outside tolerance, in either
        direction. A value no float can hold, or NaN (which compares false with everything),
        is rejected rather than let through or raised."""
        tolerance = self.tolerance
        if tolerance is None:
            return
        try:
            skew = self.clock() - timestamp / per_second
        except OverflowError as error:
            raise SignatureError("timestamp_outside_tolerance") from error
        if not math.isfinite(skew) or abs(skew) > tolerance:
            raise SignatureError("timestamp_outside_tolerance")


def from_hex(value: str) -> bytes | None:
    try:
        return bytes.fromhex(value.strip())
    except ValueError:
        return None


def from_base64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


# Unix seconds in ASCII digits: `str.isdigit` would also pass "²", which `int` refuses, and
# thousands of digits, which `int` refuses too (its string-length limit).
TIMESTAMP = re.compile(r"[0-9]{1,15}")


def parse_timestamp(value: str | None) -> int:
    """A signed unix timestamp header, or a rejection (never an exception of another kind)."""
    if value is None or not TIMESTAMP.fullmatch(value.strip()):
        raise SignatureError("timestamp_missing_or_malformed")
    return int(value.strip())


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def parse_json(body: bytes) -> Any:
    """Strict JSON from untrusted bytes, or MalformedRequest (400), whatever is wrong: invalid
    UTF-8 or syntax, an integer longer than `int` parses from text, `NaN`/`Infinity` (not
    JSON; they would also slip through numeric comparisons), a number no float holds, or
    nesting deeper than the parser's recursion limit."""
    try:
        return json.loads(
            body.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise MalformedRequest("body_not_json") from error


def hmac_digest(key: bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(key, message, algorithm).digest()


def signature_fields(header: str, separator: str) -> dict[str, list[str]]:
    """`t=1,v1=ab,v1=cd`-style headers (Stripe, Paddle): each name with all its values."""
    fields: dict[str, list[str]] = {}
    for item in header.split(separator):
        name, _, value = item.strip().partition("=")
        fields.setdefault(name.strip(), []).append(value.strip())
    return fields


def require_signed(
    secrets: Sequence[str], message: bytes, candidates: Sequence[bytes], algorithm: str = "sha256"
) -> None:
    """Accept if any active secret (as UTF-8 key) signed `message`; else a 401."""
    if not any(
        digest_matches(hmac_digest(secret.encode(), message, algorithm), candidates)
        for secret in secrets
    ):
        raise SignatureError("signature_invalid")


def body_delivery(request: WebhookRequest, event_id: Any, event_type: Any) -> Delivery:
    """For providers whose delivery id is in the body: that id, or a body hash without one."""
    known = event_id if isinstance(event_id, str) and event_id else None
    return Delivery(
        event_type=str(event_type or "unknown"),
        delivery_id=known,
        delivery_key=known or body_key(request.body),
    )


def digest_matches(expected: bytes, candidates: Sequence[bytes]) -> bool:
    """Constant-time comparison of decoded bytes against every candidate."""
    found = False
    for candidate in candidates:
        # No early exit: every candidate is compared, so timing says nothing of which matched.
        found |= hmac.compare_digest(expected, candidate)
    return found
