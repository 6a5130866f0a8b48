"""`hookwise config check`: validate hookwise.yaml and say what it sets up."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from hookwise.config import ConfigError, HookwiseConfig, load_config
from hookwise.verifiers import VERIFIERS


def problems(config: HookwiseConfig) -> list[str]:
    """What pydantic cannot see alone: schemes this build cannot verify."""
    return [
        f"sources.{name}.scheme: no verifier for scheme {source.scheme!r}"
        for name, source in config.sources.items()
        if source.scheme not in VERIFIERS
    ]


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
@click.option(
    "--config", "path", default="hookwise.yaml", show_default=True, help="The configuration file."
)
def check(path: str) -> None:
    """Validate the configuration; exit 1 with the offending keys if it is invalid."""
    console = Console()
    try:
        loaded = load_config(path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    found = problems(loaded)
    if found:
        raise click.ClickException(f"{path}: " + "; ".join(found))
    table = Table(title=f"{path}: {len(loaded.sources)} sources, {len(loaded.routes)} routes")
    for column in ("route", "source", "event types", "model", "output"):
        table.add_column(column)
    for route in loaded.routes:
        table.add_row(
            route.name,
            route.match.source,
            ", ".join(route.match.event_types),
            route.model or loaded.defaults.model,
            route.output,
        )
    console.print(table)
    console.print("[green]configuration is valid[/green]")
