"""`hookwise dlq summary|list|redrive` and `hookwise replay`: on-call, through the dlq_redrive
function (the local stack's invoke endpoint, or the deployed Lambda)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import click
import httpx
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hookwise.cli import common

FUNCTION = "dlq_redrive"
# Messages per redrive call: small enough for a real progress bar and a short Lambda run.
DEFAULT_CHUNK = 25
EVENT_ID_CHARS = 36  # "evt_" and 32 hex digits: never cut, it is what on-call copies
DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
out = Console()
err = Console(stderr=True)


def local_invoker(port: int) -> Invoke:
    url = f"http://127.0.0.1:{port}/_local/invoke/{FUNCTION}"

    def invoke(payload: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = httpx.post(url, json=payload, timeout=330)
        except httpx.TransportError as error:
            raise click.ClickException(
                f"cannot reach the local stack at {url} ({error}); is `hookwise dev` running?"
            ) from error
        if answer.status_code != 200:
            raise click.ClickException(f"{url} answered {answer.status_code}: {answer.text}")
        result: dict[str, Any] = answer.json()
        return result

    return invoke


def lambda_invoker(function_name: str) -> Invoke:
    import boto3

    client = boto3.client("lambda")

    def invoke(payload: dict[str, Any]) -> dict[str, Any]:
        answer = client.invoke(FunctionName=function_name, Payload=json.dumps(payload).encode())
        body = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            raise click.ClickException(f"{function_name} failed: {body}")
        result: dict[str, Any] = body
        return result

    return invoke


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The CLI's shared --port/--stack/--json, plus --function-name for a deployed function."""
    command = click.option(
        "--function-name", default=None, help="invoke this deployed function directly"
    )(command)
    return common.target_options(command)


def invoker(port: int, stack: str | None, function_name: str | None) -> Invoke:
    if function_name:
        return lambda_invoker(function_name)
    if stack:
        return lambda_invoker(common.stack_output(stack, "redrive"))
    return local_invoker(port)


def seconds(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    """`90`, `90s`, `15m`, `2h`, `1d` -> seconds."""
    if value is None:
        return None
    match = DURATION.match(value.strip().lower())
    if not match:
        raise click.BadParameter("a duration like 90, 15m, 2h or 1d")
    return float(match.group(1)) * UNITS[match.group(2)]


def filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in (
        click.option("--event-id", "event_ids", multiple=True, help="only these events"),
        click.option("--source", default=None),
        click.option("--event-type", default=None),
        click.option("--reason", default=None, help="text in the failure reason"),
        click.option("--older-than", default=None, callback=seconds, help="e.g. 15m, 2h"),
        click.option("--newer-than", default=None, callback=seconds, help="e.g. 15m, 2h"),
    ):
        command = option(command)
    return command


def filters(options: dict[str, Any]) -> dict[str, Any]:
    """The filters given on the command line, as the action's fields."""
    names = ("source", "event_type", "reason", "older_than", "newer_than")
    chosen = {name: options[name] for name in names if options.get(name) is not None}
    if options.get("event_ids"):
        chosen["event_ids"] = list(options["event_ids"])
    return chosen


def call(invoke: Invoke, payload: dict[str, Any]) -> dict[str, Any]:
    answer = invoke(payload)
    if not answer.get("ok", False):
        details = "; ".join(answer.get("details", []))
        raise click.ClickException(f"{answer.get('error', 'failed')}: {details}".rstrip(": "))
    return answer


def age(value: float | None) -> str:
    if value is None:
        return "-"
    whole = int(value)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60}s"
    if whole < 86400:
        return f"{whole // 3600}h {whole % 3600 // 60}m"
    return f"{whole // 86400}d {whole % 86400 // 3600}h"


def print_json(answer: dict[str, Any]) -> None:
    click.echo(json.dumps(answer, indent=2))


def outcomes_table(title: str, answer: dict[str, Any]) -> Table:
    table = Table(title=title)
    table.add_column("Event id", no_wrap=True, min_width=EVENT_ID_CHARS)
    table.add_column("Outcome", no_wrap=True, min_width=len("would_redrive"))
    table.add_column("Detail")
    for item in answer["outcomes"]:
        table.add_row(item["event_id"] or "-", item["outcome"], item["detail"])
    return table


def counts_line(answer: dict[str, Any]) -> str:
    counts = answer["counts"]
    return ", ".join(f"{name}: {count}" for name, count in sorted(counts.items())) or "nothing"


@click.group()
def dlq() -> None:
    """Inspect and redrive the dead-letter queue."""


@dlq.command()
@filter_options
@target_options
def summary(
    port: int, stack: str | None, function_name: str | None, as_json: bool, **options: Any
) -> None:
    """Dead letters by source, event type and failure reason, with the oldest age."""
    answer = call(invoker(port, stack, function_name), {"action": "summary", **filters(options)})
    if as_json:
        print_json(answer)
        return
    table = Table(
        title=f"DLQ: {answer['total']} message(s), oldest {age(answer['oldest_age_seconds'])}"
    )
    for column in ("Source", "Event type", "Reason", "Count", "Oldest"):
        table.add_column(column, justify="right" if column in ("Count", "Oldest") else "left")
    for group in answer["groups"]:
        table.add_row(
            group["source"],
            group["event_type"],
            group["reason"],
            str(group["count"]),
            age(group["oldest_age_seconds"]),
        )
    out.print(table)


