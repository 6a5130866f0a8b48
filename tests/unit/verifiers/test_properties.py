"""Properties over every scheme: a change to body, signature, timestamp or secret is rejected;
no header value, however malformed, raises anything but a rejection."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookwise.verifiers import Rejected, SignatureError, all_verifiers, verifier_class
from tests.unit.verifiers.support import request, verifier

NOW = 1_700_000_000
URL = "https://hooks.example/webhooks/x"
SCHEMES = sorted(all_verifiers())
TIMESTAMPED = ["stripe", "slack", "standard", "svix", "paddle", "zoom"]
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def secret_for(scheme: str) -> str:
    return verifier_class(scheme).dev_secret("prop")


def body_for(scheme: str, payload: dict) -> bytes:
    if scheme == "twilio":
        from urllib.parse import urlencode

        return urlencode({k: str(v) for k, v in payload.items()}).encode()
    if scheme == "linear":
        payload = {**payload, "webhookTimestamp": NOW * 1000}
    return json.dumps(payload).encode()


def signed(scheme: str, body: bytes, secret: str, timestamp: int = NOW) -> dict[str, str]:
    return verifier(scheme, now=NOW).sign(
        body, secret, url=URL, event_type="thing.happened", delivery_id="d-1", timestamp=timestamp
    )


payloads = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=6),
    st.text(max_size=20) | st.integers(),
    min_size=1,
    max_size=5,
)


@pytest.mark.parametrize("scheme", SCHEMES)
@FAST
@given(payload=payloads)
def test_signed_bodies_verify_and_any_changed_byte_does_not(scheme: str, payload: dict) -> None:
    body = body_for(scheme, payload)
    secret = secret_for(scheme)
    headers = signed(scheme, body, secret)
    check = verifier(scheme, now=NOW)
    check.verify(request(body, headers, url=URL), [secret])
    # Twilio signs the decoded parameters, so `%3a` and `%3A` are the same request: change a
    # value there; every other scheme signs the exact bytes.
    changed = body + b"x" if scheme == "twilio" else body[:-1] + bytes([body[-1] ^ 0x20])
    with pytest.raises(Rejected):
        check.verify(request(changed, headers, url=URL), [secret])


@pytest.mark.parametrize("scheme", SCHEMES)
@FAST
@given(other=st.text(min_size=1, max_size=30))
def test_another_secret_is_rejected(scheme: str, other: str) -> None:
    body = body_for(scheme, {"a": 1})
    secret = secret_for(scheme)
    if other == secret:
        return
    wrong = (
        other if scheme not in ("standard", "svix") else "whsec_" + "QUJD" * (len(other) % 7 + 1)
    )
    with pytest.raises(SignatureError):
        verifier(scheme, now=NOW).verify(
            request(body, signed(scheme, body, secret), url=URL), [wrong]
        )


@pytest.mark.parametrize("scheme", TIMESTAMPED)
@FAST
@given(
    skew=st.integers(min_value=301, max_value=10**8)
    | st.integers(max_value=-301, min_value=-(10**8))
)
def test_timestamps_outside_tolerance_either_way_are_rejected(scheme: str, skew: int) -> None:
    body = body_for(scheme, {"a": 1})
    secret = secret_for(scheme)
    headers = signed(scheme, body, secret, timestamp=NOW + skew)
    with pytest.raises(SignatureError):
        verifier(scheme, now=NOW).verify(request(body, headers, url=URL), [secret])


@pytest.mark.parametrize("scheme", SCHEMES)
@FAST
@given(
    garbage=st.dictionaries(
        st.sampled_from(
            [
                "x-hub-signature-256",
                "stripe-signature",
                "x-slack-signature",
                "x-slack-request-timestamp",
                "x-shopify-hmac-sha256",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature",
                "svix-id",
                "svix-timestamp",
                "svix-signature",
                "x-twilio-signature",
                "paddle-signature",
                "linear-signature",
                "x-zm-signature",
                "x-zm-request-timestamp",
                "x-signature",
            ]
        ),
        st.text(max_size=80),
    ),
    body=st.binary(max_size=64),
)
def test_malformed_headers_never_raise_anything_but_a_rejection(
    scheme: str,
    garbage: dict[str, str],
    body: bytes,
) -> None:
    check = verifier(scheme, now=NOW)
    with pytest.raises(Rejected):
        check.verify(request(body, garbage, url=URL), [secret_for(scheme)])
