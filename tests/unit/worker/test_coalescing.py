"""The coalescing decision on a subject's window, and the order events are compared in."""

from __future__ import annotations

from hookwise.adapters.coalescing import Entry, Window
from hookwise.config import CoalesceSettings
from hookwise.domain.events import EventRecord
from hookwise.worker.coalescing import (
    CLAIM,
    RECHECK_SECONDS,
    REGISTER_AND_RUN,
    Run,
    Superseded,
    Wait,
    decide,
    order_key,
)

SETTINGS = CoalesceSettings(quiet_seconds=60, max_wait_seconds=180)


def entry(name: str, at: float) -> Entry:
    return Entry(f"2026-12-04T10:00:{at:06.3f}Z|{name}", f"evt_{name}", at)


def newest(one: Entry, first_at: float | None = None, **more: str) -> Window:
    first = one.at if first_at is None else first_at
    return Window(
        newest_key=one.key, newest_id=one.event_id, newest_at=one.at, first_at=first, **more
    )


def test_the_first_event_registers_and_waits_for_the_quiet_period() -> None:
    assert decide(Window(), entry("a", 1), now=1, settings=SETTINGS, rechecked=False) == Wait(
        61, register=True
    )


def test_a_newer_event_takes_over_and_the_older_ends_naming_the_one_that_ran() -> None:
    older, newer = entry("a", 0), entry("b", 20)
    assert decide(newest(older), newer, now=20, settings=SETTINGS, rechecked=False) == Wait(
        80, register=True
    )
    # Back while the newer one waits: again once its run is due, to learn who ran.
    behind = decide(newest(newer, first_at=0), older, now=60, settings=SETTINGS, rechecked=False)
    assert behind == Wait(80 + RECHECK_SECONDS, behind=True)
    # The newer one overtaken in turn: next at the window's deadline, when one has surely run.
    overtaken = newest(entry("c", 75), first_at=0)
    assert decide(overtaken, older, now=82, settings=SETTINGS, rechecked=True) == Wait(
        180 + RECHECK_SECONDS, behind=True
    )
    ran = Window(newest_key=newer.key, ran_key=newer.key, ran_id="evt_b")
    verdict = decide(ran, older, now=82, settings=SETTINGS, rechecked=False)
    assert verdict == Superseded("evt_b", "a newer event of the subject ran in its place")


def test_the_newest_runs_once_the_subject_is_quiet_and_not_before() -> None:
    one = entry("a", 0)
    window = newest(one)
    assert decide(window, one, now=59.9, settings=SETTINGS, rechecked=False) == Wait(60)
    assert decide(window, one, now=60, settings=SETTINGS, rechecked=False) == Run(claim=CLAIM)


def test_an_event_registering_after_a_backlog_still_waits_for_the_quiet_period() -> None:
    # Registered long after it reached hookwise: later events of the burst may be queued.
    assert decide(Window(), entry("a", 0), now=500, settings=SETTINGS, rechecked=False) == Wait(
        560, register=True
    )


def test_steady_events_still_run_at_the_max_wait_after_the_first() -> None:
    # The window opened at 0; an event at 170 would wait until 230 but for the max wait.
    window = newest(entry("y", 160), first_at=0)
    late = entry("z", 170)
    assert decide(window, late, now=170, settings=SETTINGS, rechecked=False) == Wait(
        180, register=True
    )
    # One registering at the max wait runs at once.
    at_deadline = entry("zz", 181)
    verdict = decide(
        newest(late, first_at=0), at_deadline, now=181, settings=SETTINGS, rechecked=False
    )
    assert verdict == Run(claim=REGISTER_AND_RUN)


def test_an_event_after_a_run_opens_a_new_window() -> None:
    ran = entry("a", 0)
    window = Window(
        newest_key=ran.key, newest_id=ran.event_id, newest_at=0, ran_key=ran.key, ran_id="evt_a"
    )
    assert decide(window, entry("b", 100), now=100, settings=SETTINGS, rechecked=False) == Wait(
        160, register=True
    )


def test_an_event_that_claimed_its_run_runs_when_it_comes_back() -> None:
    one = entry("a", 0)
    window = Window(newest_key=entry("b", 5).key, newest_id="evt_b", ran_key=one.key)
    assert decide(window, one, now=61, settings=SETTINGS, rechecked=False) == Run(claim=None)


def test_an_event_older_than_the_last_run_or_a_cancel_ends_superseded() -> None:
    old = entry("a", 0)
    ran = Window(newest_key=entry("b", 5).key, ran_key=entry("b", 5).key, ran_id="evt_b")
    assert decide(ran, old, now=70, settings=SETTINGS, rechecked=False) == Superseded(
        "evt_b", "a newer event of the subject ran in its place"
    )
    cancel = entry("c", 10)
    cancelled = Window(
        newest_key=old.key,
        newest_at=0,
        cancel_key=cancel.key,
        cancel_id="evt_c",
        cancel_type="pull_request.closed",
    )
    assert decide(cancelled, old, now=70, settings=SETTINGS, rechecked=False) == Superseded(
        "evt_c", "cancelled by pull_request.closed"
    )
    # An event ordered after the cancel (the PR reopened and pushed) goes on as usual.
    later = decide(cancelled, entry("d", 20), now=20, settings=SETTINGS, rechecked=False)
    assert later == Wait(80, register=True)


def record(event_id: str, received_at: str) -> EventRecord:
    return EventRecord(
        event_id=event_id,
        source="github",
        event_type="pull_request.synchronize",
        received_at=received_at,
        updated_at=received_at,
    )


def test_the_order_is_the_providers_time_of_the_event_not_the_arrival() -> None:
    settings = CoalesceSettings(order_by="pull_request.updated_at")
    first_pushed = order_key(
        settings,
        record("evt_a", "2026-12-04T10:00:09.000Z"),
        {"pull_request": {"updated_at": "2026-12-04T10:00:01Z"}},
    )
    then_pushed = order_key(
        settings,
        record("evt_b", "2026-12-04T10:00:05.000Z"),
        {"pull_request": {"updated_at": "2026-12-04T10:00:02Z"}},
    )
    assert first_pushed < then_pushed
    # Epoch seconds compare with ISO 8601 times.
    as_epoch = order_key(
        settings,
        record("evt_c", "2026-12-04T10:00:05.000Z"),
        {"pull_request": {"updated_at": 1796378403}},
    )
    assert then_pushed < as_epoch
    # Without the provider's time, the arrival at ingest.
    unordered = CoalesceSettings()
    assert order_key(unordered, record("evt_b", "2026-12-04T10:00:05.000Z"), {}) < order_key(
        unordered, record("evt_a", "2026-12-04T10:00:09.000Z"), {}
    )
