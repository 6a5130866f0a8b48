"""Header forms the other suites do not reach: Stripe's `v0` entries and whitespace, and the
generic HMAC scheme's other algorithms and base64 encoding. Expected signatures are computed
here with `hmac` directly, not with the verifiers' own `sign`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from hookwise.config import ConfigError
from hookwise.config.loader import parse_config
from hookwise.samples import sample_bytes
from hookwise.sources import Source
from hookwise.verifiers import SignatureError, verifier_for
from tests.unit.verifiers.support import flip, request, verifier

NOW = 1_700_000_000
STRIPE_SECRET = "whsec_test_secret"
STRIPE_BODY = sample_bytes("stripe", "payment_intent.succeeded")


def stripe_v1(secret: str = STRIPE_SECRET, timestamp: int = NOW) -> str:
    signed = f"{timestamp}.".encode() + STRIPE_BODY
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def stripe_verify(header: str) -> None:
    verifier("stripe", now=NOW).verify(
        request(STRIPE_BODY, {"Stripe-Signature": header}), [STRIPE_SECRET]
    )


@pytest.mark.parametrize(
    "header",
    [
        f"t={NOW},v1={stripe_v1()},v0={'0' * 64}",
        f"t={NOW},v0={'0' * 64},v1={stripe_v1()}",
        # Rotation: Stripe sends one v1 per active secret.
        f"t={NOW},v1={stripe_v1('whsec_old')},v1={stripe_v1()}",
    ],
)
def test_stripe_accepts_a_valid_v1_whatever_else_the_header_carries(header: str) -> None:
    stripe_verify(header)


def test_stripe_ignores_v0_even_when_it_is_the_right_digest() -> None:
    # v0 is Stripe's legacy test-mode scheme: never a reason to accept.
    with pytest.raises(SignatureError):
        stripe_verify(f"t={NOW},v0={stripe_v1()}")


def test_stripe_rejects_a_v1_for_another_body() -> None:
    with pytest.raises(SignatureError):
        verifier("stripe", now=NOW).verify(
            request(flip(STRIPE_BODY), {"Stripe-Signature": f"t={NOW},v1={stripe_v1()}"}),
            [STRIPE_SECRET],
        )


@pytest.mark.parametrize(
    "header",
    [
        f"t={NOW}, v1={stripe_v1()}",
        f" t={NOW} ,v1={stripe_v1()} ",
        f"t = {NOW}, v1 = {stripe_v1()}, v0 = {'0' * 64}",
        f"t={NOW},\tv1={stripe_v1()}",
    ],
)
def test_stripe_tolerates_whitespace_around_entries(header: str) -> None:
    stripe_verify(header)


HMAC_BODY = sample_bytes("hmac", "order.created")
HMAC_SECRET = "shop-backend-secret"


def hmac_source(**options: str) -> dict[str, dict[str, str]]:
    return {"options": {"header": "X-Signature", **options}}


@pytest.mark.parametrize(
    ("algorithm", "encoding", "prefix"),
    [
        ("sha1", "hex", "sha1="),
        ("sha512", "hex", "sha512="),
        ("sha256", "base64", ""),
        ("sha1", "base64", ""),
        ("sha512", "base64", "v1="),
    ],
)
def test_generic_hmac_other_algorithms_and_base64(
    algorithm: str, encoding: str, prefix: str
) -> None:
    digest = hmac.new(HMAC_SECRET.encode(), HMAC_BODY, algorithm).digest()
    value = base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()
    ours = verifier("hmac", **hmac_source(algorithm=algorithm, encoding=encoding, prefix=prefix))
    ours.verify(request(HMAC_BODY, {"X-Signature": prefix + value}), [HMAC_SECRET])
    with pytest.raises(SignatureError):
        ours.verify(request(flip(HMAC_BODY), {"X-Signature": prefix + value}), [HMAC_SECRET])
    with pytest.raises(SignatureError):
        ours.verify(request(HMAC_BODY, {"X-Signature": prefix + value}), ["another-secret"])


def test_generic_hmac_a_digest_of_another_algorithm_is_rejected() -> None:
    sha256 = hmac.new(HMAC_SECRET.encode(), HMAC_BODY, hashlib.sha256).hexdigest()
    ours = verifier("hmac", **hmac_source(algorithm="sha512"))
    with pytest.raises(SignatureError):
        ours.verify(request(HMAC_BODY, {"X-Signature": sha256}), [HMAC_SECRET])


def test_generic_hmac_base64_source_rejects_the_hex_form() -> None:
    digest = hmac.new(HMAC_SECRET.encode(), HMAC_BODY, hashlib.sha256).digest()
    ours = verifier("hmac", **hmac_source(encoding="base64"))
    with pytest.raises(SignatureError):
        ours.verify(request(HMAC_BODY, {"X-Signature": digest.hex()}), [HMAC_SECRET])


@pytest.mark.parametrize(
    "options", [{"encoding": "base-64"}, {"algorithm": "sha-256"}, {"algorithm": "md5"}]
)
def test_generic_hmac_options_outside_the_documented_ones_are_refused(
    options: dict[str, str],
) -> None:
    # A typo must not silently verify as hex, nor reach hashlib: `hookwise config check`
    # refuses it, and so does the verifier if a source reaches it unchecked.
    with pytest.raises(ConfigError, match=r"sources\.hmac: .*must be one of"):
        parse_config(
            json.dumps({"sources": {"hmac": {"scheme": "hmac", **hmac_source(**options)}}})
        )
    unchecked = Source(name="hmac", scheme="hmac", **hmac_source(**options))
    with pytest.raises(ValueError, match=r"sources\.hmac\.options"):
        verifier_for(unchecked).verify(request(HMAC_BODY, {"X-Signature": "00"}), [HMAC_SECRET])


def test_generic_hmac_unknown_options_are_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown option.*hedaer"):
        parse_config(json.dumps({"sources": {"h": {"scheme": "hmac", "options": {"hedaer": "X"}}}}))
