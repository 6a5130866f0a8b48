"""Cost per million events on AWS, from what this run measured: DynamoDB capacity units for
three body sizes (metered from the calls the code makes, `bench/capacity.py`), S3 requests,
stored bytes, log bytes, durations and the model's token usage; list prices from
`bench/prices.py` and `hookwise.yaml`."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from typing import Any

import boto3

from bench import prices
from bench.bodies import Body, bursts, pull_request, signed
from bench.capacity import Call, CapacityMeter
from bench.support import CONFIG_PATH, SECRET, moto_stack
from hookwise import wiring
from hookwise.adapters.store.dynamodb import SWEEP_CHECKPOINT_KEY
from hookwise.config import load_config
from hookwise.ingest.sweeper import Sweeper
from hookwise.local.event_source import EventSourceMapping, LambdaContext
from hookwise.local.gateway import gateway_event
from hookwise.local.offline_model import OfflineModelServer
from hookwise.observability import logger
from hookwise.resources import INGEST_FUNCTION, QUEUES, WORKER_FUNCTION

MILLION = 1_000_000
GB = 1024**3
# Items live until their TTL (30 days for an event's own items): a month of storage per event.
STORAGE_MONTHS = 1.0
MONTH_SECONDS = 30 * 86_400
# Traffic shapes: events arriving together (SQS hands the worker full batches, the model wait
# and the governor's writes are shared) or one at a time (a quiet hour: batches of one).
SHAPE_BURST = "burst"
SHAPE_ALONE = "alone"


@contextmanager
def _default_session() -> Iterator[boto3.Session]:
    """A fresh default session for one measurement, so that the clients built in it report
    their calls; another after it, so that no client built later does."""
    boto3.setup_default_session()
    try:
        yield boto3.DEFAULT_SESSION  # type: ignore[misc]
    finally:
        boto3.setup_default_session()


def item_kind(call: Call, event_ids: Collection[str]) -> str:
    """What a call touched: EVENT, EVENT#state, or its key's prefix (subject#, lock#,
    context#, governor#, budget#, parked#...); for a query, the index or table it read."""
    if call.operation == "Query":
        return call.key
    prefix = call.key.split("#")[0]
    if prefix in event_ids:
        return call.key.replace(prefix, "EVENT")
    return prefix + "#"


