"""A ledger item expires with its event: never before the event's batch path can end."""

from __future__ import annotations

import time

from hookwise.adapters.store.dynamodb import DEFAULT_TTL_SECONDS
from hookwise.batches.parking import ledger_expiry, parked_entry, received_epoch
from hookwise.config.models import BatchSettings, Match, Route
from hookwise.domain.events import EventRecord

DAY = 86_400
RECEIVED = "2026-01-01T00:00:00.000Z"


def record(expires_at: int | None) -> EventRecord:
    return EventRecord(
        event_id="evt_1",
        source="github",
        event_type="pull_request.opened",
        received_at=RECEIVED,
        updated_at=RECEIVED,
        expires_at=expires_at,
    )


def test_an_entry_expires_with_its_event() -> None:
    route = Route(
        name="digest",
        match=Match(source="github"),
        system="Summarise.",
        output="event_summary",
        mode="batch",
        batch=BatchSettings(max_wait_seconds=DAY),
    )
    # As ingest writes it: 30 days after arrival (`event_ttl_days`).
    event = record(expires_at=int(received_epoch(record(None))) + 30 * DAY)
    entry = parked_entry(event, route)
    assert entry.expires_at == event.expires_at
    # The longest wait a route may set, then a batch of up to 24 hours, end well before.
    assert entry.deadline + DAY < entry.expires_at


def test_an_event_written_without_an_expiry_gets_the_stores_default_lifetime() -> None:
    before = int(time.time())
    assert (
        before + DEFAULT_TTL_SECONDS
        <= ledger_expiry(record(None))
        <= time.time() + DEFAULT_TTL_SECONDS
    )
