"""The model-rate governor and the budget ledger: what the worker asks before a model call.

One governor is shared by every worker instance (its state lives in DynamoDB), so the
organisation's per-minute limits hold however many Lambdas run at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal

from hookwise.config.models import RateLimits
from hookwise.governor.schedule import Cost, Verdict
from hookwise.llm.base import RateLimitStatus


@dataclass(frozen=True)
class Ticket:
    """One request for capacity."""

    key: str
    limits: RateLimits
    lane: str
    weight: int
    cost: Cost
    # The event's place in its route's line, from an earlier deferral.
    line_at: float | None = None
    # `limits` are the configuration's, a ceiling (else the defaults, which the API's
    # announced limits replace).
    configured: bool = True


class Governor(ABC):
    @abstractmethod
    def acquire(self, ticket: Ticket, now: float) -> Verdict:
        """Book capacity for one call (at once, or a slot a little ahead), or say when to
        come back. Costs one read and one conditional write of the shared state."""

    @abstractmethod
    def settle(
        self,
        ticket: Ticket,
        used: Cost | None,
        statuses: RateLimitStatus | None = None,
    ) -> None:
        """Reconcile a reservation with what the API reported (None: the call failed before
        using anything) and learn from its rate-limit headers. Applied with the next write."""

    @abstractmethod
    def pause(self, ticket: Ticket, until: float, reason: str) -> None:
        """Nobody calls this model before `until` (a 429's retry-after)."""

    @abstractmethod
    def refused(self, ticket: Ticket, until: float, reason: str) -> None:
        """The API answered 429 to a call given capacity: pause as `pause`, and learn that the
        API enforces its limits over a shorter interval than the burst allowance assumed."""

    @abstractmethod
    def flush(self) -> None:
        """Write what `settle` still holds (end of a batch)."""


@dataclass(frozen=True)
class BudgetScope:
    """A daily cap on one source or route."""

    name: str  # "source:github", "route:github-pr-review"
    daily_tokens: int | None
    daily_usd: float | None
    on_exhausted: Literal["defer", "fail"] = "defer"


@dataclass(frozen=True)
class BudgetCheck:
    # The first scope the call would overspend (then nothing is counted), or None.
    exhausted: BudgetScope | None
    # How much of each scope's tightest cap is used, counting this call.
    used_percent: dict[str, float] = field(default_factory=dict)


class BudgetLedger(ABC):
    @abstractmethod
    def reserve(self, scopes: list[BudgetScope], tokens: int, usd: float, day: str) -> BudgetCheck:
        """Count a call's estimate against every scope, unless it would overspend one."""

    @abstractmethod
    def adjust(self, scopes: list[BudgetScope], tokens: int, usd: float, day: str) -> None:
        """Correct the count by the difference between the estimate and the real usage."""

    @abstractmethod
    def spent(self, scope: BudgetScope, day: str) -> tuple[int, float]:
        """(tokens, USD) counted against the scope on `day`."""
