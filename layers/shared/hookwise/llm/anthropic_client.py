"""The Anthropic Messages API, through the SDK's own clients: `Anthropic` or `AnthropicBedrock`.

Both expose the same `messages.create`, so one implementation serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import anthropic

from hookwise.llm.base import (
    ModelAnswer,
    ModelClient,
    ModelError,
    ModelRequest,
    ModelUsage,
    PermanentModelError,
    RateLimitStatus,
    TransientModelError,
)

# Retries are the queue's job, with backoff and `retry-after` honoured as visibility: the SDK
# must not sleep through them inside a billed Lambda.
SDK_MAX_RETRIES = 0
TRANSIENT_STATUSES = frozenset({408, 409, 429, 529})


# The API's per-limit headers, by the governor's bucket names.
RATE_LIMIT_HEADERS = {
    "requests": "anthropic-ratelimit-requests",
    "input_tokens": "anthropic-ratelimit-input-tokens",
    "output_tokens": "anthropic-ratelimit-output-tokens",
}
PARTS = ("limit", "remaining", "reset")


def rate_limits(headers: Mapping[str, str]) -> RateLimitStatus:
    """`anthropic-ratelimit-<bucket>-{limit,remaining,reset}` (reset in RFC 3339), where sent."""
    found: RateLimitStatus = {}
    for bucket, prefix in RATE_LIMIT_HEADERS.items():
        limit, remaining, reset = (headers.get(f"{prefix}-{part}") for part in PARTS)
        if limit is None or remaining is None or reset is None:
            continue
        try:
            found[bucket] = (int(limit), int(remaining), datetime.fromisoformat(reset).timestamp())
        except ValueError:
            continue
    return found


def _retry_after(error: anthropic.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def classify(error: anthropic.AnthropicError) -> ModelError:
    """429, 529, 5xx, 408/409, timeouts and connection errors are transient; the rest is not."""
    if isinstance(error, anthropic.APIStatusError):
        status = error.status_code
        kind = (
            TransientModelError
            if status in TRANSIENT_STATUSES or status >= 500
            else (PermanentModelError)
        )
        return kind(
            f"model returned {status}: {error.message}"[:500],
            status=status,
            retry_after=_retry_after(error),
            rate_limits=rate_limits(error.response.headers),
        )
    if isinstance(error, anthropic.APIConnectionError):  # includes APITimeoutError
        return TransientModelError(f"model unreachable: {type(error).__name__}")
    return PermanentModelError(f"model call failed: {type(error).__name__}: {error}"[:500])


def _cache_mark(ttl: str | None) -> dict[str, Any]:
    if ttl is None:
        return {}
    # The five-minute lifetime is the API's default; only the hour is spelled out.
    return {"cache_control": {"type": "ephemeral"} | ({"ttl": ttl} if ttl != "5m" else {})}


def request_params(request: ModelRequest) -> dict[str, Any]:
    """The Messages API body for a request (the same for a batch entry's `params`)."""
    return {
        "model": request.model,
        "max_tokens": request.max_tokens,
        # Tools, then system: the stable prefix. The mark on the system block caches both,
        # so repeat events pay the cache-read price for them.
        "system": [{"type": "text", "text": request.system} | _cache_mark(request.cache_ttl)],
        "messages": request.messages,
        "tools": [
            {
                "name": request.tool.name,
                "description": request.tool.description,
                "input_schema": request.tool.input_schema,
            }
            | ({"strict": True} if request.strict else {})
        ],
        "tool_choice": {"type": "tool", "name": request.tool.name},
    }


class AnthropicModelClient(ModelClient):
    def __init__(self, client: anthropic.Anthropic | anthropic.AnthropicBedrock) -> None:
        # Once, here: `with_options` copies the client.
        self._client = client.with_options(max_retries=SDK_MAX_RETRIES)

    def invoke(self, request: ModelRequest) -> ModelAnswer:
        params = request_params(request)
        try:
            # A per-request timeout rather than a client copy per call; the raw response
            # carries the rate-limit headers the governor learns from.
            raw = self._client.messages.with_raw_response.create(
                **params, timeout=request.timeout_seconds
            )
            message = raw.parse()
        except anthropic.AnthropicError as error:
            raise classify(error) from error
        return answer_from(message, rate_limits(raw.headers))


def answer_from(message: Any, observed: RateLimitStatus | None = None) -> ModelAnswer:
    """Our view of an SDK `Message`: its tool input, content and usage."""
    content: list[dict[str, Any]] = [block.model_dump() for block in message.content]
    tool_use = next((b for b in content if b.get("type") == "tool_use"), None)
    usage = message.usage
    return ModelAnswer(
        tool_input=tool_use.get("input") if tool_use else None,
        tool_use_id=tool_use.get("id") if tool_use else None,
        content=content,
        rate_limits=observed or {},
        stop_reason=message.stop_reason,
        usage=ModelUsage(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_input_tokens=usage.cache_read_input_tokens or 0,
        ),
    )
