"""`hookwise`: the command line. Each command group lives in its own module."""

from __future__ import annotations

import click

from hookwise.cli.config_check import config
from hookwise.cli.console import console
from hookwise.cli.dev import dev
from hookwise.cli.dlq import dlq, replay
from hookwise.cli.events import events
from hookwise.cli.send import send


@click.group()
@click.version_option(package_name="hookwise")
def cli() -> None:
    """Turn webhooks into Claude-powered work."""


for command in (dev, console, send, events, dlq, replay, config):
    cli.add_command(command)
