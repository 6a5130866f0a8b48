"""`hookwise`: the command line. Each command group lives in its own module."""

from __future__ import annotations

import click

from hookwise.cli import config_check, dev, dlq, events, send


@click.group()
@click.version_option(package_name="hookwise")
def cli() -> None:
    """Turn webhooks into Claude-powered work."""


for command in (
    dev.dev,
    send.send,
    events.events,
    dlq.dlq,
    dlq.replay,
    config_check.config,
):
    cli.add_command(command)