def _through_the_pipeline(
    bodies: list[Body], model_url: str, capture: io.StringIO
) -> dict[str, Any]:
    """Deliveries through the ingest handler, the worker (in batches as SQS hands them out)
    and a sweeper run, metered; per event."""
    from functions.ingest.handler import handler as ingest
    from functions.worker.handler import handler as worker

    with moto_stack() as (config, resources), _default_session() as session:
        os.environ.update(
            ANTHROPIC_BASE_URL=model_url,
            ANTHROPIC_API_KEY="bench",
            POWERTOOLS_METRICS_DISABLED="false",
            HOOKWISE_SECRET_STRIPE=SECRET,
        )
        wiring.reset()
        # Every client built from here on (the store's, the subject lock's, the context
        # cache's, the governor's, the batch ledger's) reports its DynamoDB item calls to the
        # meter, and its S3 calls (the store's claim checks) to the list.
        s3_calls: list[str] = []
        session.events.register("before-call.s3", lambda model, **_: s3_calls.append(model.name))
        meter = CapacityMeter()
        meter.attach(session.events)
        store = wiring.store()
        with redirect_stdout(capture):
            answers = [
                ingest(
                    gateway_event(
                        "POST",
                        f"/webhooks/{body.source}",
                        signed(config, body, SECRET),
                        body.raw,
                        "bench",
                    ),
                    LambdaContext("ingest", 10, 512),
                )
                for body in bodies
            ]
            source = EventSourceMapping(
                boto3.client("sqs"), resources.queue_url, worker, wait_seconds=0
            )
            while source.poll_once():
                pass
            Sweeper(store, wiring.dispatcher(), stuck_after_seconds=0, lease_seconds=3).sweep()
        assert all(answer["statusCode"] == 202 for answer in answers), answers
        event_ids = {json.loads(answer["body"])["event_id"] for answer in answers}
        assert len(event_ids) == len(bodies), "the bodies must be distinct events"
        # Taken before the bench's own look below, which is not the events' cost; nor is the
        # sweeper's checkpoint.
        calls = [call for call in meter.calls if call.key != SWEEP_CHECKPOINT_KEY]
        assert not meter.unmetered, f"DynamoDB calls the meter cannot price: {meter.unmetered}"
        records = list(store.get_many(event_ids).values())
        assert len(records) == len(event_ids), "an event was not stored"
        record = records[0]
        assert all(r.status is record.status for r in records), [r.status for r in records]
        # An action that failed would leave its writes (and their cost) out of the figures.
        failed = {
            name: o
            for r in records
            for name, o in (r.actions or {}).items()
            if o["status"] != "done"
        }
        assert not failed, failed
        count = len(bodies)
        # Per event: write units per item kind (index entries included), and each kind of
        # call with its units.
        by_kind: dict[str, float] = {}
        by_call: dict[tuple[str, str], dict[str, float]] = {}
        # What stays stored: every item the events wrote, at its last size, for the share of
        # the costed month its TTL keeps it (a day for cached context). Items without a TTL
        # (the governor's buckets) are shared by every event, not stored per event.
        last: dict[tuple[str, str], float] = {}
        event_item = 0
        now = time.time()
        for call in calls:
            kind = item_kind(call, event_ids)
            if kind == "EVENT":
                event_item = max(event_item, call.bytes_after)
            units = call.write_units + call.index_write_units
            by_kind[kind] = by_kind.get(kind, 0) + units / count
            made = by_call.setdefault(
                (call.operation, kind),
                {"calls": 0.0, "write_units": 0.0, "index_write_units": 0.0, "read_units": 0.0},
            )
            made["calls"] += 1 / count
            made["write_units"] += call.write_units / count
            made["index_write_units"] += call.index_write_units / count
            made["read_units"] += call.read_units / count
            if call.write_units:
                kept = (call.expires_at - now) / MONTH_SECONDS if call.expires_at else 0.0
                last[call.table, call.key] = call.bytes_after * min(1.0, max(0.0, kept))
        return {
            "events": count,
            "body_bytes": len(bodies[0].raw),
            "event_item_bytes": event_item,
            "status": record.status.value,
            "actions": record.actions,
            "calls": [
                {
                    "operation": operation,
                    "kind": kind,
                    **{name: round(value, 3) for name, value in figures.items()},
                }
                for (operation, kind), figures in by_call.items()
            ],
            "write_units_by_kind": {
                kind: round(units, 3) for kind, units in by_kind.items() if units
            },
            **{name: total / count for name, total in meter.totals(calls).items()},
            "stored_bytes": sum(last.values()) / count,
            "s3_puts": s3_calls.count("PutObject") / count,
            "s3_stored_bytes": sum(
                item["Size"]
                for item in boto3.client("s3")
                .list_objects_v2(Bucket=resources.bucket)
                .get("Contents", [])
            )
            / count,
            "s3_gets": s3_calls.count("GetObject") / count,
            "usage": record.usage.as_dict() if record.usage else None,
            "model": record.model,
            "route": record.route,
        }


def _metered(bodies: list[Body], model_url: str) -> dict[str, Any]:
    """One measurement, with the log bytes per event (what the events logged)."""
    captured = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(captured)  # type: ignore[attr-defined]
    level = logger.log_level
    logger.setLevel("INFO")
    try:
        found = _through_the_pipeline(bodies, model_url, captured)
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
        logger.setLevel(level)
    found["log_bytes"] = len(captured.getvalue().encode()) / len(bodies)
    return found


def footprints(batch: int = QUEUES.batch_size) -> dict[str, dict[str, Any]]:
    """Each body's metered footprint per event: in a burst (`batch` distinct events, which SQS
    hands the worker as one batch), and the PR alone (a quiet hour's event: a batch of one)."""
    model = OfflineModelServer().start()
    try:
        return {
            SHAPE_BURST: {bodies[0].name: _metered(bodies, model.url) for bodies in bursts(batch)},
            SHAPE_ALONE: {pull_request().name: _metered([pull_request()], model.url)},
        }
    finally:
        model.stop()


