"""What the worker needs from a model: one structured answer per request, errors classified."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ModelRequest:
    model: str
    max_tokens: int
    # Stable per route: with the tool definition before it, the prefix that can be cached.
    system: str
    messages: list[dict[str, Any]]
    tool: ToolSpec
    timeout_seconds: float = 60.0
    # Mark the prefix (tools, system) for prompt caching with this lifetime ("5m" or "1h"); None
    # leaves it unmarked (it would be below the model's minimum: marking buys nothing).
    cache_ttl: str | None = None
    # Strict tool use: the answer is decoded to fit the tool's schema (which must be one strict
    # mode accepts: see hookwise.worker.schemas).
    strict: bool = False


@dataclass(frozen=True)
class ModelUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


# What the API said of each limit after a call: {bucket: (limit per minute, remaining, reset
# epoch seconds)}, buckets named as the governor names them ("requests", "input_tokens"...).
RateLimitStatus = dict[str, tuple[int, int, float]]


@dataclass(frozen=True)
class ModelAnswer:
    # The tool input the model produced (not yet validated), or None if it used no tool.
    tool_input: dict[str, Any] | None
    usage: ModelUsage = field(default_factory=ModelUsage)
    # The assistant content blocks, to continue the conversation for a repair attempt.
    content: list[dict[str, Any]] = field(default_factory=list)
    tool_use_id: str | None = None
    rate_limits: RateLimitStatus = field(default_factory=dict)
    # Why the model stopped: "tool_use" as asked, or "refusal", "max_tokens" (cut off)...
    stop_reason: str | None = None


CAPACITY_STATUSES = frozenset({429, 529})


class ModelError(Exception):
    """A failed model call; `transient` ones go back to the queue, others fail the event."""

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        rate_limits: RateLimitStatus | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.rate_limits = rate_limits or {}

    @property
    def capacity(self) -> bool:
        """The model had no capacity for us (429 rate limited, 529 overloaded): a reason to
        wait, not a failure of the event."""
        return self.status in CAPACITY_STATUSES


class TransientModelError(ModelError):
    transient = True


class PermanentModelError(ModelError):
    transient = False


class ModelClient(ABC):
    @abstractmethod
    def invoke(self, request: ModelRequest) -> ModelAnswer:
        """Call the model; raise TransientModelError or PermanentModelError on failure."""
