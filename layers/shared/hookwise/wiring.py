"""The one place that picks adapters and builds services from settings.

Each builder is cached, so a warm Lambda reuses clients and config; tests call
`reset()` after changing the environment.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities import parameters

from hookwise.adapters.blobs.s3 import S3BlobStore
from hookwise.adapters.queue.sqs import SQSEventQueue
from hookwise.adapters.secrets.secretsmanager import SecretsManagerProvider
from hookwise.adapters.store.dynamodb import DynamoDBEventStore
from hookwise.config import HookwiseConfig, load_config
from hookwise.deliveries.eventbridge import EventBridgePublisher
from hookwise.ingest.dispatch import Dispatcher
from hookwise.ingest.service import IngestService
from hookwise.ingest.sweeper import Sweeper
from hookwise.redrive.service import RedriveService
from hookwise.redrive.sqs import SQSDeadLetterQueue
from hookwise.settings import get_settings

if TYPE_CHECKING:
    import anthropic

    from hookwise.batches.collector import BatchCollector
    from hookwise.batches.parking import BatchParking
    from hookwise.batches.poller import BatchPoller
    from hookwise.llm.base import ModelClient
    from hookwise.worker.admission import Admission
    from hookwise.worker.batch import BatchRunner
    from hookwise.worker.service import WorkerService

SECRET_CACHE_SECONDS = 300


@cache
def config() -> HookwiseConfig:
    return load_config(get_settings().config)


@cache
def store() -> DynamoDBEventStore:
    return DynamoDBEventStore(get_settings().table)


@cache
def queue() -> SQSEventQueue:
    settings = get_settings()
    return SQSEventQueue(settings.queue_url, settings.dlq_url)


@cache
def blobs() -> S3BlobStore | None:
    bucket = get_settings().bucket
    return S3BlobStore(bucket) if bucket else None


@cache
def dispatcher() -> Dispatcher:
    return Dispatcher(store(), queue())


@cache
def ingest_service() -> IngestService:
    return IngestService(
        config=config(),
        store=store(),
        dispatcher=dispatcher(),
        secrets=SecretsManagerProvider(),
        blobs=blobs(),
        settings=get_settings(),
    )


@cache
def sweeper() -> Sweeper:
    settings = get_settings()
    return Sweeper(
        store(),
        dispatcher(),
        stuck_after_seconds=settings.stuck_after_seconds,
        lease_seconds=settings.dispatch_lease_seconds,
    )


@cache
def redrive_service() -> RedriveService:
    return RedriveService(store(), queue(), SQSDeadLetterQueue(get_settings().dlq_url))


@cache
def anthropic_sdk() -> anthropic.Anthropic | anthropic.AnthropicBedrock:
    """The configured provider's SDK client; imported here, not at module level, so the ingest
    function never loads anthropic."""
    import anthropic

    if config().defaults.provider == "bedrock":
        return anthropic.AnthropicBedrock()
    api_key = os.environ.get("ANTHROPIC_API_KEY")
    secret = get_settings().anthropic_secret
    if not api_key and secret:
        api_key = str(parameters.get_secret(secret, max_age=SECRET_CACHE_SECONDS))
    return anthropic.Anthropic(api_key=api_key)


@cache
def model_client() -> ModelClient:
    """The model through the SDK's own client."""
    from hookwise.llm.anthropic_client import AnthropicModelClient

    return AnthropicModelClient(anthropic_sdk())


@cache
def admission() -> Admission:
    """The shared model-rate governor and the budget ledger, in the events table."""
    from hookwise.governor.dynamodb import DynamoDBBudgetLedger, DynamoDBGovernor
    from hookwise.worker.admission import Admission

    table = get_settings().table
    governing = config().governor
    return Admission(
        config(),
        DynamoDBGovernor(
            table,
            horizon=governing.booking_horizon_seconds,
            burst=governing.burst_seconds,
            shards=governing.shards,
        ),
        DynamoDBBudgetLedger(table),
    )


@cache
def worker_service() -> WorkerService:
    # Worker-only modules load here, so the ingest function's cold start stays lean.
    from hookwise.deliveries.callback import CallbackSender
    from hookwise.worker.service import WorkerService

    settings = get_settings()
    return WorkerService(
        config=config(),
        store=store(),
        queue=queue(),
        blobs=blobs(),
        model=model_client(),
        publisher=EventBridgePublisher(settings.event_bus) if settings.event_bus else None,
        settings=settings,
        admission=admission(),
        callbacks=CallbackSender(
            SecretsManagerProvider(), allow_private=settings.allow_private_callbacks
        ),
        parking=batch_parking(),
    )


@cache
def batch_runner() -> BatchRunner:
    from hookwise.worker.batch import BatchRunner

    return BatchRunner(
        worker_service(), queue(), get_settings().worker_concurrency, admission().flush
    )


@cache
def batch_parking() -> BatchParking:
    from hookwise.adapters.batches.dynamodb import DynamoDBBatchLedger
    from hookwise.batches.parking import BatchParking
    from hookwise.resources import BATCH_TABLE_SUFFIX

    settings = get_settings()
    ledger = DynamoDBBatchLedger(settings.batch_table or settings.table + BATCH_TABLE_SUFFIX)
    return BatchParking(ledger, store(), queue())


@cache
def batch_collector() -> BatchCollector:
    from hookwise.batches.collector import BatchCollector

    return BatchCollector(**batch_parts())


@cache
def batch_poller() -> BatchPoller:
    from hookwise.batches.poller import BatchPoller

    return BatchPoller(**batch_parts())


def batch_parts() -> dict[str, Any]:
    """What the collector and the poller share: the Batches API (the Anthropic API's; Bedrock
    batch inference works from S3 files and is not supported), the ledger, the worker."""
    import anthropic

    from hookwise.llm.anthropic_batches import AnthropicBatches

    sdk = anthropic_sdk()
    if not isinstance(sdk, anthropic.Anthropic):
        raise RuntimeError("mode: batch needs the Anthropic API (defaults.provider: anthropic)")
    parking = batch_parking()
    return {
        "config": config(),
        "ledger": parking.ledger,
        "api": AnthropicBatches(sdk),
        "store": store(),
        "parking": parking,
        "worker": worker_service(),
    }


def reset() -> None:
    """Forget every built service and the settings (tests and the local stack)."""
    get_settings.cache_clear()
    load_config.cache_clear()
    for builder in (
        config,
        store,
        queue,
        blobs,
        dispatcher,
        ingest_service,
        sweeper,
        redrive_service,
        anthropic_sdk,
        model_client,
        admission,
        worker_service,
        batch_runner,
        batch_parking,
        batch_collector,
        batch_poller,
    ):
        builder.cache_clear()
