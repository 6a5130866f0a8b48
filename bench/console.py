"""The console's Events page with 10,000 events in the local table (moto's server, as under
`hookwise dev`): how long it takes to answer, unfiltered and filtered. The target is 300 ms."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.stats import median, percentile
from bench.support import moto_stack
from hookwise import wiring
from hookwise.console.security import COOKIE
from hookwise.console.server import ConsoleServer
from hookwise.domain.events import EventRecord, EventStatus, isoformat
from hookwise.local.stack import free_port
from hookwise.samples import sample_bytes

TARGET_MS = 300.0
WEEK = 7 * 86_400
# One event in this many failed; the rest completed.
FAILED_EVERY = 50
SEEDING_THREADS = 8


def seed(events: int) -> list[str]:
    """`events` PR events over the last week through the store itself (put, claim, finish),
    newest last; their ids."""
    store = wiring.store()
    body = sample_bytes("github", "pull_request.opened")
    now = time.time()

    def one(n: int) -> str:
        at = isoformat(datetime.fromtimestamp(now - WEEK + n * WEEK / events, UTC))
        event_id = f"evt_{n:032x}"
        store.put_new(
            EventRecord(
                event_id=event_id,
                source="github",
                event_type="pull_request.opened",
                received_at=at,
                updated_at=at,
                delivery_id=f"delivery-{n}",
                headers={"content-type": "application/json", "x-github-event": "pull_request"},
                body=body,
            ),
            dispatch_lease_until=0.0,
        )
        store.claim(event_id, now=now, lease_until=now + 60)
        failed = n % FAILED_EVERY == 0
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
        return event_id

    with ThreadPoolExecutor(SEEDING_THREADS) as pool:
        return list(pool.map(one, range(events)))


def timings(client: httpx.Client, path: str, requests: int) -> dict[str, Any]:
    for _ in range(3):  # warm: templates compiled, connections open
        assert client.get(path).status_code == 200
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path)
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
    return {
        "ms_median": median(seconds) * 1000,
        "ms_p95": percentile(seconds, 95) * 1000,
        "rows": answer.text.count("<tr data-event-id="),
    }


def measure(events: int = 10_000, requests: int = 20) -> dict[str, Any]:
    with moto_stack():
        started = time.perf_counter()
        ids = seed(events)
        seeding = time.perf_counter() - started
        server = ConsoleServer(wiring.console_data(), free_port()).start()
        try:
            base = f"http://127.0.0.1:{server.port}"
            client = httpx.Client(
                base_url=base, headers={"cookie": f"{COOKIE}={server.keys.token}"}, timeout=60
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
                name: timings(client, path, requests) for name, path in pages.items() if path
            }
        finally:
            server.stop()
    return {
        "events_in_table": events,
        "seeding_seconds": seeding,
        "target_ms": TARGET_MS,
        "pages": figures,
        "events_page_under_target": figures["events"]["ms_median"] < TARGET_MS,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
