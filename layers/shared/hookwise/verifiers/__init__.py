"""Signature verifiers, one module per provider scheme, behind `Verifier`."""

from __future__ import annotations

from hookwise.config.models import SourceConfig
from hookwise.verifiers.base import (
    Clock,
    Delivery,
    HandshakeReply,
    MalformedRequest,
    Rejected,
    SignatureError,
    Verifier,
    WebhookRequest,
)
from hookwise.verifiers.github import GitHubVerifier

VERIFIERS: dict[str, type[Verifier]] = {verifier.scheme: verifier for verifier in (GitHubVerifier,)}


def verifier_for(source: SourceConfig, clock: Clock | None = None) -> Verifier:
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
