"""The console's Events page with 10,000 events in the local table (moto's server, as under
`hookwise dev`): how long `hookwise console`, in its own process, takes to answer, unfiltered and
filtered, against the DynamoDB calls a page needs. The target is 300 ms."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.stats import median, percentile, ratio
from bench.support import moto_stack, timed
from hookwise import wiring
from hookwise.adapters.batch_get import batch_get
from hookwise.adapters.store.dynamodb import PENDING, DynamoDBEventStore, state_key
from hookwise.console.data import PAGE_SIZE
from hookwise.console.security import cookie_name
from hookwise.domain.events import EventRecord, EventStatus, isoformat
from hookwise.local.stack import free_port
from hookwise.resources import STUCK_INDEX, STUCK_INDEX_PARTITION_KEY
from hookwise.samples import sample_bytes

TARGET_MS = 300.0
WEEK = 7 * 86_400
# One event in this many failed; the rest completed.
FAILED_EVERY = 50
SEEDING_THREADS = 4
BATCH_WRITE = 25  # DynamoDB's most per BatchWriteItem
HOOKWISE = str(Path(sys.executable).with_name("hookwise"))
CONSOLE_URL = re.compile(r"token=(\S+)")


def seed(events: int) -> list[str]:
    """`events` PR events over the last week, newest last; their ids. Two go through the store
    (put, claim, finish: one completed, one failed); the rest are copies of their items with
    new ids and times, written 25 to a request, so the table holds what the store writes."""
    store = wiring.store()
    now = time.time()
    templates = {failed: _stored(store, failed, now) for failed in (False, True)}
    ids = [f"evt_{n:032x}" for n in range(events)]

    def copies(n: int) -> list[dict[str, Any]]:
        at = {"S": isoformat(datetime.fromtimestamp(now - WEEK + n * WEEK / events, UTC))}
        event, state = templates[n % FAILED_EVERY == 0]
        return [
            {**event, "event_id": {"S": ids[n]}, "received_at": at,
             "delivery_id": {"S": f"delivery-{n}"}},
            {**state, "event_id": {"S": state_key(ids[n])}, "received_at": at},
        ]  # fmt: skip

    def write(chunk: range) -> None:
        items = [item for n in chunk for item in copies(n)]
        for start in range(0, len(items), BATCH_WRITE):
            chunk_items = items[start : start + BATCH_WRITE]
            pending: Any = {store.table_name: [{"PutRequest": {"Item": i}} for i in chunk_items]}
            while pending:
                pending = store.client.batch_write_item(RequestItems=pending)["UnprocessedItems"]

    step = -(-events // SEEDING_THREADS)
    with ThreadPoolExecutor(SEEDING_THREADS) as pool:
        list(pool.map(write, [range(n, min(n + step, events)) for n in range(0, events, step)]))
    for pair in templates.values():
        for raw in pair:
            store.client.delete_item(TableName=store.table_name, Key={"event_id": raw["event_id"]})
    return ids


def _stored(
    store: DynamoDBEventStore, failed: bool, now: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One event through the store, finished; its event item and state item as stored."""
    at = isoformat(datetime.fromtimestamp(now, UTC))
    event_id = f"evt_template_{int(failed)}"
    store.put_new(
        EventRecord(
            event_id=event_id,
            source="github",
            event_type="pull_request.opened",
            received_at=at,
            updated_at=at,
            delivery_id="template",
            headers={"content-type": "application/json", "x-github-event": "pull_request"},
            body=sample_bytes("github", "pull_request.opened"),
        ),
        dispatch_lease_until=0.0,
    )
    store.claim(event_id, now=now, lease_until=now + 60)
    store.transition(
        event_id,
        from_statuses=[EventStatus.PROCESSING],
        to_status=EventStatus.FAILED if failed else EventStatus.COMPLETED,
        updates={
            "route": "github-pr-review",
            "model": "claude-sonnet-4-5",
            "latency_ms": 900,
            **({"error": "model error: bench"} if failed else {}),
            "usage": {
                "input_tokens": 1200,
                "output_tokens": 80,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "cost_usd": 0.0048,
            },
        },
    )

    def raw(key: str) -> dict[str, Any]:
        return dict(
            store.client.get_item(
                TableName=store.table_name, Key={"event_id": {"S": key}}, ConsistentRead=True
            )["Item"]
        )

    return raw(event_id), raw(state_key(event_id))


def timings(
    client: httpx.Client, path: str, requests: int, floor: Callable[[], Any]
) -> dict[str, Any]:
    """The page's time, each request followed by the floor's (so both share the machine's
    noise): the DynamoDB calls a page of 50 unfiltered events needs, and nothing else."""
    for _ in range(3):  # warm: templates compiled, connections open
        assert client.get(path).status_code == 200
    seconds, floors = [], []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path)
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
        floors.append(timed(floor))
    return {
        "ms_median": median(seconds) * 1000,
        "ms_p95": percentile(seconds, 95) * 1000,
        "floor_ms_median": median(floors) * 1000,
        "over_floor": ratio(seconds, floors),
        "rows": answer.text.count("<tr data-event-id="),
    }


def page_reads(store: DynamoDBEventStore) -> None:
    """What the unfiltered page cannot do without: the index's newest 50, then their items."""
    found = store.client.query(
        TableName=store.table_name,
        IndexName=STUCK_INDEX,
        KeyConditionExpression="#p = :p",
        ExpressionAttributeNames={"#p": STUCK_INDEX_PARTITION_KEY},
        ExpressionAttributeValues={":p": {"S": PENDING}},
        ScanIndexForward=False,
        Limit=PAGE_SIZE,
    )["Items"]
    batch_get(
        store.client,
        store.table_name,
        [{"event_id": {"S": key}} for e in found for key in (e["event_id"]["S"],
                                                              state_key(e["event_id"]["S"]))],
        consistent=False,
    )  # fmt: skip


@contextmanager
def console_process() -> Iterator[tuple[int, str]]:
    """`hookwise console` as a user runs it, in its own process, over the resources this
    process's settings name; its port and token."""
    port = free_port()
    process = subprocess.Popen(
        [HOOKWISE, "console", "--port", str(port)],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = CONSOLE_URL.search(line)
        assert found is not None, line + process.stdout.read()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "hookwise console did not answer"
                time.sleep(0.1)
        yield port, found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)


def measure(events: int = 10_000, requests: int = 30) -> dict[str, Any]:
    with moto_stack():
        started = time.perf_counter()
        ids = seed(events)
        seeding = time.perf_counter() - started
        store = wiring.store()
        with console_process() as (port, token):
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"cookie": f"{cookie_name(port)}={token}"},
                timeout=60,
            )
            pages = {
                "events": "/events",
                "events_failed": "/events?status=failed",
                "events_route": "/events?route=github-pr-review",
                "events_second_page": None,
                "event": f"/events/{ids[-1]}",
            }
            first = client.get("/events").text
            after = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
            pages["events_second_page"] = after.replace("&amp;", "&")
            figures = {
                name: timings(client, path, requests, lambda: page_reads(store))
                for name, path in pages.items()
                if path
            }
    return {
        "events_in_table": events,
        "seeding_seconds": seeding,
        "target_ms": TARGET_MS,
        "pages": figures,
        "events_page_under_target": figures["events"]["ms_median"] < TARGET_MS,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
