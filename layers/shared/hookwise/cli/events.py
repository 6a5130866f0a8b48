"""`hookwise events list|show`: what happened to each event."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import click
import httpx
from rich import box
from rich.console import Console
from rich.table import Table

from hookwise.cli.common import api, get_json, target_options
from hookwise.domain.events import make_event_id

out = Console()

ID_PREFIX = "evt_"
FULL_ID_CHARS = len(make_event_id("", ""))
# Enough to tell apart the events a list shows; `events show` accepts it back.
SHORT_ID_CHARS = 12
# The most the API lists, so `events show` can find a shortened id among them.
RECENT_LIMIT = 100


def short_id(event_id: str) -> str:
    return event_id[: len(ID_PREFIX) + SHORT_ID_CHARS]


def compact_time(timestamp: str) -> str:
    """`2026-11-29T12:34:16.123Z` -> `11-29 12:34:16` (UTC, like the stored times)."""
    try:
        return datetime.fromisoformat(timestamp).strftime("%m-%d %H:%M:%S")
    except ValueError:
        return timestamp


def events_table(events: Iterable[Mapping[str, Any]], title: str) -> Table:
    """Fits 80 columns: ids and times are shortened, a long type wraps, a status never does."""
    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True, pad_edge=False
    )
    table.add_column("event id", no_wrap=True)
    table.add_column("source", no_wrap=True)
    table.add_column("type", overflow="fold")
    table.add_column("status", no_wrap=True, min_width=len("processing"))
    table.add_column("tries", justify="right", no_wrap=True)
    table.add_column("received (UTC)", no_wrap=True)
    for event in events:
        table.add_row(
            short_id(event["event_id"]),
            event["source"],
            event["event_type"],
            event["status"],
            str(event["attempts"]),
            compact_time(event["received_at"]),
        )
    return table


def waiting_reasons(events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Why each deferred event waits, and until when: a line each under the table."""
    return [
        f"{short_id(event['event_id'])} deferred: {event.get('defer_reason', '?')}"
        + (f" (until {compact_time(event['deferred_until'])})" if "deferred_until" in event else "")
        for event in events
        if event["status"] == "deferred"
    ]


@click.group()
def events() -> None:
    """Inspect stored events."""


@events.command("list")
@target_options
@click.option("--limit", type=click.IntRange(1, RECENT_LIMIT), default=20, show_default=True)
def list_(port: int, stack: str | None, as_json: bool, limit: int) -> None:
    """The most recent events, newest first (ids shortened; `--json` for full ones)."""
    answer = get_json(api(port, stack), f"/events?limit={limit}")
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    out.print(events_table(answer["events"], f"{len(answer['events'])} recent events"))
    for line in waiting_reasons(answer["events"]):
        out.print(line, overflow="fold", highlight=False)


def full_id(client: httpx.Client, event_id: str) -> str:
    """The full id of a shortened one (as `events list` prints it), among the recent events."""
    if len(event_id) >= FULL_ID_CHARS:
        return event_id
    recent = get_json(client, f"/events?limit={RECENT_LIMIT}")["events"]
    matches = sorted({e["event_id"] for e in recent if e["event_id"].startswith(event_id)})
    if len(matches) > 1:
        raise click.ClickException(f"{event_id} is ambiguous: {', '.join(matches)}")
    if not matches:
        raise click.ClickException(
            f"no event {event_id} among the {RECENT_LIMIT} most recent; give the full id"
        )
    return matches[0]


@events.command("show")
@click.argument("event_id")
@target_options
def show(event_id: str, port: int, stack: str | None, as_json: bool) -> None:
    """One event (full id, or the short one `events list` prints): status, attempts, result,
    error, usage, and each action's outcome."""
    client = api(port, stack)
    event_id = full_id(client, event_id)
    event: dict[str, Any] = get_json(client, f"/events/{event_id}")
    if as_json:
        click.echo(json.dumps(event, indent=2))
        return
    table = Table(show_header=False, title=event_id)
    for key, value in event.items():
        if key in ("event_id", "actions"):
            continue
        shown = json.dumps(value, indent=2) if isinstance(value, dict | list) else str(value)
        table.add_row(key, shown)
    out.print(table)
    if event.get("actions"):
        out.print(actions_table(event["actions"]))


ACTION_COLUMNS = ("status", "target", "at")


def actions_table(actions: dict[str, dict[str, Any]]) -> Table:
    """One row per action: its outcome, where it acted, and what else it recorded."""
    table = Table(title="actions")
    for column in ("action", *ACTION_COLUMNS, "detail"):
        table.add_column(column)
    for name, outcome in sorted(actions.items()):
        detail = {key: value for key, value in outcome.items() if key not in ACTION_COLUMNS}
        table.add_row(
            name,
            *(str(outcome.get(column, "")) for column in ACTION_COLUMNS),
            json.dumps(detail, ensure_ascii=False) if detail else "",
        )
    return table
