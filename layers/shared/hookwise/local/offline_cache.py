"""The offline model's prompt cache, simulated like the API's: the prefix up to the last
`cache_control` mark (tools, then system, then messages) is hashed; a prefix shorter than the
model's minimum cacheable length is never cached; an entry lives for its TTL (`5m` or `1h`),
refreshed by each read.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The documented minimum cacheable prefix, by model family (tokens); others use the default.
DEFAULT_MIN_TOKENS: dict[str, int] = {
    "claude-sonnet-4-5": 1024,
    "claude-sonnet-4-6": 2048,
    "claude-haiku-4-5": 4096,
    "claude-opus-4-5": 4096,
    "claude-opus-4-6": 4096,
}
FALLBACK_MIN_TOKENS = 1024
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class CacheUsage:
    """How many of a request's input tokens were written to, read from, or not in the cache."""

    uncached: int
    creation: int = 0
    read: int = 0
    ttl: str = "5m"

    def as_usage(self) -> dict[str, Any]:
        return {
            "input_tokens": self.uncached,
            "cache_creation_input_tokens": self.creation,
            "cache_read_input_tokens": self.read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.creation if self.ttl == "5m" else 0,
                "ephemeral_1h_input_tokens": self.creation if self.ttl == "1h" else 0,
            },
        }


def _system_blocks(request: dict[str, Any]) -> list[dict[str, Any]]:
    system = request.get("system") or []
    return [{"type": "text", "text": system}] if isinstance(system, str) else list(system)


def _message_blocks(request: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for message in request.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            blocks.append({"type": "text", "text": content})
        else:
            blocks.extend(content or [])
    return blocks


def _chars(block: dict[str, Any]) -> int:
    """Text counts as its characters, anything else (tools, tool results) as its JSON."""
    if block.get("type") == "text":
        return len(block.get("text", ""))
    return len(json.dumps({k: v for k, v in block.items() if k != "cache_control"}))


def marked_prefix(request: dict[str, Any]) -> tuple[list[dict[str, Any]], str] | None:
    """The blocks up to and including the last one marked `cache_control`, and its TTL."""
    blocks = [
        *request.get("tools", []),
        *_system_blocks(request),
        *_message_blocks(request),
    ]
    marked = [index for index, block in enumerate(blocks) if "cache_control" in block]
    if not marked:
        return None
    last = blocks[marked[-1]]
    return blocks[: marked[-1] + 1], str(last["cache_control"].get("ttl", "5m"))


class PromptCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self.min_tokens: dict[str, int] = dict(DEFAULT_MIN_TOKENS)
        self.default_min_tokens = FALLBACK_MIN_TOKENS
        self.hits = 0
        self.writes = 0

    def configure(self, spec: dict[str, Any]) -> None:
        """`{"min_tokens": {model prefix: tokens}, "default_min_tokens": N, "clear": true}`."""
        with self._lock:
            self.min_tokens.update({k: int(v) for k, v in (spec.get("min_tokens") or {}).items()})
            if spec.get("default_min_tokens") is not None:
                self.default_min_tokens = int(spec["default_min_tokens"])
            if spec.get("clear"):
                self._expiry.clear()

    def minimum(self, model: str) -> int:
        matches = [name for name in self.min_tokens if model.startswith(name)]
        return self.min_tokens[max(matches, key=len)] if matches else self.default_min_tokens

    def account(self, request: dict[str, Any], input_tokens: int) -> CacheUsage:
        """Split `input_tokens` into uncached, cache-write and cache-read tokens."""
        found = marked_prefix(request)
        if found is None:
            return CacheUsage(uncached=input_tokens)
        blocks, ttl = found
        prefix_tokens = min(input_tokens, sum(_chars(b) for b in blocks) // CHARS_PER_TOKEN)
        model = str(request.get("model", ""))
        if prefix_tokens < self.minimum(model):
            return CacheUsage(uncached=input_tokens)
        key = hashlib.sha256(
            json.dumps([model, blocks], sort_keys=True, default=str).encode()
        ).hexdigest()
        now = self._clock()
        with self._lock:
            hit = self._expiry.get(key, 0.0) > now
            self._expiry[key] = now + TTL_SECONDS.get(ttl, TTL_SECONDS["5m"])
            if hit:
                self.hits += 1
            else:
                self.writes += 1
        rest = input_tokens - prefix_tokens
        if hit:
            return CacheUsage(uncached=rest, read=prefix_tokens, ttl=ttl)
        return CacheUsage(uncached=rest, creation=prefix_tokens, ttl=ttl)
