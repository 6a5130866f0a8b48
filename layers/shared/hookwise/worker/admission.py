"""Before a model call: is there capacity (the shared governor) and budget (the ledger)?

The answer is Go (call at `start`, a moment from now at most) or a Deferral (come back at
`until`; no call, no failure), or, for a spent budget whose route says so, a failure.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from hookwise.config import HookwiseConfig, Route
from hookwise.domain.events import EventRecord
from hookwise.governor.base import BudgetLedger, BudgetScope, Governor, Ticket
from hookwise.governor.dynamodb import next_utc_midnight, utc_day
from hookwise.governor.schedule import Cost, InForce, lane_for
from hookwise.llm.base import ModelError, ModelUsage, RateLimitStatus
from hookwise.observability import measure, metrics
from hookwise.worker.prompt import Prompt

# Without a retry-after, a 429 or 529 holds everyone back this long.
CAPACITY_PAUSE_SECONDS = 5.0
RATE_LIMITED = 429


@dataclass(frozen=True)
class Go:
    start: float
    ticket: Ticket
    scopes: list[BudgetScope] = field(default_factory=list)
    day: str = ""
    estimated_usd: float = 0.0
    # The limits the governor decided under (none for a slot booked on an earlier try).
    limits: InForce = field(default_factory=dict)


@dataclass(frozen=True)
class Deferral:
    until: float
    reason: str
    # For the `Deferred` metric's dimension: rate_limit, capacity or budget.
    kind: str
    booked_at: float | None = None
    line_at: float | None = None
    # A spent budget whose policy is `fail`.
    fail: bool = False
    limits: InForce = field(default_factory=dict)


def limits_view(limits: InForce) -> dict[str, dict[str, int | str]] | None:
    """The limits in force as an event shows them: `{"requests_per_minute": {"limit": 300,
    "source": "announced"}, ...}` (configured, announced or default)."""
    if not limits:
        return None
    return {
        f"{bucket}_per_minute": {"limit": rate, "source": source}
        for bucket, (rate, source) in limits.items()
    }


def estimate_input_tokens(prompt: Prompt, chars_per_token: float) -> int:
    """What the API will count as input: system prompt, messages and the tool definition."""
    tool = {
        "name": prompt.tool.name,
        "description": prompt.tool.description,
        "input_schema": prompt.tool.input_schema,
    }
    messages = [{"role": "user", "content": prompt.user}]
    characters = len(prompt.system) + len(json.dumps(messages)) + len(json.dumps([tool]))
    return math.ceil(characters / chars_per_token)


def used_cost(usages: list[ModelUsage]) -> Cost:
    """What the API counts against its limits (cache reads do not count as input)."""
    return Cost(
        requests=len(usages),
        input_tokens=sum(u.input_tokens + u.cache_creation_input_tokens for u in usages),
        output_tokens=sum(u.output_tokens for u in usages),
    )


class Admission:
    def __init__(
        self,
        config: HookwiseConfig,
        governor: Governor,
        budgets: BudgetLedger,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._governor = governor
        self._budgets = budgets
        self._budgets_by_scope = config.budgets()
        self._clock = clock

    def admit(self, record: EventRecord, route: Route, model: str, prompt: Prompt) -> Go | Deferral:
        now = self._clock()
        settings = self._config.governor
        until = _epoch(record.deferred_until)
        if until is not None and until - now > settings.inline_wait_seconds:
            # Back before its time (SQS delays stop at 15 minutes): wait on, asking nobody.
            return Deferral(
                until,
                record.defer_reason or "deferred",
                "rate_limit",
                record.booked_at,
                record.line_at,
            )
        key, limits = self._config.limits_for(model)
        max_tokens = route.max_tokens or self._config.defaults.max_tokens
        ticket = Ticket(
            key=key,
            limits=limits,
            lane=lane_for(route.name, route.weight),
            weight=route.weight,
            cost=Cost(1, estimate_input_tokens(prompt, settings.chars_per_token), max_tokens),
            line_at=record.line_at,
            configured=self._config.configured_limits(model) is not None,
        )
        booked = record.booked_at
        in_force: InForce = {}
        if booked is not None and now - booked <= settings.burst_seconds:
            start = booked
        else:
            if booked is not None:
                # Back too late for its slot: calling now would land on others' capacity.
                # The slot's capacity goes back and the event asks again, at its place.
                self._governor.settle(ticket, None)
            verdict = self._governor.acquire(ticket, now)
            reserved = ticket.cost.input_tokens + ticket.cost.output_tokens
            metrics.add_metric(name="TokensReserved", unit="Count", value=reserved)
            if not verdict.booked or verdict.start - now > settings.inline_wait_seconds:
                return Deferral(
                    verdict.start,
                    f"rate limit: {verdict.reason}",
                    "rate_limit",
                    verdict.start if verdict.booked else None,
                    verdict.line_at,
                    limits=verdict.limits,
                )
            start, in_force = verdict.start, verdict.limits
        return self._budget(record.source, route, model, ticket, start, now, in_force)

    def _budget(
        self,
        source: str,
        route: Route,
        model: str,
        ticket: Ticket,
        start: float,
        now: float,
        limits: InForce,
    ) -> Go | Deferral:
        scopes = self.scopes(source, route)
        if not scopes:
            return Go(start, ticket, limits=limits)
        usd = self._price(model, ticket.cost)
        day = utc_day(now)
        tokens = ticket.cost.input_tokens + ticket.cost.output_tokens
        check = self._budgets.reserve(scopes, tokens, usd, day)
        for scope_name, percent in check.used_percent.items():
            measure("BudgetUsedPercent", "Percent", percent, scope=scope_name)
        if check.exhausted is None:
            return Go(start, ticket, scopes, day, usd, limits)
        # No call after all: the capacity booked for it goes back.
        self._governor.settle(ticket, None)
        scope = check.exhausted
        return Deferral(
            next_utc_midnight(now),
            f"budget: {scope.name} daily budget spent",
            "budget",
            fail=scope.on_exhausted == "fail",
        )

    def scopes(self, source: str, route: Route) -> list[BudgetScope]:
        """The budgets an event of this source and route counts against."""
        return [
            BudgetScope(name, budget.daily_tokens, budget.daily_usd, budget.on_exhausted)
            for name in (f"source:{source}", f"route:{route.name}")
            if (budget := self._budgets_by_scope.get(name)) is not None
        ]

    def _price(self, model: str, cost: Cost) -> float:
        prices = self._config.models.get(model)
        if prices is None:
            return 0.0
        return (cost.input_tokens * prices.input + cost.output_tokens * prices.output) / 1e6

    def settle(
        self, go: Go, usages: list[ModelUsage], cost_usd: float, observed: RateLimitStatus
    ) -> None:
        """Reconcile the reservation (governor and budgets) with what the API reported."""
        used = used_cost(usages) if usages else None
        self._governor.settle(go.ticket, used, observed)
        if used is not None:
            metrics.add_metric(
                name="TokensUsed", unit="Count", value=used.input_tokens + used.output_tokens
            )
        if go.scopes:
            spent = used or Cost(0, 0, 0)
            estimate = go.ticket.cost.input_tokens + go.ticket.cost.output_tokens
            self._budgets.adjust(
                go.scopes,
                spent.input_tokens + spent.output_tokens - estimate,
                cost_usd - go.estimated_usd,
                go.day,
            )

    def count_batch(
        self, source: str, route: Route, usages: list[ModelUsage], cost_usd: float
    ) -> None:
        """A batch answer spends the budgets too, at the batch price. The governor's buckets
        are not charged: the Batches API has limits of its own, apart from the Messages API's."""
        scopes = self.scopes(source, route)
        if scopes:
            used = used_cost(usages)
            tokens = used.input_tokens + used.output_tokens
            self._budgets.adjust(scopes, tokens, cost_usd, utc_day(self._clock()))

    def no_capacity(self, go: Go, error: ModelError) -> Deferral:
        """The API said 429 or 529 all the same: everyone waits its retry-after. A 429 to a
        call the governor gave capacity also teaches it the API's enforcement interval (529,
        overloaded, says nothing of our limits)."""
        until = self._clock() + (error.retry_after or CAPACITY_PAUSE_SECONDS)
        reason = f"model answered {error.status}, retry-after"
        if error.status == RATE_LIMITED:
            self._governor.refused(go.ticket, until, reason)
        else:
            self._governor.pause(go.ticket, until, reason)
        return Deferral(until, reason, "capacity", line_at=go.ticket.line_at, limits=go.limits)

    def flush(self) -> None:
        self._governor.flush()


def _epoch(moment: str | None) -> float | None:
    return datetime.fromisoformat(moment).timestamp() if moment else None
