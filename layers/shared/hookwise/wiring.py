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
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from hookwise.settings import get_settings

if TYPE_CHECKING:
    import anthropic
    from aws_lambda_powertools.utilities import parameters

    from hookwise.adapters.queue.sqs import SQSEventQueue
    from hookwise.adapters.secrets.secretsmanager import SecretsManagerProvider
    from hookwise.adapters.store.compressed_blobs import CompressedBlobStore
    from hookwise.adapters.store.dynamodb import DynamoDBEventStore
    from hookwise.batches.collector import BatchCollector
    from hookwise.batches.parking import BatchParking
    from hookwise.batches.poller import BatchPoller
    from hookwise.config import HookwiseConfig
    from hookwise.console.data import ConsoleData
    from hookwise.context.fetch import ContextFetcher
    from hookwise.deliveries.callback import CallbackSender
    from hookwise.governor.dynamodb import DynamoDBGovernor
    from hookwise.ingest.dispatch import Dispatcher
    from hookwise.ingest.service import IngestService
    from hookwise.ingest.sweeper import Sweeper
    from hookwise.llm.base import ModelClient
    from hookwise.llm.deferred import DeferredModelClient
    from hookwise.providers.github import GitHubClient
    from hookwise.providers.slack import SlackClient
    from hookwise.redrive.service import RedriveService
    from hookwise.worker.admission import Admission
    from hookwise.worker.batch import BatchRunner
    from hookwise.worker.coalescing import Coalescer
    from hookwise.worker.service import WorkerService

SECRET_CACHE_SECONDS = 300
T = TypeVar("T")


