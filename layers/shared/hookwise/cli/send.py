"""`hookwise send SOURCE [EVENT]`: sign a realistic sample (or a file) and POST it, like
`stripe trigger`."""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click
import httpx

from hookwise.adapters.secrets.base import env_override
from hookwise.cli.common import DEFAULT_PORT
from hookwise.config import ConfigError, SourceConfig, load_config
from hookwise.samples import samples
from hookwise.verifiers import Verifier, verifier_for


def encode(verifier: Verifier, payload: Any) -> bytes:
    """JSON for JSON schemes; form parameters for form-encoded ones (Twilio)."""
    if verifier.json_body:
        return json.dumps(payload).encode()
    return urlencode(payload).encode()


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
@click.option("--url", default=None, help="where to POST (default: the local stack)")
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
        event = event or next(iter(available))
        if event not in available:
            raise click.ClickException(
                f"no sample {event!r} for {source!r}; samples: {', '.join(available)}"
            )
        template = json.loads(available[event].read_text())
    else:
        event = event or "unknown"
        raw = file.read_bytes()
    target = url or f"http://127.0.0.1:{port}/webhooks/{source}"
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
                raise click.ClickException(
                    f"cannot reach {target} ({error}); is `hookwise dev` running?"
                ) from error
            click.echo(f"{answer.status_code} {answer.text}")
