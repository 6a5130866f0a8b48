"""Runtime settings, read from the environment lazily (never at import time)."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a function or the local stack reads from its environment.

    On AWS the CDK stack sets these on each function; locally `hookwise dev` sets them.
    """

    model_config = SettingsConfigDict(env_prefix="HOOKWISE_", extra="ignore")

    config: str = Field(default="hookwise.yaml", description="path to hookwise.yaml")
    table: str = "hookwise-events"
    # The batch ledger's table; default `<table>-batches`.
    batch_table: str = ""
    queue_url: str = ""
    dlq_url: str = ""
    bucket: str = ""
    event_bus: str = ""
    # Secrets Manager names are `<secrets_prefix><source>`; each holds a JSON list of secrets.
    secrets_prefix: str = "hookwise/"
    anthropic_secret: str = ""
    max_body_bytes: int = 1_048_576
    # Bodies larger than this go to S3 (claim check); DynamoDB items cap at 400 KB.
    inline_body_bytes: int = 300_000
    event_ttl_days: int = 30
    # How long an ingest request may hold the right to enqueue a `received` event.
    dispatch_lease_seconds: float = 3.0
    visibility_timeout: int = 360
    # Real failed attempts (not deferrals) before the worker parks an event in the DLQ.
    max_failures: int = 5
    # The queue's redrive backstop, for crashes: see resources.QueueSpec.
    max_receive_count: int = 10
    max_backoff: int = 900
    # Events older than this in `received` are re-enqueued by the sweeper.
    stuck_after_seconds: int = 120
    # Records of one SQS batch processed at once by a worker invocation.
    worker_concurrency: int = 10
    # Upper bound of one model call; always kept below the invocation's remaining time.
    model_timeout_seconds: float = 45.0
    # Time kept back from a record's budget for storing the result and answering SQS.
    deadline_margin_seconds: float = 3.0
    # Local development only: lets callbacks reach loopback/private addresses.
    allow_private_callbacks: bool = False


@cache
def get_settings() -> Settings:
    return Settings()
