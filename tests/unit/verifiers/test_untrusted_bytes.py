"""Hostile bytes that a signature does not make safe: whatever a correctly signed body or a
header holds, verification and parsing end in a rejection (400 or 401), never another
exception (which on AWS is a function error and locally a dropped connection)."""

from __future__ import annotations

import hashlib
import json

import pytest

from hookwise.verifiers import (
    MalformedRequest,
    Rejected,
    SignatureError,
    Verifier,
    WebhookRequest,
    all_verifiers,
    verifier_class,
)
from tests.unit.verifiers.support import request, verifier

NOW = 1_700_000_000
URL = "https://hooks.example/webhooks/x"
JSON_SCHEMES = sorted(name for name, kind in all_verifiers().items() if kind.json_body)
HOSTILE_BODIES = {
    # Deeper than Python's recursion limit: json.loads raises RecursionError.
    "deep array": b"[" * 50_000,
    "deep object": b'{"a":' * 50_000,
    # Python refuses to parse integers over 4,300 digits from text (ValueError).
    "100,000-digit integer": b'{"a": ' + b"9" * 100_000 + b"}",
    "NaN": b'{"a": NaN}',
    "Infinity": b'{"a": Infinity}',
    "-Infinity": b"-Infinity",
    "a number no float holds": b'{"a": 1e400}',
}


def signed_request(
    scheme: str, body: bytes, url: str = URL
) -> tuple[Verifier, WebhookRequest, str]:
    check = verifier(scheme, now=NOW)
    secret = verifier_class(scheme).dev_secret("x")
    headers = check.sign(body, secret, url=url, event_type="t", delivery_id="d", timestamp=NOW)
    return check, request(body, headers, url=url), secret


def accept(check: Verifier, webhook: WebhookRequest, secret: str) -> object:
    """What the ingest service does with a request: verify, then parse (Linear parses inside
    verify, as its timestamp is in the body)."""
    check.verify(webhook, [secret])
    return check.parse(webhook.body)


@pytest.mark.parametrize("scheme", JSON_SCHEMES)
@pytest.mark.parametrize("label", sorted(HOSTILE_BODIES))
def test_signed_hostile_json_is_malformed_not_a_crash(scheme: str, label: str) -> None:
    body = HOSTILE_BODIES[label]
    check, webhook, secret = signed_request(scheme, body)
    with pytest.raises(MalformedRequest):
        accept(check, webhook, secret)


@pytest.mark.parametrize("label", ["deep object", "NaN", "100,000-digit integer"])
def test_twilio_json_bodies_are_parsed_as_strictly(label: str) -> None:
    body = HOSTILE_BODIES[label]
    # Twilio binds a JSON body by its hash in the signed URL.
    url = f"{URL}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    check, webhook, secret = signed_request("twilio", body, url=url)
    with pytest.raises(MalformedRequest):
        accept(check, webhook, secret)


def test_standard_json_still_parses() -> None:
    body = json.dumps({"a": [1, 2.5, -3e2, None, True, "é"], "b": {"c": 10**30}}).encode()
    check, webhook, secret = signed_request("github", body)
    assert accept(check, webhook, secret) == json.loads(body)


@pytest.mark.parametrize(
    "stamp",
    [
        "NaN",  # compares false with everything: it would pass any tolerance check
        "9" * 4_000,  # an int no float holds
        "1e400",
    ],
)
def test_linear_body_timestamps_that_are_not_times_are_rejected(stamp: str) -> None:
    body = b'{"type": "Issue", "action": "create", "webhookTimestamp": ' + stamp.encode() + b"}"
    check, webhook, secret = signed_request("linear", body)
    with pytest.raises(Rejected):
        check.verify(webhook, [secret])


@pytest.mark.parametrize("scheme", ["stripe", "slack", "standard", "svix", "paddle", "zoom"])
@pytest.mark.parametrize(
    "stamp",
    [
        "\u00b2\u00b3",  # superscript digits: str.isdigit says yes, int says no
        "\uff11\uff17\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff10",  # full-width digits
        "9" * 5_000,  # over int's string-length limit
        "9" * 400,  # parses, but no float holds it
    ],
)
def test_timestamp_headers_that_are_not_times_are_rejected(scheme: str, stamp: str) -> None:
    body = b'{"a": 1}'
    check, webhook, secret = signed_request(scheme, body)
    # The timestamp header, or the timestamp field of a Stripe/Paddle signature header.
    headers = {
        name: stamp if "timestamp" in name else value.replace(str(NOW), stamp)
        for name, value in webhook.headers.items()
    }
    with pytest.raises(SignatureError):
        check.verify(request(body, headers), [secret])


@pytest.mark.parametrize(
    "url",
    [
        # parse_qs decodes this to "é": hmac.compare_digest raises on non-ASCII text.
        URL + "?bodySHA256=%C3%A9",
        # The URL is rebuilt from the Host header: an unbalanced bracket fails urlsplit.
        "https://[hooks.example/webhooks/x",
    ],
)
def test_twilio_urls_from_the_sender_are_rejections(url: str) -> None:
    check, webhook, secret = signed_request("twilio", b"{}", url=URL + "?bodySHA256=x")
    with pytest.raises(SignatureError):
        check.verify(request(b"{}", dict(webhook.headers), url=url), [secret])
