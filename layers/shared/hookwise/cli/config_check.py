"""`hookwise config check`: validate hookwise.yaml and say what it sets up."""

from __future__ import annotations

from dataclasses import dataclass

import click
from rich.console import Console
from rich.table import Table

from hookwise.config import ConfigError, HookwiseConfig, load_config
from hookwise.governor.schedule import BUCKETS, InForce, in_force
from hookwise.llm.caching import (
    DEFAULT_MIN_CACHEABLE_TOKENS,
    BreakEven,
    break_even,
    cacheable,
    prefix_tokens,
)
from hookwise.verifiers import LOCATIONS
from hookwise.worker.schemas import OutputSchemas


@dataclass(frozen=True)
class Cacheability:
    """Whether a route's stable prefix (tool definition, then system prompt) can be cached."""

    route: str
    model: str
    prefix_tokens: int
    minimum_tokens: int
    cacheable: bool
    ttl: str
    break_even: BreakEven | None

    def verdict(self) -> str:
        if self.cacheable:
            return "yes"
        return f"no: {self.minimum_tokens - self.prefix_tokens} short"

    def arithmetic(self) -> str:
        """Reads per lifetime that pay for the write: with n reads, n + 1 events pay
        `write + n * read` times the input price for the prefix instead of n + 1."""
        found = self.break_even
        if found is None or found.reads_to_pay is None:
            return "never pays"
        return (
            f"write {found.write:g}x, read {found.read:g}x: "
            f"pays from {found.reads_to_pay + 1} events per {self.ttl}"
        )


def cacheability(config: HookwiseConfig) -> list[Cacheability]:
    schemas = OutputSchemas(config)
    found: list[Cacheability] = []
    for route in config.routes:
        model = route.model or config.defaults.model
        spec = config.models.get(model)
        tokens = prefix_tokens(
            route.system, schemas.tool(route.output), config.governor.chars_per_token
        )
        found.append(
            Cacheability(
                route=route.name,
                model=model,
                prefix_tokens=tokens,
                minimum_tokens=spec.min_cacheable_tokens if spec else DEFAULT_MIN_CACHEABLE_TOKENS,
                cacheable=cacheable(spec, tokens),
                ttl=route.cache.ttl,
                break_even=break_even(spec, route.cache.ttl) if spec else None,
            )
        )
    return found


@dataclass(frozen=True)
class ModelLimits:
    """The rate limits the governor starts a model at, and where they come from."""

    model: str
    key: str
    provider: str
    limits: InForce

    @property
    def configured(self) -> bool:
        return all(source == "configured" for _rate, source in self.limits.values())

    def note(self) -> str:
        if self.configured:
            return "a ceiling: lower limits the API announces apply below it"
        if self.provider == "bedrock":
            return "Bedrock announces no limits: these hold"
        return "until the API's first answer announces the organisation's limits"

    def rate(self, bucket: str) -> str:
        found = self.limits.get(bucket)
        return f"{found[0]:,}" if found else "-"


def model_limits(config: HookwiseConfig) -> list[ModelLimits]:
    """Per model the routes use: the limits in force before the API has said anything."""
    models = dict.fromkeys(route.model or config.defaults.model for route in config.routes)
    found: list[ModelLimits] = []
    for model in models:
        key, limits = config.limits_for(model)
        configured = config.configured_limits(model) is not None
        found.append(
            ModelLimits(
                model,
                key,
                config.defaults.provider,
                in_force(limits, None, configured=configured),
            )
        )
    return found


def problems(config: HookwiseConfig) -> list[str]:
    """What pydantic cannot see alone: schemes this build cannot verify."""
    return [
        f"sources.{name}.scheme: no verifier for scheme {source.scheme!r}"
        for name, source in config.sources.items()
        if source.scheme not in LOCATIONS
    ]


@click.group()
def config() -> None:
    """Inspect the configuration."""


def validated(path: str) -> HookwiseConfig:
    """The configuration at `path`; if it is invalid, the error (the offending keys) that
    exits the command with status 1."""
    try:
        loaded = load_config(path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    found = problems(loaded)
    if found:
        raise click.ClickException(f"{path}: " + "; ".join(found))
    return loaded


@config.command("check")
@click.option(
    "--config", "path", default="hookwise.yaml", show_default=True, help="The configuration file."
)
def check(path: str) -> None:
    """Validate the configuration; exit 1 with the offending keys if it is invalid."""
    console = Console()
    loaded = validated(path)
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
    caching = Table(title="prompt caching: is each route's stable prefix (tool, system) cached?")
    for column in ("route", "mode", "prefix tokens", "minimum", "cacheable", "break-even"):
        caching.add_column(column)
    for route, row in zip(loaded.routes, cacheability(loaded), strict=True):
        caching.add_row(
            row.route,
            route.mode,
            str(row.prefix_tokens),
            str(row.minimum_tokens),
            row.verdict(),
            row.arithmetic(),
        )
    console.print(caching)
    console.print(
        "A prefix below the model's minimum is never cached: it is sent unmarked, at the full "
        "input price. Longer route instructions reach the minimum."
    )
    limits = Table(title="model rate limits (per minute) the governor starts at")
    for column in ("model", "limit key", *(b.replace("_", " ") for b in BUCKETS), "source"):
        limits.add_column(column)
    starts = model_limits(loaded)
    for start in starts:
        limits.add_row(
            start.model,
            start.key,
            *(start.rate(bucket) for bucket in BUCKETS),
            "configured" if start.configured else "default",
        )
    console.print(limits)
    for note in dict.fromkeys(
        f"{'configured' if start.configured else 'default'}: {start.note()}." for start in starts
    ):
        console.print(note)
    console.print("An event shows the limits it ran under, announced ones too (GET /events/{id}).")
    console.print("[green]configuration is valid[/green]")
