"""`hookwise events list|show`: what happened to each event."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from hookwise.cli.common import api, get_json, target_options

out = Console()


@click.group()
def events() -> None:
    """Inspect stored events."""


@events.command("list")
@target_options
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
def list_(port: int, stack: str | None, as_json: bool, limit: int) -> None:
    """The most recent events, newest first."""
    answer = get_json(api(port, stack), f"/events?limit={limit}")
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    table = Table(title=f"{len(answer['events'])} recent events")
    for column in ("event id", "source", "type", "status", "attempts", "received"):
        table.add_column(column, no_wrap=column == "event id")
    for event in answer["events"]:
        table.add_row(
            event["event_id"],
            event["source"],
            event["event_type"],
            event["status"],
            str(event["attempts"]),
            event["received_at"],
        )
    out.print(table)


@events.command("show")
@click.argument("event_id")
@target_options
def show(event_id: str, port: int, stack: str | None, as_json: bool) -> None:
    """One event: status, attempts, result, error, usage."""
    event: dict[str, Any] = get_json(api(port, stack), f"/events/{event_id}")
    if as_json:
        click.echo(json.dumps(event, indent=2))
        return
    table = Table(show_header=False, title=event_id)
    for key, value in event.items():
        if key == "event_id":
            continue
        shown = json.dumps(value, indent=2) if isinstance(value, dict | list) else str(value)
        table.add_row(key, shown)
    out.print(table)
