"""Signature verifiers, one module per provider scheme, behind `Verifier`."""

from __future__ import annotations

from hookwise.verifiers.base import (
    Clock,
    Delivery,
    HandshakeReply,
    MalformedRequest,
    Rejected,
    SignatureError,
    SourceSpec,
    Verifier,
    WebhookRequest,
)
from hookwise.verifiers.generic_hmac import HmacVerifier
from hookwise.verifiers.github import GitHubVerifier
from hookwise.verifiers.linear import LinearVerifier
from hookwise.verifiers.paddle import PaddleVerifier
from hookwise.verifiers.shopify import ShopifyVerifier
from hookwise.verifiers.standard import StandardWebhooksVerifier, SvixVerifier
from hookwise.verifiers.stripe import StripeVerifier
from hookwise.verifiers.timestamped_hex import SlackVerifier, ZoomVerifier
from hookwise.verifiers.twilio import TwilioVerifier

VERIFIERS: dict[str, type[Verifier]] = {
    verifier.scheme: verifier
    for verifier in (
        GitHubVerifier,
        StripeVerifier,
        SlackVerifier,
        ShopifyVerifier,
        StandardWebhooksVerifier,
        SvixVerifier,
        TwilioVerifier,
        PaddleVerifier,
        LinearVerifier,
        ZoomVerifier,
        HmacVerifier,
    )
}


def verifier_for(source: SourceSpec, clock: Clock | None = None) -> Verifier:
    verifier = VERIFIERS[source.scheme]
    return verifier(source) if clock is None else verifier(source, clock)


__all__ = [
    "VERIFIERS",
    "Delivery",
    "HandshakeReply",
    "MalformedRequest",
    "Rejected",
    "SignatureError",
    "Verifier",
    "WebhookRequest",
    "verifier_for",
]
