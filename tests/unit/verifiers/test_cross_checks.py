"""Against the providers' own libraries: theirs verify in ours, ours verify in theirs."""

from __future__ import annotations

import json
import time

import pytest

from hookwise.verifiers import SignatureError
from tests.unit.verifiers.support import request, verifier

BODY = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded", "data": {"amount": 5}})


@pytest.fixture
def now() -> int:
    """Now, per test: the providers' libraries check their timestamps against the real clock,
    and a time taken at import would be minutes old by the time a long suite reaches a test."""
    return int(time.time())


def test_stripe_both_ways(now: int) -> None:
    import stripe

    secret = "whsec_test_secret"
    theirs = stripe.WebhookSignature.generate_signature_header(BODY, secret, timestamp=now)
    ours = verifier("stripe", now=now)
    ours.verify(request(BODY.encode(), {"Stripe-Signature": theirs}), [secret])
    signed = ours.sign(BODY.encode(), secret, url="", event_type="", delivery_id="d", timestamp=now)
    stripe.Webhook.construct_event(BODY, signed["Stripe-Signature"], secret, tolerance=300)
    with pytest.raises(SignatureError):
        ours.verify(request(BODY.encode(), {"Stripe-Signature": theirs}), ["whsec_other"])


def test_slack_both_ways(now: int) -> None:
    from slack_sdk.signature import SignatureVerifier

    secret = "slack-signing-secret"
    library = SignatureVerifier(secret)
    theirs = library.generate_signature(timestamp=str(now), body=BODY)
    ours = verifier("slack", now=now)
    ours.verify(
        request(
            BODY.encode(), {"X-Slack-Signature": theirs, "X-Slack-Request-Timestamp": str(now)}
        ),
        [secret],
    )
    signed = ours.sign(BODY.encode(), secret, url="", event_type="", delivery_id="d", timestamp=now)
    assert library.is_valid(BODY, signed["x-slack-request-timestamp"], signed["x-slack-signature"])


@pytest.mark.parametrize(
    ("scheme", "module"), [("standard", "standardwebhooks"), ("svix", "svix.webhooks")]
)
def test_standard_webhooks_and_svix_both_ways(scheme: str, module: str, now: int) -> None:
    import importlib
    from datetime import UTC, datetime

    library = importlib.import_module(module)
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    webhook = library.Webhook(secret)
    theirs = webhook.sign("msg_1", datetime.fromtimestamp(now, UTC), BODY)
    prefix = "webhook" if scheme == "standard" else "svix"
    headers = {
        f"{prefix}-id": "msg_1",
        f"{prefix}-timestamp": str(now),
        f"{prefix}-signature": theirs,
    }
    ours = verifier(scheme, now=now)
    ours.verify(request(BODY.encode(), headers), [secret])
    signed = ours.sign(
        BODY.encode(), secret, url="", event_type="", delivery_id="msg_2", timestamp=now
    )
    webhook.verify(BODY, signed)


def test_twilio_both_ways(now: int) -> None:
    from twilio.request_validator import RequestValidator

    token, url = "twilio-auth-token", "https://hooks.example/webhooks/twilio"
    params = {"MessageSid": "SM1", "From": "+15551234567", "Body": "hello & bye"}
    from urllib.parse import urlencode

    body = urlencode(params).encode()
    theirs = RequestValidator(token).compute_signature(url, params)
    ours = verifier("twilio")
    ours.verify(request(body, {"X-Twilio-Signature": theirs}, url=url), [token])
    signed = ours.sign(body, token, url=url, event_type="", delivery_id="d", timestamp=now)
    assert RequestValidator(token).validate(url, params, signed["X-Twilio-Signature"])


def test_twilio_json_bodies_are_bound_by_body_sha256() -> None:
    import hashlib

    from twilio.request_validator import RequestValidator

    token = "twilio-auth-token"
    body = BODY.encode()
    url = "https://hooks.example/webhooks/twilio?bodySHA256=" + hashlib.sha256(body).hexdigest()
    theirs = RequestValidator(token).compute_signature(url, {})
    ours = verifier("twilio")
    ours.verify(request(body, {"X-Twilio-Signature": theirs}, url=url), [token])
    assert RequestValidator(token).validate(url, BODY, theirs)
    with pytest.raises(SignatureError):
        ours.verify(request(body + b" ", {"X-Twilio-Signature": theirs}, url=url), [token])


def test_paddle_both_ways(now: int) -> None:
    from paddle_billing.Notifications import Secret
    from paddle_billing.Notifications.PaddleSignature import PaddleSignature

    secret = "pdl_ntf_secret"
    ours = verifier("paddle", now=now)
    signed = ours.sign(BODY.encode(), secret, url="", event_type="", delivery_id="d", timestamp=now)
    assert PaddleSignature().verify(signed["Paddle-Signature"], BODY, Secret(secret))
    theirs = PaddleSignature.calculate_hmac(secret, f"{now}:{BODY}".encode()).hexdigest()
    ours.verify(request(BODY.encode(), {"Paddle-Signature": f"ts={now};h1={theirs}"}), [secret])
