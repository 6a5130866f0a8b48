"""`hookwise send SOURCE [EVENT]`: sign a realistic sample (or a file) and POST it, like
`stripe trigger`."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import click
import httpx

from hookwise.adapters.secrets.base import env_override
from hookwise.cli.common import DEFAULT_PORT
from hookwise.config import ConfigError, HookwiseConfig, SourceConfig, load_config
from hookwise.samples import samples
from hookwise.settings import Settings
from hookwise.verifiers import Verifier, verifier_for
from hookwise.worker.routing import route_for

WEBHOOKS_PATH = "/webhooks/"
# The ingest function's default body limit (API Gateway's own is 10 MB).
INGEST_BODY_LIMIT: int = Settings().max_body_bytes


def encode(verifier: Verifier, payload: Any) -> bytes:
    """JSON for JSON schemes; form parameters for form-encoded ones (Twilio)."""
    if verifier.json_body:
        return json.dumps(payload).encode()
    return urlencode(payload).encode()


def default_event(config: HookwiseConfig, source: str, available: Mapping[str, Traversable]) -> str:
    """The first sample a route handles, so that a bare `hookwise send SOURCE` runs the whole
    pipeline; else the first sample."""
    for name, entry in available.items():
        if route_for(config, source, name, json.loads(entry.read_text())) is not None:
            return name
    return next(iter(available))


def webhook_url(url: str | None, port: int, source: str) -> str:
    """Where to POST: `url` as given when it names a webhook path, else `/webhooks/<source>` under
    it, so the stack's base URL (a deployed API's, stage included) works as well."""
    parts = urlsplit(url or f"http://127.0.0.1:{port}")
    prefix, found, rest = parts.path.partition(WEBHOOKS_PATH)
    if found and rest.strip("/"):
        return urlunsplit(parts)
    base = prefix.rstrip("/").removesuffix(WEBHOOKS_PATH.rstrip("/"))
    path = f"{base}{WEBHOOKS_PATH}{source}"
    return urlunsplit(parts._replace(path=path))


def unanswered(target: str, body: bytes, error: httpx.TransportError) -> click.ClickException:
    """A clear message for a request that got no HTTP answer."""
    if isinstance(error, httpx.ConnectError):
        return click.ClickException(f"cannot reach {target} ({error}); is `hookwise dev` running?")
    if isinstance(error, httpx.TimeoutException):
        return click.ClickException(f"{target} did not answer in time ({error})")
    message = f"{target} closed the connection without an answer ({error})"
    if len(body) > INGEST_BODY_LIMIT:
        # A server refusing a body with 413 may close before reading it all: the client then
        # sees a reset instead of the answer.
        message += (
            f": the body is {len(body):,} bytes, over what hookwise accepts by default "
            f"({INGEST_BODY_LIMIT:,} bytes), so it was most likely refused as too large (413)"
        )
    return click.ClickException(message)


def secret_for(source: SourceConfig, verifier: Verifier, given: str | None) -> str:
    override = env_override(source.name)
    return given or (override[0] if override else verifier.dev_secret(source.name))


@click.command()
@click.argument("source")
@click.argument("event", required=False)
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="send this body instead of a sample (EVENT then names its type)",
)
@click.option(
    "--url",
    default=None,
    help="the stack's base URL, or a full .../webhooks/<source> URL (default: the local stack)",
)
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True)
@click.option(
    "--repeat",
    type=click.IntRange(1, 10_000),
    default=1,
    show_default=True,
    help="send this many distinct deliveries",
)
@click.option(
    "--secret",
    default=None,
    help="signing secret (default: HOOKWISE_SECRET_<SOURCE> or the dev secret)",
)
@click.option(
    "--delivery-id",
    default=None,
    help="fixed delivery id (to test idempotency); default: a new one per send",
)
@click.option("--config", "config_path", default="hookwise.yaml", show_default=True)
def send(
    source: str,
    event: str | None,
    file: Path | None,
    url: str | None,
    port: int,
    repeat: int,
    secret: str | None,
    delivery_id: str | None,
    config_path: str,
) -> None:
    """Sign a sample delivery for SOURCE and POST it."""
    try:
        config = load_config(config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    source_config = config.source(source)
    if source_config is None:
        raise click.ClickException(
            f"unknown source {source!r}; sources: {', '.join(config.sources)}"
        )
    verifier = verifier_for(source_config)
    available = samples(source)
    if file is None:
        if not available:
            raise click.ClickException(f"no samples for {source!r}; use --file")
        event = event or default_event(config, source, available)
        if event not in available:
            raise click.ClickException(
                f"no sample {event!r} for {source!r}; samples: {', '.join(available)}"
            )
        template = json.loads(available[event].read_text())
    else:
        event = event or "unknown"
        raw = file.read_bytes()
    target = webhook_url(url, port, source)
    key = secret_for(source_config, verifier, secret)
    with httpx.Client(timeout=30) as client:
        for _ in range(repeat):
            delivery = delivery_id or str(uuid.uuid4())
            now = int(time.time())
            body = (
                raw
                if file is not None
                else encode(
                    verifier,
                    verifier.prepare_sample(
                        copy.deepcopy(template), delivery_id=delivery, timestamp=now
                    ),
                )
            )
            headers = verifier.sign(
                body, key, url=target, event_type=event, delivery_id=delivery, timestamp=now
            )
            try:
                answer = client.post(target, content=body, headers=headers)
            except httpx.TransportError as error:
                raise unanswered(target, body, error) from error
            click.echo(f"{answer.status_code} {answer.text}")
            if answer.status_code == 404:
                click.echo(
                    f"hint: nothing at {target}; --url takes the stack's base URL (to which "
                    "/webhooks/<source> is added) or a full .../webhooks/<source> URL, for a "
                    "source that stack has",
                    err=True,
                )
            elif answer.status_code == 413:
                click.echo(f"hint: the body ({len(body):,} bytes) is over the limit", err=True)
