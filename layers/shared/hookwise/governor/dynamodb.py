"""The governor and the budget ledger on DynamoDB, in the events table.

Governor: one item per limit key (and shard), read consistently and written back with a
condition on its version (optimistic concurrency), so every worker instance sees one state.
A call costs one read and one write; what `settle` learns rides on the next write.

Capacity of one item: a read-modify-write takes one strongly consistent read and one
conditional write (~5-10 ms each on AWS); conflicting writers retry. One item serves a few
hundred decisions a second, and a partition takes 1,000 writes/s, so one item covers limits up
to about 4,000 requests a minute with deferrals included; above that, set
`governor.shards`: each shard holds an equal part of the limits and events pick one by id.

Budgets: one counter item per scope and UTC day, conditional ADDs (the cap is checked by the
write itself), expiring two days later.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError

from hookwise.adapters.conditions import refused_by_condition
from hookwise.config.models import RateLimits
from hookwise.governor.base import BudgetCheck, BudgetLedger, BudgetScope, Governor, Ticket
from hookwise.governor.schedule import (
    NOTHING,
    Cost,
    Schedule,
    Verdict,
    admit,
    credit,
    observe,
    pause,
    refused,
)
from hookwise.llm.base import RateLimitStatus
from hookwise.resources import TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE

GOVERNOR_PREFIX = "governor#"
BUDGET_PREFIX = "budget#"
# Conflicting writers retry with a little jitter; past this many, the call waits a second.
MAX_CONFLICTS = 20
BUDGET_RETENTION_SECONDS = 2 * 86_400


def _number(value: float) -> Decimal:
    return Decimal(repr(round(value, 6)))


def _table(table_name: str, resource: Any) -> Any:
    return (resource or boto3.resource("dynamodb")).Table(table_name)


@dataclass(frozen=True)
class Learned:
    """What `settle` learned of one limit key since the state was last written."""

    unused: Cost = NOTHING
    reserved: Cost = NOTHING
    statuses: RateLimitStatus = field(default_factory=dict)
    # A call was answered: without rate-limit headers, the API announces no limits (Bedrock).
    answered: bool = False
    # What the call the headers came with cost (what another like it needs).
    needed: Cost = NOTHING

    def plus(self, other: Learned) -> Learned:
        latest = other if other.statuses else self
        return Learned(
            self.unused.plus(other.unused),
            self.reserved.plus(other.reserved),
            latest.statuses,
            self.answered or other.answered,
            latest.needed,
        )

    def apply(
        self, schedule: Schedule, limits: RateLimits, now: float, shards: int, burst: float
    ) -> None:
        credit(schedule, limits, self.unused, self.reserved, shards)
        if self.statuses:
            observe(schedule, self.statuses, now, self.needed, burst)
        elif self.answered and schedule.announced is None:
            schedule.announced = {}

    def announced(self) -> dict[str, int] | None:
        """The limits the API announced with this, if it said anything of them."""
        if self.statuses:
            return {bucket: limit for bucket, (limit, _, _) in self.statuses.items() if limit > 0}
        return {} if self.answered else None


class DynamoDBGovernor(Governor):
    def __init__(
        self,
        table_name: str,
        *,
        horizon: float,
        burst: float,
        shards: int = 1,
        resource: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = _table(table_name, resource)
        self._horizon = horizon
        self._burst = burst
        self._shards = shards
        self._clock = clock
        self._lock = threading.Lock()
        # Per limit key: what was learned since the last write, a pause known here (records
        # of a paused batch are not started), and the latest ticket (for `flush`).
        self._learned: dict[str, Learned] = {}
        self._paused: dict[str, tuple[float, str]] = {}
        self._last_ticket: dict[str, Ticket] = {}
        self._turns: dict[str, threading.Lock] = {}
        self._waiting: dict[str, list[_Request]] = {}
        # Per limit key: the API's limits as this instance last read them from the state.
        self._announced: dict[str, dict[str, int] | None] = {}

    def _item_key(self, ticket: Ticket) -> str:
        # Calls spread evenly over the shards, each holding an equal part of the limits.
        shard = random.randrange(self._shards)  # noqa: S311 - load spreading, not crypto
        return f"{GOVERNOR_PREFIX}{ticket.key}#{shard}"

    def acquire(self, ticket: Ticket, now: float) -> Verdict:
        until, reason = self._paused.get(ticket.key, (0.0, ""))
        if until > now:
            return Verdict(until, False, ticket.line_at, reason)
        verdict, schedule = self._update(
            ticket,
            lambda schedule: admit(
                schedule,
                ticket.limits,
                now=now,
                lane=ticket.lane,
                weight=ticket.weight,
                cost=ticket.cost,
                line_at=ticket.line_at,
                horizon=self._horizon,
                burst=self._burst,
                shards=self._shards,
                configured=ticket.configured,
            ),
        )
        if schedule.paused_until > now:
            self._paused[ticket.key] = (schedule.paused_until, schedule.paused_reason)
        return verdict

    def settle(
        self,
        ticket: Ticket,
        used: Cost | None,
        statuses: RateLimitStatus | None = None,
    ) -> None:
        unused = ticket.cost.minus(used) if used is not None else ticket.cost
        learned = Learned(unused, ticket.cost, statuses or {}, used is not None, ticket.cost)
        self._hold(ticket.key, learned)
        heard = learned.announced()
        if heard and heard != self._announced.get(ticket.key):
            # Limits announced for the first time, or changed, are written at once: every
            # instance runs at them from its next decision, not from this one's next write.
            self._update(ticket, lambda _schedule: None)

    def pause(self, ticket: Ticket, until: float, reason: str) -> None:
        self._paused[ticket.key] = (until, reason)
        self._update(ticket, lambda schedule: pause(schedule, until, reason))

    def refused(self, ticket: Ticket, until: float, reason: str) -> None:
        self._paused[ticket.key] = (until, reason)
        self._update(
            ticket,
            lambda schedule: refused(schedule, self._clock(), until, reason, self._burst),
        )

    def flush(self) -> None:
        with self._lock:
            keys = [key for key, learned in self._learned.items() if learned != Learned()]
        for key in keys:
            self._update(self._last_ticket[key], lambda _schedule: None)

    def stored(self, key: str) -> list[Schedule]:
        """A limit key's state as stored, one per shard (what the console shows)."""
        return [
            _schedule(
                self._table.get_item(Key={TABLE_PARTITION_KEY: f"{GOVERNOR_PREFIX}{key}#{n}"}).get(
                    "Item"
                )
            )
            for n in range(self._shards)
        ]

    def _hold(self, key: str, learned: Learned) -> None:
        """Keep what was learned for the next write (or put back what a failed write took)."""
        with self._lock:
            self._learned[key] = self._learned.get(key, Learned()).plus(learned)

    def _update(self, ticket: Ticket, decide: Callable[[Schedule], Any]) -> tuple[Any, Schedule]:
        """Read, decide, write back on an unchanged version; retry on a conflict.

        The records of one instance (a batch's threads) commit as a group: whoever holds the
        key's turn applies every decision waiting for it in one read and one write, so a busy
        instance makes one round trip for many calls instead of conflicting with itself.
        Instances meet at the conditional write."""
        request = _Request(ticket, decide)
        with self._lock:
            self._waiting.setdefault(ticket.key, []).append(request)
        with self._turns.setdefault(ticket.key, threading.Lock()):
            if not request.done:
                with self._lock:
                    group = self._waiting.pop(ticket.key, [])
                self._commit(ticket, group)
        if request.error is not None:
            raise request.error
        return request.answer, request.schedule

    def _commit(self, ticket: Ticket, group: list[_Request]) -> None:
        self._last_ticket[ticket.key] = ticket
        item_key = self._item_key(ticket)
        with self._lock:
            learned = self._learned.pop(ticket.key, Learned())
        try:
            for _ in range(MAX_CONFLICTS):
                found = self._table.get_item(
                    Key={TABLE_PARTITION_KEY: item_key}, ConsistentRead=True
                ).get("Item")
                version = int(found["version"]) if found else 0
                schedule = _schedule(found)
                learned.apply(schedule, ticket.limits, self._clock(), self._shards, self._burst)
                answers = [request.decide(schedule) for request in group]
                condition: dict[str, Any] = (
                    {
                        "ConditionExpression": "version = :version",
                        "ExpressionAttributeValues": {":version": version},
                    }
                    if found
                    else {
                        "ConditionExpression": "attribute_not_exists(#key)",
                        "ExpressionAttributeNames": {"#key": TABLE_PARTITION_KEY},
                    }
                )
                try:
                    self._table.put_item(Item=_item(item_key, schedule, version + 1), **condition)
                except ClientError as error:
                    if not refused_by_condition(error):
                        raise
                    time.sleep(random.uniform(0.001, 0.01))  # noqa: S311 - jitter, not crypto
                    continue
                self._announced[ticket.key] = schedule.announced
                for request, answer in zip(group, answers, strict=True):
                    request.finish(answer, schedule)
                return
            self._hold(ticket.key, learned)
            for request in group:
                wait = Verdict(self._clock() + 1.0, False, request.ticket.line_at, "contention")
                request.finish(wait, Schedule())
        except Exception as error:
            self._hold(ticket.key, learned)
            for request in group:
                request.fail(error)


