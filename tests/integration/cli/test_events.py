"""`hookwise events`: the list fits 80 columns with every status whole, and `show` takes back
the short ids the list prints (over real HTTP to a loopback fake of the events API)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from rich.console import Console

from hookwise.cli.events import events, events_table
from hookwise.domain.events import EventStatus, make_event_id
from tests.loopback import QuietHandler, serving

# Event types run long (Stripe's reach 30+ characters); "standard" is the longest source name.
LONG_TYPE = "invoice.payment_action_required"
SOURCE = "standard"


def stored(status: str, n: int) -> dict[str, Any]:
    event = {
        "event_id": make_event_id(SOURCE, f"delivery-{n}"),
        "source": SOURCE,
        "event_type": LONG_TYPE,
        "status": status,
        "attempts": 12,
        "received_at": f"2026-11-29T12:34:{n:02d}.123Z",
    }
    if status == EventStatus.DEFERRED:
        event["defer_reason"] = "rate limit: input_tokens"
        event["deferred_until"] = "2026-11-29T12:35:07.000Z"
    return event


EVENTS = [stored(status.value, n) for n, status in enumerate(EventStatus)]


def test_list_fits_80_columns_and_never_cuts_a_status() -> None:
    console = Console(width=80, record=True)
    console.print(events_table(EVENTS, "recent events"))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    lines = text.splitlines()
    for event in EVENTS:
        row = next(line for line in lines if line.startswith(event["event_id"][:16]))
        assert re.search(rf"\s{event['status']}\s", row), row
        assert "11-29 12:34:" in row


class EventsApi(QuietHandler):
    """`GET /events?limit=` and `GET /events/{id}` over EVENTS."""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        by_id = {event["event_id"]: event for event in EVENTS}
        if path == "/events":
            self._answer(200, {"events": EVENTS})
        elif path.removeprefix("/events/") in by_id:
            self._answer(200, by_id[path.removeprefix("/events/")])
        else:
            self._answer(404, {"error": "unknown event"})

    def _answer(self, status: int, value: Any) -> None:
        self.answer(status, json.dumps(value).encode())


@pytest.fixture
def port() -> Iterator[int]:
    with serving(EventsApi) as port:
        yield port


def test_show_takes_the_short_id_the_list_prints(port: int) -> None:
    listed = CliRunner().invoke(events, ["list", "--port", str(port)])
    assert listed.exit_code == 0, listed.output
    wanted = EVENTS[2]
    short = next(word for word in listed.output.split() if wanted["event_id"].startswith(word))
    assert len(short) < len(wanted["event_id"])

    shown = CliRunner().invoke(events, ["show", short, "--port", str(port), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == wanted


def test_list_says_why_and_until_when_deferred_events_wait(port: int) -> None:
    listed = CliRunner().invoke(events, ["list", "--port", str(port)], env={"COLUMNS": "80"})
    assert listed.exit_code == 0, listed.output
    deferred = next(e for e in EVENTS if e["status"] == EventStatus.DEFERRED)
    assert (
        f"{deferred['event_id'][:16]} deferred: rate limit: input_tokens (until 11-29 12:35:07)"
        in listed.output
    )


def test_show_refuses_an_unknown_short_id(port: int) -> None:
    shown = CliRunner().invoke(events, ["show", "evt_zzzz", "--port", str(port)])
    assert shown.exit_code == 1
    assert "no event evt_zzzz" in shown.output
