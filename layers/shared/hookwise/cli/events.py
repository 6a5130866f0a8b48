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
    """One event: status, attempts, result, error, usage, and each action's outcome."""
    event: dict[str, Any] = get_json(api(port, stack), f"/events/{event_id}")
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
