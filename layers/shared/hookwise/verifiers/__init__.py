"""Signature verifiers, one module per provider scheme, behind `Verifier`."""

from __future__ import annotations

from functools import cache
from importlib import import_module

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

# Where each scheme's verifier lives: a function imports only those its sources use (all
# eleven cost ~10 ms of the ingest cold start).
LOCATIONS: dict[str, str] = {
    "github": "github.GitHubVerifier",
    "stripe": "stripe.StripeVerifier",
    "slack": "timestamped_hex.SlackVerifier",
    "shopify": "shopify.ShopifyVerifier",
    "standard": "standard.StandardWebhooksVerifier",
    "svix": "standard.SvixVerifier",
    "twilio": "twilio.TwilioVerifier",
    "paddle": "paddle.PaddleVerifier",
    "linear": "linear.LinearVerifier",
    "zoom": "timestamped_hex.ZoomVerifier",
    "hmac": "generic_hmac.HmacVerifier",
}


@cache
def verifier_class(scheme: str) -> type[Verifier]:
    module, _, name = LOCATIONS[scheme].rpartition(".")
    verifier: type[Verifier] = getattr(import_module(f"{__name__}.{module}"), name)
    return verifier


def all_verifiers() -> dict[str, type[Verifier]]:
    return {scheme: verifier_class(scheme) for scheme in LOCATIONS}


def verifier_for(source: SourceSpec, clock: Clock | None = None) -> Verifier:
    verifier = verifier_class(source.scheme)
    return verifier(source) if clock is None else verifier(source, clock)


__all__ = [
    "LOCATIONS",
    "Delivery",
    "HandshakeReply",
    "MalformedRequest",
    "Rejected",
    "SignatureError",
    "Verifier",
    "WebhookRequest",
    "all_verifiers",
    "verifier_class",
    "verifier_for",
]