def dynamodb_usd(footprint: dict[str, Any]) -> dict[str, float]:
    """Per million events: requests (write and read units), a month of storage, S3."""
    writes = footprint["write_units"] + footprint["index_write_units"]
    return {
        "requests": (
            writes * prices.DYNAMODB_WRITE_UNIT
            + footprint["read_units"] * prices.DYNAMODB_READ_UNIT
        )
        * MILLION,
        "storage": footprint["stored_bytes"]
        / GB
        * prices.DYNAMODB_GB_MONTH
        * STORAGE_MONTHS
        * MILLION,
        "s3": (
            footprint["s3_puts"] * prices.S3_PUT
            + footprint["s3_gets"] * prices.S3_GET
            + footprint["s3_stored_bytes"] / GB * prices.S3_GB_MONTH * STORAGE_MONTHS
        )
        * MILLION,
    }


@dataclass(frozen=True)
class Duration:
    """A function's seconds per event as measured here, on a whole core: wall and CPU."""

    wall: float
    cpu: float

    def at(self, memory_mb: int) -> float:
        """Its seconds on Lambda at `memory_mb`: the CPU part stretched to the share of a vCPU
        that memory buys (a Python process, one GIL, gains nothing beyond one vCPU)."""
        share = min(1.0, memory_mb / prices.LAMBDA_MB_PER_VCPU)
        return self.wall + self.cpu * (1 / share - 1)


# The worker memory sizes the bench prices (`lambda_by_worker_memory`).
WORKER_MEMORY_OPTIONS_MB = (256, 512, 1024, 1769)


def lambda_usd(ingest: Duration, worker: Duration, batch: int, worker_memory_mb: int) -> float:
    """Lambda per million events: an ingest invocation per event, a worker one per batch, and
    their seconds at their memory."""
    gb_s = (
        ingest.at(INGEST_FUNCTION.memory_mb) * INGEST_FUNCTION.memory_mb / 1024
        + worker.at(worker_memory_mb) * worker_memory_mb / 1024
    )
    return ((1 + 1 / batch) * prices.LAMBDA_REQUEST + gb_s * prices.LAMBDA_GB_SECOND_ARM) * MILLION


def per_million(
    ingest: Duration,
    worker: Duration,
    pr: dict[str, Any],
    batch: int,
    worker_memory_mb: int = WORKER_FUNCTION.memory_mb,
) -> dict[str, float]:
    """The PR route, per million events arriving in batches of `batch`; `pr` is the PR's
    footprint measured in that shape, `worker` the worker's seconds per event too."""
    config = load_config(str(CONFIG_PATH))
    route = config.route_named(pr["route"])
    assert route is not None, pr["route"]
    usage = pr["usage"]
    model = config.models[config.defaults.model]
    dynamodb = dynamodb_usd(pr)
    costs = {
        "api_gateway": prices.HTTP_API_REQUEST * MILLION,
        "lambda": lambda_usd(ingest, worker, batch, worker_memory_mb),
        # send, receive and delete; the last two per batch.
        "sqs": (1 + 2 / batch) * prices.SQS_REQUEST * MILLION,
        "dynamodb_requests": dynamodb["requests"],
        "dynamodb_storage": dynamodb["storage"],
        "s3": dynamodb["s3"],
        "logs": pr["log_bytes"] / GB * prices.CLOUDWATCH_LOGS_GB * MILLION,
        # Only a route that publishes its results to the bus pays for it.
        "eventbridge": prices.EVENTBRIDGE_EVENT * MILLION if route.deliveries.eventbridge else 0.0,
    }
    costs["aws_total"] = sum(costs.values())
    costs["model_tokens"] = (
        usage["input_tokens"] * model.input
        + usage["output_tokens"] * model.output
        + usage["cache_creation_input_tokens"] * model.cache_write
        + usage["cache_read_input_tokens"] * model.cache_read
    )
    return costs


def lambda_by_worker_memory(ingest: Duration, worker: Duration, batch: int) -> dict[str, float]:
    """The Lambda line per million events at each of `WORKER_MEMORY_OPTIONS_MB`: what sets
    the worker's memory (it mostly waits on the model, and pays for its memory meanwhile)."""
    options = WORKER_MEMORY_OPTIONS_MB
    return {str(memory): lambda_usd(ingest, worker, batch, memory) for memory in options}
