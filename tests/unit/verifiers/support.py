"""Building verifiers and requests for the tests."""

from __future__ import annotations

from typing import Any

from hookwise.config import SourceConfig
from hookwise.verifiers import Verifier, WebhookRequest, verifier_for


def verifier(scheme: str, now: float = 1_700_000_000, **source: Any) -> Verifier:
    config = SourceConfig(name=scheme, scheme=scheme, **source)  # type: ignore[arg-type]
    return verifier_for(config, clock=lambda: now)


URL = "https://hooks.example/webhooks/x"


def request(
    body: bytes,
    headers: dict[str, str],
    url: str = URL,
    source: str = "x",
) -> WebhookRequest:
    return WebhookRequest(
        source=source,
        method="POST",
        url=url,
        headers={k.lower(): v for k, v in headers.items()},
        body=body,
    )


def flip(data: bytes, index: int = -1) -> bytes:
    """The same bytes with one changed."""
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def flip_text(text: str, index: int = -3) -> str:
    chars = list(text)
    chars[index] = "A" if chars[index] != "A" else "B"
    return "".join(chars)
