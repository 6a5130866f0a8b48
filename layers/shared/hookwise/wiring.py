"""The one place that picks adapters and builds services from settings.

Each builder is cached, so a warm Lambda reuses clients and config; tests call `reset()`
after changing the environment. Each builder imports what it builds, so a function loads
only its own part: the ingest function never imports the worker, the redrive service,
anthropic or a YAML library (`tests/unit/test_imports.py` holds it to that).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from hookwise.config import HookwiseConfig, load_config
from hookwise.llm.base import ModelAnswer, ModelClient, ModelRequest
from hookwise.settings import get_settings

if TYPE_CHECKING:
    from hookwise.adapters.queue.sqs import SQSEventQueue
    from hookwise.adapters.secrets.secretsmanager import SecretsManagerProvider
    from hookwise.adapters.store.compressed_blobs import CompressedBlobStore
    from hookwise.adapters.store.dynamodb import DynamoDBEventStore
    from hookwise.ingest.dispatch import Dispatcher
    from hookwise.ingest.service import IngestService
    from hookwise.ingest.sweeper import Sweeper
    from hookwise.redrive.service import RedriveService
    from hookwise.worker.batch import BatchRunner
    from hookwise.worker.service import WorkerService

SECRET_CACHE_SECONDS = 300


@cache
def config() -> HookwiseConfig:
    return load_config(get_settings().config)


@cache
def blobs() -> CompressedBlobStore | None:
    """Claim-check bodies on S3, compressed."""
    from hookwise.adapters.blobs.s3 import S3BlobStore
    from hookwise.adapters.store.compressed_blobs import CompressedBlobStore

    bucket = get_settings().bucket
    return CompressedBlobStore(S3BlobStore(bucket)) if bucket else None


@cache
def store() -> DynamoDBEventStore:
    from hookwise.adapters.store.dynamodb import DynamoDBEventStore

    settings = get_settings()
    return DynamoDBEventStore(
        settings.table,
        blobs=blobs(),
        inline_body_bytes=settings.inline_body_bytes,
        ttl_seconds=settings.event_ttl_days * 86_400,
    )


@cache
def queue() -> SQSEventQueue:
    from hookwise.adapters.queue.sqs import SQSEventQueue

    settings = get_settings()
    return SQSEventQueue(settings.queue_url, settings.dlq_url)


@cache
def secrets() -> SecretsManagerProvider:
    from hookwise.adapters.secrets.secretsmanager import SecretsManagerProvider

    return SecretsManagerProvider()


@cache
def dispatcher() -> Dispatcher:
    from hookwise.ingest.dispatch import Dispatcher

    return Dispatcher(queue())


@cache
def ingest_service() -> IngestService:
    from hookwise.ingest.service import IngestService

    return IngestService(
        config=config(),
        store=store(),
        dispatcher=dispatcher(),
        secrets=secrets(),
        settings=get_settings(),
    )


@cache
def sweeper() -> Sweeper:
    from hookwise.ingest.sweeper import Sweeper

    settings = get_settings()
    return Sweeper(
        store(),
        dispatcher(),
        stuck_after_seconds=settings.stuck_after_seconds,
        lease_seconds=settings.dispatch_lease_seconds,
    )


@cache
def redrive_service() -> RedriveService:
    from hookwise.redrive.service import RedriveService
    from hookwise.redrive.sqs import SQSDeadLetterQueue

    return RedriveService(store(), queue(), SQSDeadLetterQueue(get_settings().dlq_url))


class DeferredModelClient(ModelClient):
    """Builds the real client (importing the SDK, ~1 s of a cold start) on the first model
    call, so an environment that never calls the model (skipped events, duplicates,
    callback retries) never pays for it; SnapStart would argue the other way."""

    def __init__(self, build: Callable[[], ModelClient]) -> None:
        self._build = build
        self._client: ModelClient | None = None
        self._lock = threading.Lock()

    def invoke(self, request: ModelRequest) -> ModelAnswer:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
        return self._client.invoke(request)


def _sdk_model_client() -> ModelClient:
    """The configured provider through the SDK's own client."""
    import anthropic

    from hookwise.llm.anthropic_client import AnthropicModelClient

    if config().defaults.provider == "bedrock":
        return AnthropicModelClient(anthropic.AnthropicBedrock())
    api_key = os.environ.get("ANTHROPIC_API_KEY")
    secret = get_settings().anthropic_secret
    if not api_key and secret:
        from aws_lambda_powertools.utilities import parameters

        api_key = str(parameters.get_secret(secret, max_age=SECRET_CACHE_SECONDS))
    return AnthropicModelClient(anthropic.Anthropic(api_key=api_key))


@cache
def model_client() -> ModelClient:
    return DeferredModelClient(_sdk_model_client)


@cache
def worker_service() -> WorkerService:
    from hookwise.deliveries.callback import CallbackSender
    from hookwise.deliveries.eventbridge import EventBridgePublisher
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
        callbacks=CallbackSender(secrets(), allow_private=settings.allow_private_callbacks),
    )


@cache
def batch_runner() -> BatchRunner:
    from hookwise.worker.batch import BatchRunner

    return BatchRunner(worker_service(), store(), queue(), get_settings().worker_concurrency)


def reset() -> None:
    """Forget every built service and the settings (tests and the local stack)."""
    get_settings.cache_clear()
    load_config.cache_clear()
    for builder in (
        config,
        blobs,
        store,
        queue,
        secrets,
        dispatcher,
        ingest_service,
        sweeper,
        redrive_service,
        model_client,
        worker_service,
        batch_runner,
    ):
        builder.cache_clear()
