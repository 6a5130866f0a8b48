"""The one place that picks adapters and builds services from settings.

Each builder is cached, so a warm Lambda reuses clients and config; tests call
`reset()` after changing the environment.
"""

from __future__ import annotations

from functools import cache

from hookwise.adapters.blobs.s3 import S3BlobStore
from hookwise.adapters.queue.sqs import SQSEventQueue
from hookwise.adapters.secrets.secretsmanager import SecretsManagerProvider
from hookwise.adapters.store.dynamodb import DynamoDBEventStore
from hookwise.config import HookwiseConfig, load_config
from hookwise.ingest.dispatch import Dispatcher
from hookwise.ingest.service import IngestService
from hookwise.ingest.sweeper import Sweeper
from hookwise.redrive.service import RedriveService
from hookwise.redrive.sqs import SQSDeadLetterQueue
from hookwise.settings import get_settings


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
    ):
        builder.cache_clear()
