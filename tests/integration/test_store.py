"""The DynamoDB event store: every transition is conditional, so no event is handled twice."""

from __future__ import annotations

import pytest

from hookwise.adapters.store import TransitionConflict
from hookwise.adapters.store.dynamodb import DynamoDBEventStore
from hookwise.domain.events import EventRecord, EventStatus, Usage
from tests.conftest import Aws


def record(event_id: str = "evt_1", received_at: str = "2026-11-23T04:00:00.000Z") -> EventRecord:
    return EventRecord(
        event_id=event_id,
        source="github",
        event_type="push",
        received_at=received_at,
        updated_at=received_at,
        body=b"\x00raw bytes\xff",
    )


@pytest.fixture
def store(aws: Aws) -> DynamoDBEventStore:
    return DynamoDBEventStore(aws.settings.table)


def test_put_is_conditional_and_keeps_the_exact_body(store: DynamoDBEventStore) -> None:
    assert store.put_new(record(), dispatch_lease_until=10.0)
    assert not store.put_new(record(), dispatch_lease_until=10.0)
    stored = store.get("evt_1")
    assert stored is not None
    assert stored.body == b"\x00raw bytes\xff"
    assert stored.status is EventStatus.RECEIVED


def test_dispatch_lease_is_exclusive_until_it_lapses(store: DynamoDBEventStore) -> None:
    store.put_new(record(), dispatch_lease_until=10.0)
    assert not store.acquire_dispatch("evt_1", now=5.0, lease_until=20.0)
    assert store.acquire_dispatch("evt_1", now=11.0, lease_until=20.0)
    assert not store.acquire_dispatch("evt_1", now=12.0, lease_until=30.0)


def test_claim_is_held_by_one_worker_until_its_lease_lapses(store: DynamoDBEventStore) -> None:
    store.put_new(record(), dispatch_lease_until=0.0)
    store.transition("evt_1", from_statuses=[EventStatus.RECEIVED], to_status=EventStatus.QUEUED)
    claimed = store.claim("evt_1", now=100.0, lease_until=200.0)
    assert claimed.status is EventStatus.PROCESSING
    assert claimed.attempts == 1
    with pytest.raises(TransitionConflict):
        store.claim("evt_1", now=150.0, lease_until=250.0)
    # A worker that died mid-record: its lease lapses and the redelivered message takes over.
    assert store.claim("evt_1", now=201.0, lease_until=300.0).attempts == 2


def test_final_events_cannot_be_claimed_or_reopened(store: DynamoDBEventStore) -> None:
    store.put_new(record(), dispatch_lease_until=0.0)
    store.claim("evt_1", now=1.0, lease_until=2.0)
    done = store.transition(
        "evt_1",
        from_statuses=[EventStatus.PROCESSING],
        to_status=EventStatus.COMPLETED,
        updates={
            "result": {"summary": "done", "score": 0.5},
            "usage": Usage(input_tokens=10, cost_usd=0.25).model_dump(),
        },
    )
    assert done.result == {"summary": "done", "score": 0.5}
    assert done.usage is not None
    assert done.usage.cost_usd == 0.25
    with pytest.raises(TransitionConflict):
        store.claim("evt_1", now=10.0, lease_until=20.0)
    with pytest.raises(TransitionConflict):
        store.transition(
            "evt_1", from_statuses=[EventStatus.PROCESSING], to_status=EventStatus.FAILED
        )
    with pytest.raises(TransitionConflict):
        store.transition(
            "evt_unknown", from_statuses=[EventStatus.QUEUED], to_status=EventStatus.PROCESSING
        )


def test_pending_lists_only_received_events_older_than_the_cutoff(
    store: DynamoDBEventStore,
) -> None:
    store.put_new(record("evt_old", "2026-11-23T04:00:00.000Z"), dispatch_lease_until=0.0)
    store.put_new(record("evt_new", "2026-11-23T05:00:00.000Z"), dispatch_lease_until=0.0)
    store.put_new(record("evt_queued", "2026-11-23T03:00:00.000Z"), dispatch_lease_until=0.0)
    store.transition(
        "evt_queued", from_statuses=[EventStatus.RECEIVED], to_status=EventStatus.QUEUED
    )
    pending = store.list_pending(received_before="2026-11-23T04:30:00.000Z", limit=10)
    assert [r.event_id for r in pending] == ["evt_old"]


def test_recent_events_newest_first(store: DynamoDBEventStore) -> None:
    for index in range(3):
        store.put_new(record(f"evt_{index}", f"2026-11-23T0{index}:00:00.000Z"), 0.0)
    assert [r.event_id for r in store.list_recent(2)] == ["evt_2", "evt_1"]
