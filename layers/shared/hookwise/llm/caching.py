"""Prompt caching that pays, and what tokens cost.

The API caches the prefix tools, then system, up to the block marked `cache_control`; a prefix
below the model's minimum is never cached, so it is marked only when it reaches it. A cache
write costs more than plain input (1.25x for five minutes, 2x for an hour) and a read 0.1x, so
a cached prefix pays once it is read often enough within its lifetime: `break_even`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from hookwise.config.models import CacheTtl, ModelSpec
from hookwise.llm.base import ModelUsage, ToolSpec

DEFAULT_MIN_CACHEABLE_TOKENS = 1024


def prefix_tokens(system: str, tool: ToolSpec, chars_per_token: float) -> int:
    """The stable prefix's length as the API counts it (tool definition, then system)."""
    definition = {
        "name": tool.name,
        "description": tool.description,
        "input_schema": tool.input_schema,
    }
    return math.ceil((len(json.dumps([definition])) + len(system)) / chars_per_token)


def cacheable(spec: ModelSpec | None, tokens: int) -> bool:
    minimum = spec.min_cacheable_tokens if spec else DEFAULT_MIN_CACHEABLE_TOKENS
    return tokens >= minimum


@dataclass(frozen=True)
class BreakEven:
    """A cache entry's arithmetic, as multiples of the input price."""

    write: float
    read: float
    # Reads within one lifetime after which caching is cheaper than not: with n reads, the
    # n + 1 requests pay `write + n * read` instead of `n + 1` for the prefix. None: never.
    reads_to_pay: int | None


def break_even(spec: ModelSpec, ttl: CacheTtl) -> BreakEven:
    if spec.input <= 0:
        return BreakEven(write=1.0, read=1.0, reads_to_pay=None)
    write = (spec.one_hour_write if ttl == "1h" else spec.cache_write) / spec.input
    read = spec.cache_read / spec.input
    if write <= 1:
        return BreakEven(write, read, 0)
    if read >= 1:
        return BreakEven(write, read, None)
    # The smallest whole n with write + n * read < 1 + n.
    return BreakEven(write, read, math.floor((write - 1) / (1 - read)) + 1)


def cost_usd(
    spec: ModelSpec | None,
    usage: ModelUsage,
    *,
    cache_ttl: CacheTtl = "5m",
    batch: bool = False,
) -> float:
    """What `usage` costs at `spec`'s prices (per million tokens), at batch price if `batch`."""
    if spec is None:
        return 0.0
    write = spec.one_hour_write if cache_ttl == "1h" else spec.cache_write
    full = (
        usage.input_tokens * spec.input
        + usage.output_tokens * spec.output
        + usage.cache_creation_input_tokens * write
        + usage.cache_read_input_tokens * spec.cache_read
    ) / 1_000_000
    return round(full * (1 - spec.batch_discount) if batch else full, 8)