@cache
def config() -> HookwiseConfig:
    from hookwise.config import load_config  # pydantic: never in the ingest function

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
    from hookwise.sources import load_sources

    return IngestService(
        sources=load_sources(get_settings().config),
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


@cache
def anthropic_sdk() -> anthropic.Anthropic | anthropic.AnthropicBedrock:
    """The configured provider's SDK client, shared by the model client and the Batches API;
    imported here, not at module level, so the ingest function never loads anthropic."""
    import anthropic

    if config().defaults.provider == "bedrock":
        return anthropic.AnthropicBedrock()
    api_key = os.environ.get("ANTHROPIC_API_KEY")
    secret = get_settings().anthropic_secret
    if not api_key and secret:
        api_key = str(secret_values().get(secret, max_age=SECRET_CACHE_SECONDS))
    return anthropic.Anthropic(api_key=api_key)


def _sdk_model_client() -> ModelClient:
    from hookwise.llm.anthropic_client import AnthropicModelClient

    return AnthropicModelClient(anthropic_sdk())


@cache
def model_client() -> DeferredModelClient:
    from hookwise.llm.deferred import DeferredModelClient

    return DeferredModelClient(_sdk_model_client)


@cache
def secret_values() -> parameters.SecretsProvider:
    """Powertools' cached secrets, on a client of boto3's default session: its own default
    opens a new session and loads botocore's data again (~50 ms)."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    return parameters.SecretsProvider(boto3_client=boto3.client("secretsmanager"))


def _provider_secret(
    name: str, transform: Literal["json"] | None = None, *, optional: bool = False
) -> Any:
    """A provider credential; unreadable is transient (the action is retried later). With
    `optional`, None when the secret is not there for us: it does not exist, or the worker may
    not read it (its role is granted the default names only)."""
    from aws_lambda_powertools.utilities.parameters.exceptions import (
        GetParameterError,
        TransformParameterError,
    )
    from botocore.exceptions import ClientError

    from hookwise.providers.errors import permanent, transient

    try:
        return secret_values().get(name, transform=transform, max_age=SECRET_CACHE_SECONDS)
    except GetParameterError as error:
        # Powertools raises it while handling boto3's error, which stays its context.
        cause = error.__context__
        code = (
            cause.response.get("Error", {}).get("Code") if isinstance(cause, ClientError) else None
        )
        if optional and code in ("ResourceNotFoundException", "AccessDeniedException"):
            return None
        raise transient(f"cannot read secret {name}") from error
    except TransformParameterError as error:
        raise permanent(f"secret {name} is not JSON") from error


def _one_at_a_time(build: Callable[[], T]) -> Callable[[], T]:
    """The records of a batch run in threads: the first builds the client and the others wait
    for it (a cache alone lets each of them read the secret and exchange a token)."""
    lock = threading.Lock()

    def built() -> T:
        with lock:
            return build()

    return built


@cache
def github_client() -> GitHubClient:
    """Built on first use, so a worker whose routes never call GitHub never reads its secrets.
    Each event is answered with the App where it names an installation and the App's secret
    exists, else with the fine-grained token: both are read when needed, and cached."""
    import httpx

    from hookwise.providers.errors import permanent
    from hookwise.providers.github import (
        TIMEOUT_SECONDS,
        AppCredentials,
        GitHubClient,
        GitHubCredentials,
    )

    settings = get_settings()
    app_secret, pat_secret = settings.github_app_credentials, settings.github_pat_credentials

    def app() -> AppCredentials | None:
        value = _provider_secret(app_secret, transform="json", optional=True)
        if value is None:
            return None
        if not isinstance(value, dict) or not value.get("app_id") or not value.get("private_key"):
            raise permanent(f'secret {app_secret} is not {{"app_id": ..., "private_key": ...}}')
        return AppCredentials(str(value["app_id"]), str(value["private_key"]))

    def token() -> str | None:
        value = _provider_secret(pat_secret, optional=True)
        return str(value).strip() if value is not None else None

    credentials = GitHubCredentials(
        app,
        token,
        app_where=(
            f'a GitHub App in the secret {app_secret} ({{"app_id", "private_key"}}; '
            "another name: HOOKWISE_GITHUB_APP_CREDENTIALS)"
        ),
        pat_where=(
            f"a fine-grained token in the secret {pat_secret} "
            "(another name: HOOKWISE_GITHUB_PAT_CREDENTIALS)"
        ),
    )
    http = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    return GitHubClient(settings.github_api_url, credentials, http)


@cache
def slack_client() -> SlackClient:
    from hookwise.providers.slack import SlackClient

    settings = get_settings()
    token = str(_provider_secret(settings.slack_bot_credentials))
    return SlackClient.with_token(token, settings.slack_api_url)


@cache
def callback_sender() -> CallbackSender:
    """Built on the first callback, so a worker whose routes post none never loads httpx nor
    builds the HTTP and Secrets Manager clients."""
    from hookwise.deliveries.callback import CallbackSender

    return CallbackSender(secrets(), allow_private=get_settings().allow_private_callbacks)


@cache
def admission() -> Admission:
    """The shared model-rate governor and the budget ledger, in the events table."""
    from hookwise.governor.dynamodb import DynamoDBBudgetLedger
    from hookwise.worker.admission import Admission

    return Admission(config(), _governor(), DynamoDBBudgetLedger(get_settings().table))


def _governor() -> DynamoDBGovernor:
    from hookwise.governor.dynamodb import DynamoDBGovernor

    governing = config().governor
    return DynamoDBGovernor(
        get_settings().table,
        horizon=governing.booking_horizon_seconds,
        burst=governing.burst_seconds,
        shards=governing.shards,
    )


@cache
def console_data() -> ConsoleData:
    """What `hookwise console` reads: the store, the DLQ, the governor's and budgets' state."""
    from hookwise.console.data import ConsoleData
    from hookwise.governor.dynamodb import DynamoDBBudgetLedger

    return ConsoleData(
        config=config(),
        store=store(),
        redrive=redrive_service(),
        governor=_governor(),
        budgets=DynamoDBBudgetLedger(get_settings().table),
        blobs=blobs(),
    )


def _context_fetcher(github: Callable[[], GitHubClient]) -> Callable[[], ContextFetcher]:
    """Built for the first route that declares context, sharing the actions' GitHub client."""

    @cache
    def build() -> ContextFetcher:
        from hookwise.adapters.context_cache import DynamoDBContextCache
        from hookwise.context.fetch import ContextFetcher

        return ContextFetcher(github, DynamoDBContextCache(get_settings().table))

    return _one_at_a_time(build)


@cache
def coalescer() -> Coalescer | None:
    """The coalescing windows, in the events table; None when no route coalesces."""
    from hookwise.adapters.coalescing import DynamoDBCoalescing
    from hookwise.worker.coalescing import Coalescer

    if not any(route.coalesce for route in config().routes):
        return None
    return Coalescer(config(), DynamoDBCoalescing(get_settings().table), store())


@cache
def worker_service() -> WorkerService:
    # Worker-only modules load here, so the ingest function's cold start stays lean.
    from hookwise.actions.runner import ActionRunner
    from hookwise.adapters.subject_lock import DynamoDBSubjectLock
    from hookwise.deliveries.eventbridge import EventBridgePublisher
    from hookwise.worker.service import WorkerService

    settings = get_settings()
    github = _one_at_a_time(github_client)
    # Only a batch route parks events: without one, the batch modules are never loaded.
    batches = any(route.mode == "batch" for route in config().routes)
    return WorkerService(
        config=config(),
        store=store(),
        queue=queue(),
        blobs=blobs(),
        model=model_client(),
        settings=settings,
        admission=admission(),
        actions=ActionRunner(
            store(),
            github=github,
            slack=_one_at_a_time(slack_client),
            callbacks=_one_at_a_time(callback_sender),
            lock=DynamoDBSubjectLock(settings.table, wait_seconds=settings.subject_wait_seconds),
            publisher=EventBridgePublisher(settings.event_bus) if settings.event_bus else None,
        ),
        context=_context_fetcher(github),
        parking=batch_parking() if batches else None,
        coalescing=coalescer(),
    )


@cache
def batch_runner() -> BatchRunner:
    from hookwise.worker.batch import BatchRunner

    return BatchRunner(
        worker_service(),
        store(),
        queue(),
        get_settings().worker_concurrency,
        admission().flush,
    )


@cache
def batch_parking() -> BatchParking:
    from hookwise.adapters.batches.dynamodb import DynamoDBBatchLedger
    from hookwise.adapters.context_cache import DynamoDBContextCache
    from hookwise.batches.parking import BatchParking
    from hookwise.resources import BATCH_TABLE_SUFFIX

    settings = get_settings()
    ledger = DynamoDBBatchLedger(settings.batch_table or settings.table + BATCH_TABLE_SUFFIX)
    # Read by the collector right after a worker parked the event: consistent reads.
    contexts = DynamoDBContextCache(settings.table, consistent=True)
    return BatchParking(ledger, store(), queue(), contexts)


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
    from hookwise.config import load_config
    from hookwise.sources import load_sources

    get_settings.cache_clear()
    load_config.cache_clear()
    load_sources.cache_clear()
    for builder in (
        config,
        blobs,
        store,
        queue,
        secrets,
        secret_values,
        dispatcher,
        ingest_service,
        sweeper,
        redrive_service,
        anthropic_sdk,
        model_client,
        admission,
        console_data,
        github_client,
        slack_client,
        callback_sender,
        coalescer,
        worker_service,
        batch_runner,
        batch_parking,
        batch_collector,
        batch_poller,
    ):
        builder.cache_clear()
