"""Model calls and model USD per 1,000 PRs on a push mix, with and without coalescing.

The mix (seeded, so every run is the same): each PR is opened, then gets three to eight pushes
in one to three clusters; a cluster starts 2 to 30 minutes after the previous one (or the
opening) and its pushes come 5 to 45 s apart.

Simulated in time, against the real coalescing code: the shipped route's settings, the
Coalescer and its DynamoDB item (moto, in process), on a clock the simulation sets. Each event
is first seen by the worker half a second after it arrives and comes back when its deferral's
delayed message would (whole seconds, as the worker sends it); each time the Coalescer lets it
go on is one model call. What a call costs is the PR review's real-time price per event, as
bench/model_cost.py measures it through the offline model.
"""

from __future__ import annotations

import heapq
import json
import math
import os
import random
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from moto import mock_aws

from bench import model_cost
from bench.support import CONFIG_PATH
from hookwise.adapters.coalescing import DynamoDBCoalescing
from hookwise.adapters.store.dynamodb import DynamoDBEventStore
from hookwise.config import load_config
from hookwise.domain.events import EventRecord, isoformat
from hookwise.resources import TABLE_PARTITION_KEY
from hookwise.worker.admission import Deferral
from hookwise.worker.coalescing import Coalescer

SEED = 21
PRS = 1_000
PUSHES = (3, 8)
CLUSTERS = (1, 3)
CLUSTER_START_SECONDS = (120.0, 1_800.0)
PUSH_GAP_SECONDS = (5.0, 45.0)
# From the arrival at ingest to the worker's first look (the queue, the batch window).
WORKER_LAG_SECONDS = 0.5
ROUTE = "github-pr-review"
TABLE = "hookwise-bench-coalescing"
START = 1_800_000_000.0


def push_mix(rng: random.Random) -> list[list[float]]:
    """Per PR, the seconds (from the scenario's start) of its opening and its pushes."""
    mix = []
    for pr in range(PRS):
        opened = pr * 7.0
        pushes = rng.randint(*PUSHES)
        clusters = rng.randint(CLUSTERS[0], min(CLUSTERS[1], pushes))
        # Each cluster gets at least one push; the rest fall at random.
        sizes = [1] * clusters
        for _ in range(pushes - clusters):
            sizes[rng.randrange(clusters)] += 1
        times, at = [opened], opened
        for size in sizes:
            at += rng.uniform(*CLUSTER_START_SECONDS)
            for index in range(size):
                at += rng.uniform(*PUSH_GAP_SECONDS) if index else 0.0
                times.append(at)
        mix.append(times)
    return mix


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass(order=True)
class Visit:
    at: float
    seq: int
    event: EventRecord = field(compare=False)
    payload: dict[str, Any] = field(compare=False)


def simulate(mix: list[list[float]]) -> dict[str, Any]:
    config = load_config(str(CONFIG_PATH))
    route = config.route_named(ROUTE)
    assert route is not None
    assert route.coalesce is not None
    # Powertools prints its metric set to stdout every 100 values: not the bench's table.
    with mock_aws(), open(os.devnull, "w") as nowhere, redirect_stdout(nowhere):
        resource = boto3.resource("dynamodb", region_name="us-east-1")
        resource.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": TABLE_PARTITION_KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        writes = {"count": 0}

        def count_write(**_: Any) -> None:
            writes["count"] += 1

        resource.meta.client.meta.events.register("before-call.dynamodb.UpdateItem", count_write)
        clock = Clock()
        coalescer = Coalescer(
            config,
            DynamoDBCoalescing(TABLE, resource),
            DynamoDBEventStore(TABLE, resource.meta.client),
            clock=clock,
        )
        visits: list[Visit] = []
        for pr, times in enumerate(mix):
            for index, second in enumerate(times):
                at = START + second
                moment = isoformat(datetime.fromtimestamp(at, UTC))
                record = EventRecord(
                    event_id=f"evt_{pr}_{index}",
                    source="github",
                    event_type="pull_request.opened" if index == 0 else "pull_request.synchronize",
                    received_at=moment,
                    updated_at=moment,
                )
                payload = {
                    "number": pr,
                    "repository": {"full_name": "bench/repo"},
                    "pull_request": {"updated_at": moment},
                }
                heapq.heappush(visits, Visit(at + WORKER_LAG_SECONDS, len(visits), record, payload))
        events = len(visits)
        calls = superseded = looks = deferrals = 0
        seq = events
        while visits:
            visit = heapq.heappop(visits)
            clock.now = visit.at
            looks += 1
            held = coalescer.hold(visit.event, route, visit.payload)
            if held is None:
                calls += 1
            elif isinstance(held, Deferral):
                deferrals += 1
                # As the worker defers: a delayed message, whole seconds, at least one.
                delay = max(1, math.ceil(held.until - clock.now))
                visit.event.defer_reason = held.reason
                seq += 1
                heapq.heappush(visits, Visit(clock.now + delay, seq, visit.event, visit.payload))
            else:
                superseded += 1
    assert calls + superseded == events, "an event did not end exactly once"
    return {
        "events": events,
        "model_calls": calls,
        "superseded": superseded,
        "worker_looks_per_event": looks / events,
        "deferrals_per_event": deferrals / events,
        "coalescing_item_writes_per_event": writes["count"] / events,
    }


def usd_per_review() -> float:
    """The PR review's real-time model price per event, through the offline model."""
    figures = model_cost.measure()
    return float(figures[ROUTE]["realtime"]) / model_cost.MILLION


def measure() -> dict[str, Any]:
    mix = push_mix(random.Random(SEED))
    coalesced = simulate(mix)
    price = usd_per_review()
    events, calls = coalesced["events"], coalesced["model_calls"]
    per_thousand = 1_000 / PRS
    return {
        "mix": (
            f"{PRS} PRs, seed {SEED}: opened, then {PUSHES[0]}-{PUSHES[1]} pushes in "
            f"{CLUSTERS[0]}-{CLUSTERS[1]} clusters starting {CLUSTER_START_SECONDS[0]:.0f}-"
            f"{CLUSTER_START_SECONDS[1]:.0f} s apart, pushes {PUSH_GAP_SECONDS[0]:.0f}-"
            f"{PUSH_GAP_SECONDS[1]:.0f} s apart"
        ),
        "events_per_1000_prs": events * per_thousand,
        "model_calls_per_1000_prs": {
            "without": events * per_thousand,
            "with": calls * per_thousand,
        },
        "model_usd_per_1000_prs": {
            "without": events * per_thousand * price,
            "with": calls * per_thousand * price,
        },
        "usd_per_review": price,
        **{k: v for k, v in coalesced.items() if k.endswith("_per_event")},
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