@dataclass
class _Request:
    """One decision waiting for its key's group commit."""

    ticket: Ticket
    decide: Callable[[Schedule], Any]
    answer: Any = None
    schedule: Schedule = field(default_factory=Schedule)
    error: Exception | None = None
    done: bool = False

    def finish(self, answer: Any, schedule: Schedule) -> None:
        self.answer, self.schedule, self.done = answer, schedule, True

    def fail(self, error: Exception) -> None:
        self.error, self.done = error, True


def _schedule(item: dict[str, Any] | None) -> Schedule:
    if not item:
        return Schedule()
    return Schedule(
        tat={name: float(value) for name, value in item.get("tat", {}).items()},
        lines={name: float(value) for name, value in item.get("lines", {}).items()},
        paused_until=float(item.get("paused_until", 0)),
        paused_reason=str(item.get("paused_reason", "")),
        output_ratio=float(item.get("output_ratio", 1)),
        announced=(
            {name: int(value) for name, value in item["announced"].items()}
            if "announced" in item
            else None
        ),
        rates={name: float(value) for name, value in item.get("rates", {}).items()},
        burst=float(item["burst"]) if "burst" in item else None,
    )


def _item(key: str, schedule: Schedule, version: int) -> dict[str, Any]:
    return {
        TABLE_PARTITION_KEY: key,
        "tat": {name: _number(value) for name, value in schedule.tat.items()},
        "lines": {name: _number(value) for name, value in schedule.lines.items()},
        "paused_until": _number(schedule.paused_until),
        "paused_reason": schedule.paused_reason,
        "output_ratio": _number(schedule.output_ratio),
        "rates": {name: _number(value) for name, value in schedule.rates.items()},
        **({"announced": schedule.announced} if schedule.announced is not None else {}),
        **({"burst": _number(schedule.burst)} if schedule.burst is not None else {}),
        "version": version,
    }


