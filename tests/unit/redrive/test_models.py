"""Action validation, the rate pacer, filters, and the CLI's duration/age parsing."""

from __future__ import annotations

from typing import Any

import click
import pytest

from hookwise.cli.dlq import age, filters, seconds
from hookwise.domain.events import EventRecord, EventStatus, QueueMessage
from hookwise.redrive.models import (
    BulkAnswer,
    InvalidAction,
    Outcome,
    RedriveAction,
    ReplayAction,
    SummaryAction,
    parse_action,
)
from hookwise.redrive.ports import DeadLetter
from hookwise.redrive.service import _Entry, _Pacer


def test_actions_are_told_apart_by_name() -> None:
    assert isinstance(parse_action({"action": "summary"}), SummaryAction)
    redrive = parse_action({"action": "redrive", "source": "github", "limit": 3, "dry_run": True})
    assert isinstance(redrive, RedriveAction)
    assert (redrive.source, redrive.limit, redrive.dry_run) == ("github", 3, True)
    replay = parse_action({"action": "replay", "event_ids": ["a"], "force": True})
    assert isinstance(replay, ReplayAction)
    assert replay.force


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"action": "purge"}, "action"),
        ({"action": "redrive", "soruce": "github"}, "soruce"),
        ({"action": "list", "limit": 0}, "limit"),
        ({"action": "replay", "event_ids": []}, "event_ids"),
        ({"action": "redrive", "older_than": -5}, "older_than"),
        (["summary"], "action"),
    ],
)
def test_invalid_actions_name_the_field_at_fault(payload: Any, where: str) -> None:
    with pytest.raises(InvalidAction) as caught:
        parse_action(payload)
    assert any(where in detail for detail in caught.value.details), caught.value.details


def test_bulk_answer_counts_outcomes() -> None:
    answer = BulkAnswer.of(
        "redrive",
        False,
        [Outcome(event_id="a", outcome="redriven"), Outcome(event_id="b", outcome="redriven"),
         Outcome(event_id="c", outcome="missing")],
    )  # fmt: skip
    assert answer.counts == {"redriven": 2, "missing": 1}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_spaces_sends_without_sleeping_before_the_first() -> None:
    clock = Clock()
    pacer = _Pacer(4.0, lambda: clock.now, clock.sleep)

    for _ in range(5):
        pacer.wait()

    assert clock.slept == [0.25] * 4


def test_pacer_does_not_sleep_when_work_is_already_slower() -> None:
    clock = Clock()
    pacer = _Pacer(4.0, lambda: clock.now, clock.sleep)
    pacer.wait()
    clock.now += 1
    pacer.wait()
    assert clock.slept == []


def entry(reason_attr: str | None, error: str | None, sent_at: float = 0.0) -> _Entry:
    message = QueueMessage(event_id="evt_1", source="github", event_type="push")
    record = EventRecord(
        event_id="evt_1",
        source="github",
        event_type="push",
        status=EventStatus.FAILED,
        received_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
        error=error,
    )
    return _Entry(DeadLetter("m1", "h1", message, sent_at, 3, reason_attr), record)


def test_the_item_error_wins_over_the_attribute() -> None:
    assert entry("from attribute", "exhausted: 500").reason() == "exhausted: 500"
    assert entry("from attribute", None).reason() == "from attribute"
    assert entry(None, None).reason() == "unknown"


@pytest.mark.parametrize(
    ("given", "matches"),
    [
        ({}, True),
        ({"source": "github", "event_type": "push"}, True),
        ({"source": "stripe"}, False),
        ({"reason": "EXHAUSTED"}, True),
        ({"reason": "schema"}, False),
        ({"older_than": 50}, True),
        ({"older_than": 200}, False),
        ({"newer_than": 200}, True),
        ({"newer_than": 50}, False),
        ({"event_ids": ["evt_1", "evt_2"]}, True),
        ({"event_ids": ["evt_2"]}, False),
    ],
)
def test_filters(given: dict[str, Any], matches: bool) -> None:
    action = RedriveAction(action="redrive", **given)
    assert entry(None, "exhausted: 500", sent_at=900.0).matches(action, now=1000.0) is matches


def test_a_malformed_message_only_shows_up_unfiltered() -> None:
    letter = DeadLetter("m1", "h1", None, 0.0, 1, None)
    assert _Entry(letter, None).matches(SummaryAction(action="summary"), now=1.0)
    assert not _Entry(letter, None).matches(
        RedriveAction(action="redrive", source="github"), now=1.0
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90", 90.0), ("90s", 90.0), ("15m", 900.0), ("2h", 7200.0), ("1d", 86400.0)],
)
def test_durations(text: str, expected: float) -> None:
    assert seconds(click.Context(click.Command("x")), click.Option(["--x"]), text) == expected


def test_a_bad_duration_is_a_usage_error() -> None:
    with pytest.raises(click.BadParameter):
        seconds(click.Context(click.Command("x")), click.Option(["--x"]), "soon")


def test_ages_read_easily() -> None:
    assert [age(v) for v in (None, 5, 75, 3700, 90000)] == ["-", "5s", "1m 15s", "1h 1m", "1d 1h"]


def test_only_given_filters_are_sent() -> None:
    assert filters({"source": "github", "event_type": None, "event_ids": ()}) == {
        "source": "github"
    }
    assert filters({"event_ids": ("a", "b"), "older_than": 60.0}) == {
        "event_ids": ["a", "b"],
        "older_than": 60.0,
    }
