"""Definitions of the AWS resources shared by the CDK app and the local stack.

One source of truth: `infra/` builds the table and queues from these, and `hookwise dev`
creates the same ones in moto from these, so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

TABLE_PARTITION_KEY = "event_id"
TABLE_TTL_ATTRIBUTE = "expires_at"
# Claim-check bodies in the payload bucket: the only keys ingest writes and the worker reads.
PAYLOAD_KEY_PREFIX = "bodies/"

# The ingest function's routes as the HTTP API names them (its `routeKey`): the stack declares
# them, the local front matches them, the function dispatches on them.
WEBHOOK_ROUTE = "POST /webhooks/{source}"
EVENT_ROUTE = "GET /events/{event_id}"
EVENTS_ROUTE = "GET /events"
# The local stack's readiness probe: never a route of the deployed API.
HEALTH_ROUTE = "GET /health"
# Index over event items by arrival time (keys only), for the sweeper.
STUCK_INDEX = "by-pending"
STUCK_INDEX_PARTITION_KEY = "pending"
STUCK_INDEX_SORT_KEY = "received_at"
# Index over state items by status and arrival time, for the console's "failed this week":
# both keys are written by the transitions already (the claim copies the arrival time), and
# it carries what the console filters on besides (written with a status change, never later).
STATUS_INDEX = "by-status"
STATUS_INDEX_PARTITION_KEY = "status"
STATUS_INDEX_SORT_KEY = "received_at"
STATUS_INDEX_INCLUDES = ("route", "source", "event_type")

# The batch ledger (hookwise/batches): parked events per route (oldest first, by received
# time) and batch intents per route, in a table of their own.
BATCH_TABLE_SUFFIX = "-batches"
BATCH_TABLE_PARTITION_KEY = "pk"
BATCH_TABLE_SORT_KEY = "sk"
# Like every table's: an entry left behind goes with its events (hookwise/batches/parking.py).
BATCH_TABLE_TTL_ATTRIBUTE = "expires_at"


@dataclass(frozen=True)
class QueueSpec:
    """The main queue and its dead-letter queue."""

    # Seconds; at least 6x the worker timeout (AWS guidance for SQS event sources).
    visibility_timeout: int = 360
    # The worker counts real failures on the event and parks it in the DLQ itself after
    # `Settings.max_failures` (5); a deferral re-sends the event as a new message, so it never
    # adds to a message's receive count. A message is received at most: once, plus one per
    # transient failure (<= 4 before the worker parks it), plus one per time another worker
    # held the event (a lease bounce, rare), plus one per crash. 10 leaves room for five
    # bounces or crashes and still stops a message that crashes the worker every time.
    max_receive_count: int = 10
    retention_days: int = 4
    dlq_retention_days: int = 14
    batch_size: int = 10
    max_batching_window_seconds: int = 1
    max_concurrency: int = 5


@dataclass(frozen=True)
class FunctionSpec:
    memory_mb: int
    timeout_seconds: int


INGEST_FUNCTION = FunctionSpec(memory_mb=512, timeout_seconds=10)
# The worker mostly waits on the model and pays for its memory meanwhile: at 512 MB its CPU
# (about a fifth of its time in a burst here, stretched to 0.29 vCPU) still costs less than the
# other half of a gigabyte does (`make bench`: Lambda USD per million by worker memory).
WORKER_FUNCTION = FunctionSpec(memory_mb=512, timeout_seconds=60)
DLQ_REDRIVE_FUNCTION = FunctionSpec(memory_mb=512, timeout_seconds=300)
SWEEPER_FUNCTION = FunctionSpec(memory_mb=256, timeout_seconds=60)
# One run at a time each (reserved concurrency 1): a route's batches are gathered and read by
# one writer, which is what makes the intent/record protocol in hookwise/batches simple.
BATCH_COLLECTOR_FUNCTION = FunctionSpec(memory_mb=512, timeout_seconds=300)
BATCH_POLLER_FUNCTION = FunctionSpec(memory_mb=1024, timeout_seconds=600)
BATCH_SCHEDULE_MINUTES = 1

QUEUES = QueueSpec()
