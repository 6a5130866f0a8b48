"""Flood limits: how fast the webhook door lets requests in, and how much of the account's Lambda
concurrency the ingest function may take. Each is CDK context, so a deployment can change it
without code: `cdk deploy -c api_rate=100 -c api_burst=200 -c ingest_concurrency=40`.

Why these defaults:
- `api_rate` 50 requests/s (4.3 million a day) and `api_burst` 100. The busiest documented sender
  is Slack, which caps a workspace's Events API deliveries at 30,000 an hour (about 8 a second);
  GitHub, Stripe, Shopify and the Standard Webhooks senders publish no delivery rate, but send
  one request per event. 50/s leaves room for several busy sources at once, and the burst for a
  provider flushing its retry backlog after an outage. Above it API Gateway answers 429, which
  every shipped provider except GitHub retries (GitHub redelivers only on request), so raise
  the rate rather than let real deliveries be throttled.
- `ingest_concurrency` 20: reserved concurrency is both a floor and a ceiling. 20 environments at
  the measured ~40 ms per request serve about 500 requests/s, well above the API rate, so a
  flood is throttled at the door before it reaches Lambda's limit; and however many requests
  get through, ingest can never hold more than 20 environments, so the worker (bounded by its
  event source's maximum concurrency) and the sweeper keep the rest of the account's pool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from constructs import Node

Number = TypeVar("Number", int, float)


def _positive(node: Node, name: str, kind: Callable[[Any], Number], default: Number) -> Number:
    """A context value (`-c` passes strings) as a positive number, or the default."""
    given = node.try_get_context(name)
    if given is None:
        return default
    try:
        value = kind(given)
    except (TypeError, ValueError) as error:
        raise ValueError(f"context {name}={given!r}: not a number") from error
    if value <= 0:
        raise ValueError(f"context {name}={given!r}: must be positive")
    return value


@dataclass(frozen=True)
class FloodLimits:
    api_rate: float = 50.0
    api_burst: int = 100
    ingest_concurrency: int = 20

    @classmethod
    def from_context(cls, node: Node) -> FloodLimits:
        defaults = cls()
        return cls(
            api_rate=_positive(node, "api_rate", float, defaults.api_rate),
            api_burst=_positive(node, "api_burst", int, defaults.api_burst),
            ingest_concurrency=_positive(
                node, "ingest_concurrency", int, defaults.ingest_concurrency
            ),
        )