@dlq.command(name="list")
@filter_options
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@target_options
def list_(
    port: int,
    stack: str | None,
    function_name: str | None,
    as_json: bool,
    limit: int,
    **options: Any,
) -> None:
    """Dead letters one by one, oldest first (nothing is consumed)."""
    answer = call(
        invoker(port, stack, function_name), {"action": "list", "limit": limit, **filters(options)}
    )
    if as_json:
        print_json(answer)
        return
    table = Table(title=f"DLQ: {answer['count']} message(s)", box=box.SIMPLE_HEAD)
    table.add_column("Event id", no_wrap=True, min_width=EVENT_ID_CHARS)
    table.add_column("Event", no_wrap=True)
    for column in ("Status", "Att.", "Redr."):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    table.add_column("Age", justify="right", no_wrap=True, min_width=len("59m 59s"))
    # One line per message: the full reason is in `--json` (and grouped in `dlq summary`).
    table.add_column("Reason", no_wrap=True, overflow="ellipsis", max_width=50)
    for item in answer["messages"]:
        table.add_row(
            item["event_id"] or "-",
            f"{item['source']}/{item['event_type']}",
            item["status"] or "-",
            str(item["attempts"] or 0),
            str(item["redrive_count"] or 0),
            age(item["age_seconds"]),
            item["reason"],
        )
    out.print(table)


@dlq.command()
@filter_options
@click.option("--limit", type=click.IntRange(min=1), default=None, help="at most this many")
@click.option("--dry-run", is_flag=True, help="show what would move; change nothing")
@click.option(
    "--rate",
    "rate_per_second",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="messages per second to the main queue",
)
@click.option(
    "--chunk",
    type=click.IntRange(min=1),
    default=DEFAULT_CHUNK,
    show_default=True,
    help="messages per function call",
)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@target_options
def redrive(
    port: int,
    stack: str | None,
    function_name: str | None,
    as_json: bool,
    limit: int | None,
    dry_run: bool,
    rate_per_second: float,
    chunk: int,
    yes: bool,
    **options: Any,
) -> None:
    """Move matching dead letters back to the main queue (their events go back to queued)."""
    invoke = invoker(port, stack, function_name)
    base = {"action": "redrive", "rate_per_second": rate_per_second, **filters(options)}
    # A dry run first, always: it sizes the progress bar and is what the confirmation shows.
    plan = call(invoke, {**base, "dry_run": True, **({"limit": limit} if limit else {})})
    planned = sum(plan["counts"].get(name, 0) for name in ("would_redrive", "would_discard"))
    if dry_run:
        if as_json:
            print_json(plan)
        else:
            out.print(outcomes_table("Dry run: nothing changed", plan))
            out.print(f"would move {planned}; {counts_line(plan)}")
        return
    if planned == 0:
        if as_json:
            print_json(plan | {"dry_run": False, "counts": {}, "outcomes": []})
        else:
            out.print("nothing to redrive")
        return
    if not yes:
        click.confirm(f"Redrive {planned} message(s) to the main queue?", abort=True, err=True)
    answer = run_redrive(invoke, base, planned, limit, chunk)
    if as_json:
        print_json(answer)
    else:
        out.print(outcomes_table("Redrive", answer))
        out.print(counts_line(answer))


def run_redrive(
    invoke: Invoke, base: dict[str, Any], planned: int, limit: int | None, chunk: int
) -> dict[str, Any]:
    """Redrive chunk by chunk, so the progress bar follows real work."""
    outcomes: dict[str, dict[str, Any]] = {}
    moved = 0
    with Progress(
        TextColumn("redriving"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        task = progress.add_task("redrive", total=planned)
        while limit is None or moved < limit:
            size = chunk if limit is None else min(chunk, limit - moved)
            answer = call(invoke, {**base, "limit": size})
            step = sum(answer["counts"].get(name, 0) for name in ("redriven", "discarded"))
            # A message left behind (missing item, error) is reported again by each chunk.
            outcomes.update(
                {item["event_id"] or str(len(outcomes)): item for item in answer["outcomes"]}
            )
            moved += step
            progress.update(task, completed=min(moved, planned), total=max(planned, moved))
            if step == 0:
                break
    counts: dict[str, int] = {}
    for item in outcomes.values():
        counts[item["outcome"]] = counts.get(item["outcome"], 0) + 1
    return {
        "ok": True,
        "action": "redrive",
        "dry_run": False,
        "counts": counts,
        "outcomes": list(outcomes.values()),
    }


@click.command()
@click.argument("event_ids", nargs=-1, required=True)
@click.option("--force", is_flag=True, help="also reprocess completed or skipped events")
@click.option("--dry-run", is_flag=True, help="show what would be replayed; change nothing")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@target_options
def replay(
    port: int,
    stack: str | None,
    function_name: str | None,
    as_json: bool,
    event_ids: tuple[str, ...],
    force: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    """Put events back through from the table: failed ones, or completed ones with --force."""
    invoke = invoker(port, stack, function_name)
    payload = {"action": "replay", "event_ids": list(event_ids), "force": force}
    if not (yes or dry_run):
        click.confirm(f"Replay {len(event_ids)} event(s)?", abort=True, err=True)
    answer = call(invoke, {**payload, "dry_run": dry_run})
    if as_json:
        print_json(answer)
        return
    out.print(outcomes_table("Dry run: nothing changed" if dry_run else "Replay", answer))
    out.print(counts_line(answer))