def utc_day(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d")


def next_utc_midnight(moment: float) -> float:
    day = datetime.fromtimestamp(moment, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day.timestamp() + 86_400


class DynamoDBBudgetLedger(BudgetLedger):
    def __init__(self, table_name: str, resource: Any = None) -> None:
        self._table = _table(table_name, resource)

    def _key(self, scope: BudgetScope, day: str) -> dict[str, str]:
        return {TABLE_PARTITION_KEY: f"{BUDGET_PREFIX}{scope.name}#{day}"}

    def reserve(self, scopes: list[BudgetScope], tokens: int, usd: float, day: str) -> BudgetCheck:
        counted: list[BudgetScope] = []
        used: dict[str, float] = {}
        for scope in scopes:
            if (scope.daily_tokens is not None and tokens > scope.daily_tokens) or (
                scope.daily_usd is not None and usd > scope.daily_usd
            ):
                # More than a whole day's budget: nothing to count, refused as it stands.
                self.adjust(counted, -tokens, -usd, day)
                return BudgetCheck(scope)
            conditions, values = [], {":t": tokens, ":u": _number(usd), ":x": self._expiry(day)}
            if scope.daily_tokens is not None:
                conditions.append("(attribute_not_exists(tokens) OR tokens <= :tmax)")
                values[":tmax"] = scope.daily_tokens - tokens
            if scope.daily_usd is not None:
                conditions.append("(attribute_not_exists(usd) OR usd <= :umax)")
                values[":umax"] = _number(scope.daily_usd - usd)
            try:
                answer = self._table.update_item(
                    Key=self._key(scope, day),
                    UpdateExpression="ADD tokens :t, usd :u SET #ttl = :x",
                    ConditionExpression=" AND ".join(conditions),
                    ExpressionAttributeNames={"#ttl": TABLE_TTL_ATTRIBUTE},
                    ExpressionAttributeValues=values,
                    ReturnValues="UPDATED_NEW",
                )
            except ClientError as error:
                if not refused_by_condition(error):
                    raise
                self.adjust(counted, -tokens, -usd, day)
                return BudgetCheck(scope)
            counted.append(scope)
            now_spent = answer["Attributes"]
            used[scope.name] = max(
                100 * float(now_spent.get("tokens", 0)) / scope.daily_tokens
                if scope.daily_tokens
                else 0.0,
                100 * float(now_spent.get("usd", 0)) / scope.daily_usd if scope.daily_usd else 0.0,
            )
        return BudgetCheck(None, used)

    def adjust(self, scopes: list[BudgetScope], tokens: int, usd: float, day: str) -> None:
        for scope in scopes:
            self._table.update_item(
                Key=self._key(scope, day),
                UpdateExpression="ADD tokens :t, usd :u SET #ttl = :x",
                ExpressionAttributeNames={"#ttl": TABLE_TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":t": tokens,
                    ":u": _number(usd),
                    ":x": self._expiry(day),
                },
            )

    def spent(self, scope: BudgetScope, day: str) -> tuple[int, float]:
        item = self._table.get_item(Key=self._key(scope, day), ConsistentRead=True).get("Item")
        if not item:
            return 0, 0.0
        return int(item.get("tokens", 0)), float(item.get("usd", 0))

    @staticmethod
    def _expiry(day: str) -> int:
        start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
        return int(start) + BUDGET_RETENTION_SECONDS
