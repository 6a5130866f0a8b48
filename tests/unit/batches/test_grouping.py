"""The collector's grouping: a batch is due by size or by its oldest event's age; an event with
too little of its wait left is late (the route's fallback decides)."""

from __future__ import annotations

import pytest

from hookwise.batches.collector import GATHER_SHARE, LATE_SHARE, due, late
from hookwise.batches.ports import Parked
from hookwise.config.models import BatchSettings, Match, Route

WAIT = 900
NOW = 1_000_000.0


def route(max_size: int = 10) -> Route:
    return Route(
        name="digest",
        match=Match(source="github"),
        system="Summarise.",
        output="event_summary",
        mode="batch",
        batch=BatchSettings(max_wait_seconds=WAIT, max_size=max_size),
    )


def parked(waited: float, event_id: str = "evt_1") -> Parked:
    """An entry received `waited` seconds before NOW."""
    return Parked("digest", event_id, "2026-01-01T00:00:00.000Z", NOW - waited + WAIT, 0)


def test_nothing_parked_is_never_due() -> None:
    assert not due([], route(), NOW)


def test_a_full_batch_is_due_at_once() -> None:
    entries = [parked(1, f"evt_{n}") for n in range(10)]
    assert due(entries, route(max_size=10), NOW)
    assert not due(entries[:9], route(max_size=10), NOW)


@pytest.mark.parametrize(
    ("waited", "expected"),
    [(0, False), (WAIT * GATHER_SHARE - 1, False), (WAIT * GATHER_SHARE, True)],
)
def test_a_partial_batch_is_due_once_its_oldest_waited_its_share(
    waited: float, expected: bool
) -> None:
    assert due([parked(1, "evt_new"), parked(waited, "evt_old")], route(), NOW) is expected


def test_an_event_is_late_only_with_less_than_its_share_of_the_wait_left() -> None:
    on_time = WAIT * (1 - LATE_SHARE)
    assert not late(parked(WAIT * GATHER_SHARE), route(), NOW)
    assert not late(parked(on_time), route(), NOW)
    assert late(parked(on_time + 1), route(), NOW)
    # A batch submitted when due still leaves its events time to run.
    assert GATHER_SHARE < 1 - LATE_SHARE
