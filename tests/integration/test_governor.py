"""The governor's shared state and the budget ledger on DynamoDB (moto): every instance
sees one state, conflicting writers retry, reconciliations ride on the next write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from hookwise.config.models import RateLimits
from hookwise.governor.base import BudgetScope, Ticket
from hookwise.governor.dynamodb import DynamoDBBudgetLedger, DynamoDBGovernor
from hookwise.governor.schedule import Cost, lane_for
from tests.conftest import Aws

NOW = 2_000_000.0
TICKET = Ticket(
    key="anthropic:claude-test",
    limits=RateLimits(requests_per_minute=60, output_tokens_per_minute=12_000),
    lane=lane_for("route", 2),
    weight=2,
    cost=Cost(1, 100, 100),
)


def governor(aws: Aws, **kwargs: Any) -> DynamoDBGovernor:
    return DynamoDBGovernor(aws.settings.table, horizon=5.0, burst=0.0, clock=lambda: NOW, **kwargs)


def stored(aws: Aws) -> dict[str, Any]:
    table = boto3.resource("dynamodb").Table(aws.settings.table)
    item = table.get_item(Key={"event_id": f"governor#{TICKET.key}#0"})["Item"]
    return dict(item)


def test_two_instances_share_one_schedule(aws: Aws) -> None:
    first, second = governor(aws), governor(aws)
    starts = [(first if index % 2 else second).acquire(TICKET, NOW).start for index in range(4)]
    # One request a second, wherever it was asked: no instance hands out capacity twice.
    assert starts == pytest.approx([NOW, NOW + 1, NOW + 2, NOW + 3], abs=1e-6)
    assert int(stored(aws)["version"]) == 4


def test_a_conflicting_write_is_retried_on_the_fresh_state(aws: Aws, monkeypatch) -> None:
    mine, other = governor(aws), governor(aws)
    mine.acquire(TICKET, NOW)
    table = mine._table
    real_get = table.get_item
    raced = []

    def get_then_race(**kwargs: Any) -> Any:
        answer = real_get(**kwargs)
        if not raced:
            raced.append(True)
            other.acquire(TICKET, NOW)  # lands between this instance's read and write
        return answer

    monkeypatch.setattr(table, "get_item", get_then_race)
    verdict = mine.acquire(TICKET, NOW)
    # The retry saw the other instance's booking: this call comes after it.
    assert verdict.start == pytest.approx(NOW + 2, abs=1e-6)
    assert int(stored(aws)["version"]) == 3


def test_reconciliation_rides_on_the_next_write_or_the_flush(aws: Aws) -> None:
    instance = governor(aws)
    instance.acquire(TICKET, NOW)
    before = float(stored(aws)["tat"]["output_tokens"])
    instance.settle(TICKET, Cost(1, 100, 10), {})
    assert float(stored(aws)["tat"]["output_tokens"]) == before  # nothing written yet
    instance.flush()
    # 90 output tokens not used, at 200 tokens a second: 0.45 s of capacity back.
    assert float(stored(aws)["tat"]["output_tokens"]) == pytest.approx(before - 0.45)


def test_a_pause_reaches_every_instance_and_holds_the_local_batch(aws: Aws) -> None:
    first, second = governor(aws), governor(aws)
    first.pause(TICKET, NOW + 30, "model answered 429, retry-after")
    held = second.acquire(TICKET, NOW)
    assert not held.booked
    assert held.start == NOW + 30
    version = int(stored(aws)["version"])
    # Known here now: the rest of the batch is held without touching the table.
    assert not second.acquire(TICKET, NOW + 1).booked
    assert int(stored(aws)["version"]) == version


def test_budgets_count_until_spent_then_refuse_without_counting(aws: Aws) -> None:
    ledger = DynamoDBBudgetLedger(aws.settings.table)
    source = BudgetScope("source:github", daily_tokens=10_000, daily_usd=None)
    route = BudgetScope("route:pr", daily_tokens=None, daily_usd=0.05)
    day = "2026-11-29"
    first = ledger.reserve([source, route], 4_000, 0.02, day)
    assert first.exhausted is None
    assert first.used_percent == {"source:github": 40.0, "route:pr": pytest.approx(40.0)}
    assert ledger.reserve([source, route], 4_000, 0.02, day).exhausted is None
    # The route's USD cap would be passed: refused, and the source's count rolled back.
    third = ledger.reserve([source, route], 1_000, 0.02, day)
    assert third.exhausted == route
    assert ledger.spent(source, day) == (8_000, pytest.approx(0.04))
    ledger.adjust([source, route], -3_000, -0.015, day)
    assert ledger.spent(route, day) == (5_000, pytest.approx(0.025))
    # A call larger than a whole day's budget is refused as it stands.
    assert ledger.reserve([source], 20_000, 0.0, "2026-11-30").exhausted == source
    # Another day starts from nothing; counters expire two days after their day.
    assert ledger.spent(source, "2026-11-30") == (0, 0.0)
    item = (
        boto3.resource("dynamodb")
        .Table(aws.settings.table)
        .get_item(Key={"event_id": f"budget#source:github#{day}"})["Item"]
    )
    midnight = datetime(2026, 11, 29, tzinfo=UTC).timestamp()
    assert int(item["expires_at"]) == midnight + 2 * 86_400


def test_an_instances_concurrent_records_commit_as_a_group(aws: Aws) -> None:
    from concurrent.futures import ThreadPoolExecutor

    instance = governor(aws)
    with ThreadPoolExecutor(10) as pool:
        starts = sorted(pool.map(lambda _: instance.acquire(TICKET, NOW).start, range(30)))
    # Every call got its own second: nothing was handed out twice...
    assert starts == pytest.approx([NOW + index for index in range(30)], abs=1e-6)
    # ...and the records that waited for the key's turn were written together.
    assert int(stored(aws)["version"]) < 30


DEFAULTS = Ticket(
    key="anthropic:claude-defaults",
    limits=RateLimits(
        requests_per_minute=50, input_tokens_per_minute=30_000, output_tokens_per_minute=8_000
    ),
    lane=lane_for("route", 2),
    weight=2,
    cost=Cost(1, 800, 1_024),
    configured=False,
)


def test_limits_one_instance_is_told_reach_every_instance_at_once(aws: Aws) -> None:
    told, other = governor(aws), governor(aws)
    assert told.acquire(DEFAULTS, NOW).booked
    # At Tier 1 the next call waits 7.7 s of output: not before the API has announced.
    assert not other.acquire(DEFAULTS, NOW).booked
    announced = {"requests": (300, 299, NOW + 1), "output_tokens": (400_000, 399_000, NOW + 1)}
    told.settle(DEFAULTS, Cost(1, 800, 200), announced)
    # Written with the answer, not held for the next write: the other instance runs at the
    # API's limits from its next decision.
    verdicts = [other.acquire(DEFAULTS, NOW + 0.5) for _ in range(5)]
    assert all(v.booked for v in verdicts)
    # No burst here: one every 0.2 s, after what the first call holds at the new rates.
    starts = [v.start for v in verdicts]
    assert starts[-1] - starts[0] == pytest.approx(0.8)
    assert starts[0] < NOW + 1.0
    assert verdicts[0].limits == {
        "requests": (300, "announced"),
        "output_tokens": (400_000, "announced"),
    }
    item = (
        boto3.resource("dynamodb")
        .Table(aws.settings.table)
        .get_item(Key={"event_id": f"governor#{DEFAULTS.key}#0"})["Item"]
    )
    assert item["announced"] == {"requests": 300, "output_tokens": 400_000}
    assert item["rates"] == {"requests": 300, "output_tokens": 400_000}


def test_a_429_to_a_call_given_capacity_shrinks_the_burst_for_every_instance(aws: Aws) -> None:
    first = DynamoDBGovernor(aws.settings.table, horizon=5.0, burst=1.0, clock=lambda: NOW)
    second = DynamoDBGovernor(aws.settings.table, horizon=5.0, burst=1.0, clock=lambda: NOW + 60)
    five = Ticket(
        key="anthropic:claude-five",
        limits=RateLimits(requests_per_minute=300),
        lane=lane_for("route", 2),
        weight=2,
        cost=Cost(1, 0, 0),
    )
    assert [first.acquire(five, NOW).start for _ in range(6)] == [NOW] * 6
    first.refused(five, NOW + 1.0, "model answered 429, retry-after")
    # Half a second of burst, learned in the shared state: three at once, the fourth when the
    # backlog is back within half a second.
    starts = [second.acquire(five, NOW + 60).start for _ in range(4)]
    assert starts == pytest.approx([NOW + 60] * 3 + [NOW + 60.1], abs=1e-6)
