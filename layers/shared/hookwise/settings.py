"""Runtime settings, read from the environment lazily (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, get_type_hints

ENV_PREFIX = "HOOKWISE_"
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Settings:
    """Everything a function or the local stack reads from its environment.

    On AWS the CDK stack sets these on each function; locally `hookwise dev` sets them. Each
    field `name` is read from `HOOKWISE_<NAME>` by `from_environment`. A dataclass, not
    pydantic: the ingest function reads these on every cold start and never imports pydantic
    (`tests/unit/test_imports.py`); the few scalar types below are all it converts.
    """

    # Path to hookwise.yaml.
    config: str = "hookwise.yaml"
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
    # Bodies whose compressed size passes this go to S3 (claim check); the arithmetic is at
    # INLINE_BODY_BYTES in hookwise/adapters/store/dynamodb.py.
    inline_body_bytes: int = 6 * 1024
    event_ttl_days: int = 30
    # How long the sweeper holds the right to enqueue a `received` event.
    dispatch_lease_seconds: float = 3.0
    visibility_timeout: int = 360
    # Real failed attempts (not deferrals) before the worker parks an event in the DLQ.
    max_failures: int = 5
    # The queue's redrive backstop, for crashes: see resources.QueueSpec.
    max_receive_count: int = 10
    max_backoff: int = 900
    # Events older than this in `received` (no worker claimed them) are re-enqueued.
    stuck_after_seconds: int = 120
    # Records of one SQS batch processed at once by a worker invocation.
    worker_concurrency: int = 10
    # Upper bound of one model call; always kept below the invocation's remaining time.
    model_timeout_seconds: float = 45.0
    # Time kept back from a record's budget for storing the result and answering SQS.
    deadline_margin_seconds: float = 3.0
    # How long an event's action waits for another run acting on the same subject (one PR's
    # comment) to finish, before it goes back to the queue to try later.
    subject_wait_seconds: float = 5.0
    # Local development only: lets callbacks reach loopback/private addresses.
    allow_private_callbacks: bool = False
    # Providers the actions and context fetchers call; `hookwise dev` points them at its fakes.
    github_api_url: str = "https://api.github.com"
    slack_api_url: str = "https://slack.com/api/"
    # A GitHub App (JSON {app_id, private_key}), for events that name an installation, and a
    # fine-grained personal access token, for the others (see wiring.github_client).
    github_app_credentials: str = "hookwise/github-app"
    github_pat_credentials: str = "hookwise/github-token"
    slack_bot_credentials: str = "hookwise/slack-bot-token"

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Settings:
        """The defaults, overridden by `HOOKWISE_<NAME>` variables (names case-insensitive)."""
        found = {name.upper(): value for name, value in (environment or os.environ).items()}
        hints = get_type_hints(cls)
        return cls(
            **{
                field.name: _converted(field.name, hints[field.name], raw)
                for field in fields(cls)
                if (raw := found.get(ENV_PREFIX + field.name.upper())) is not None
            }
        )


def _converted(name: str, hint: Any, raw: str) -> Any:
    variable = ENV_PREFIX + name.upper()
    try:
        if hint is bool:
            if raw.strip().lower() in TRUE | FALSE:
                return raw.strip().lower() in TRUE
            raise ValueError("not a boolean")
        if hint in (int, float):
            return hint(raw)
    except ValueError:
        raise ValueError(f"{variable}={raw!r}: expected {hint.__name__}") from None
    return raw


@cache
def get_settings() -> Settings:
    return Settings.from_environment()
