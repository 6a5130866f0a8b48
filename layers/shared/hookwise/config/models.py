"""The shape of `hookwise.yaml`.

Every model forbids unknown keys, so a typo is an error that names the key rather than a
setting silently ignored.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hookwise.verifiers.generic_hmac import HmacOptions

Scheme = Literal[
    "github",
    "stripe",
    "slack",
    "shopify",
    "standard",
    "svix",
    "twilio",
    "paddle",
    "linear",
    "zoom",
    "hmac",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Provider = Literal["anthropic", "bedrock"]
Priority = Literal["high", "normal", "low"]
# A route's share of the model's capacity when several routes wait at once.
PRIORITY_WEIGHTS: dict[str, int] = {"high": 4, "normal": 2, "low": 1}


class Budget(Strict):
    """A daily spending cap (UTC day) for a source or a route."""

    daily_tokens: int | None = Field(default=None, ge=1)
    daily_usd: float | None = Field(default=None, gt=0)
    # defer: hold the events (`deferred`, reason budget) until the day resets; fail: fail them.
    on_exhausted: Literal["defer", "fail"] = "defer"

    @model_validator(mode="after")
    def _some_cap(self) -> Budget:
        if self.daily_tokens is None and self.daily_usd is None:
            raise ValueError("a budget needs daily_tokens or daily_usd")
        return self


class SourceConfig(Strict):
    """A provider endpoint: `POST /webhooks/{name}`."""

    name: str = ""
    scheme: Scheme
    # Secrets Manager secret holding a JSON list of active secrets; default `<prefix><name>`.
    secret_name: str | None = None
    # Seconds a signed timestamp may be in the past (and, a little, in the future).
    tolerance_seconds: int | None = Field(default=None, ge=1)
    # Scheme-specific settings (header names, encodings, id/type locations...).
    options: dict[str, Any] = Field(default_factory=dict)
    budget: Budget | None = None

    @model_validator(mode="after")
    def _known_options(self) -> SourceConfig:
        if self.scheme == "hmac":
            HmacOptions.parse(self.options)  # a ValueError here names the bad option
        return self


class Match(Strict):
    source: str
    # Glob patterns over the event type, e.g. `pull_request.opened` or `*`.
    event_types: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    # Dotted payload path -> required value (a list means "any of").
    where: dict[str, Any] = Field(default_factory=dict)


class FieldSpec(Strict):
    type: Literal["string", "integer", "number", "boolean", "array"] = "string"
    description: str = ""
    enum: list[str] | None = None
    items: Literal["string", "integer", "number", "boolean"] = "string"
    max_items: int | None = Field(default=None, ge=1)
    max_length: int | None = Field(default=None, ge=1)
    required: bool = True


class Delivery(Strict):
    eventbridge: bool = True
    callback_url: str | None = None
    # Secret used to sign the callback (Standard Webhooks); a Secrets Manager name.
    callback_secret_name: str | None = None


class PrFilesContext(Strict):
    """The pull request's changed files and patches, fitted to a token budget."""

    token_budget: int = Field(default=6_000, ge=100)
    max_patch_tokens_per_file: int = Field(default=800, ge=10)
    # Globs (over the file path) left out besides the built-in lock and generated files.
    skip: list[str] = Field(default_factory=list)


class IssueCommentsContext(Strict):
    """The issue's (or PR's) most recent comments."""

    limit: int = Field(default=10, ge=1, le=100)


class RouteContext(Strict):
    """What a route fetches from the provider before the model call."""

    github_pr_files: PrFilesContext | None = None
    github_issue_comments: IssueCommentsContext | None = None

    @property
    def declared(self) -> bool:
        """Whether the route fetches anything at all."""
        return self.github_pr_files is not None or self.github_issue_comments is not None


class GithubCommentAction(Strict):
    """One comment per issue or pull request per route, updated in place on later events."""

    # Result fields shown in the comment, in order; empty means every field.
    fields: list[str] = Field(default_factory=list)
    # The model's text may mention the PR's (or issue's) author, whose login is taken from the
    # payload; every other mention is made inert.
    mention_author: bool = False


class GithubLabelsAction(Strict):
    """Labels added to the issue or pull request: only those on the allow-list."""

    allow: list[str] = Field(min_length=1)
    # Result fields holding candidate labels (a string or a list of strings).
    fields: list[str] = Field(default_factory=lambda: ["suggested_labels"], min_length=1)


class SlackReplyAction(Strict):
    """A reply in the thread of the triggering message."""

    fields: list[str] = Field(default_factory=list)
    # The model's text may mention (`<@U...>`) who wrote the triggering message, as the
    # payload names them; every other mention is made inert.
    mention_author: bool = False


class HttpAction(Strict):
    """The signed callback (Standard Webhooks) to a configured HTTPS endpoint."""

    url: str
    # Secrets Manager name of the signing secret (default `hookwise/callback-<route>`).
    secret_name: str | None = None


class RouteActions(Strict):
    """Side effects on the provider, filled from the validated result; keys as in the YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    github_comment: GithubCommentAction | None = Field(default=None, alias="github.comment")
    github_labels: GithubLabelsAction | None = Field(default=None, alias="github.labels")
    slack_reply: SlackReplyAction | None = Field(default=None, alias="slack.reply")
    http: HttpAction | None = None


CacheTtl = Literal["5m", "1h"]


class RouteCache(Strict):
    """How long the route's cached prefix lives. `1h` suits routes with fewer than a few
    events per five minutes: its write costs more (2x input, against 1.25x) but it is read by
    events up to an hour apart."""

    ttl: CacheTtl = "5m"


class BatchSettings(Strict):
    """How a `mode: batch` route's events are gathered into Message Batches."""

    # An event waits at most this long for its batch to be submitted and answered.
    max_wait_seconds: int = Field(default=900, ge=1, le=86_400)
    # A batch is submitted once it has this many events, or its oldest waited long enough.
    # The API takes 100,000; the batch's intent lists its event ids in one DynamoDB item
    # (400 KB), which holds about 5,000.
    max_size: int = Field(default=1000, ge=1, le=5_000)
    # When the Batches API is unavailable or a deadline would pass: ask in real time (through
    # the governor), or keep waiting.
    fallback: Literal["realtime", "wait"] = "realtime"


class CoalesceSettings(Strict):
    """Events of one route and subject that come within `quiet_seconds` of each other collapse
    to the newest (by the provider's order), which runs once the subject has been quiet that
    long, or `max_wait_seconds` after the first of them at the latest; the others end
    `superseded`. An event type in `cancel_on` ends the subject's waiting events."""

    quiet_seconds: int = Field(default=60, ge=1, le=900)
    max_wait_seconds: int = Field(default=600, ge=1, le=86_400)
    # Event types (globs) that end the subject's waiting events, e.g. `pull_request.closed`.
    cancel_on: list[str] = Field(default_factory=list)
    # Dotted payload path to the provider's time of the event (ISO 8601 or epoch seconds):
    # which event is newest, however the queue orders them. Without it, the arrival at ingest.
    order_by: str | None = None

    @model_validator(mode="after")
    def _wait_covers_quiet(self) -> CoalesceSettings:
        if self.max_wait_seconds < self.quiet_seconds:
            raise ValueError("coalesce.max_wait_seconds must be at least quiet_seconds")
        return self


class Route(Strict):
    name: str
    match: Match
    model: str | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=64_000)
    system: str
    # Dotted payload paths to include; empty means the default projection.
    fields: list[str] = Field(default_factory=list)
    # Template over payload paths naming the subject, e.g. `{repository.full_name}#{number}`.
    subject: str | None = None
    memory: int = Field(default=0, ge=0, le=20)
    output: str
    deliveries: Delivery = Field(default_factory=Delivery)
    # Share of a saturated model: a flood on one route must not starve another.
    priority: Priority = "normal"
    budget: Budget | None = None
    context: RouteContext = Field(default_factory=RouteContext)
    actions: RouteActions = Field(default_factory=RouteActions)
    # Record what each action would have done, and do nothing.
    dry_run: bool = False
    # realtime: ask the model as each event arrives; batch: gather events into Message
    # Batches, at the batch price, within `batch.max_wait_seconds`.
    mode: Literal["realtime", "batch"] = "realtime"
    batch: BatchSettings = Field(default_factory=BatchSettings)
    cache: RouteCache = Field(default_factory=RouteCache)
    # Collapse bursts of one subject's events (a PR's pushes) to one model call.
    coalesce: CoalesceSettings | None = None

    @model_validator(mode="after")
    def _one_callback(self) -> Route:
        if self.actions.http and self.deliveries.callback_url:
            raise ValueError("set actions.http or deliveries.callback_url, not both")
        if self.coalesce is not None:
            if not self.subject:
                raise ValueError("coalesce needs a subject: the events it collapses share one")
            own = [
                cancel
                for cancel in self.coalesce.cancel_on
                for kind in self.match.event_types
                if fnmatchcase(cancel, kind) or fnmatchcase(kind, cancel)
            ]
            if own:
                # Its own event would be ordered after the cancel it records, and end at once.
                raise ValueError(f"coalesce.cancel_on: {own} also match the route's own events")
        return self

    @property
    def http_action(self) -> HttpAction | None:
        """The signed callback: `actions.http`, or the older `deliveries.callback_url`."""
        if self.actions.http is not None:
            return self.actions.http
        if self.deliveries.callback_url:
            return HttpAction(
                url=self.deliveries.callback_url, secret_name=self.deliveries.callback_secret_name
            )
        return None

    @property
    def weight(self) -> int:
        return PRIORITY_WEIGHTS[self.priority]


class RateLimits(Strict):
    """An organisation's limits for one model class, as the API counts them (per minute)."""

    requests_per_minute: int = Field(ge=1)
    input_tokens_per_minute: int | None = Field(default=None, ge=1)
    output_tokens_per_minute: int | None = Field(default=None, ge=1)


class ModelSpec(Strict):
    """Prices in USD per million tokens; ids per provider, because they differ."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    # A 5-minute cache write (the API's 1.25x input) and a read (0.1x input).
    cache_write: float = Field(default=0.0, ge=0)
    cache_read: float = Field(default=0.0, ge=0)
    # A 1-hour cache write; default 2x input, the API's multiplier.
    cache_write_1h: float | None = Field(default=None, ge=0)
    # The Message Batches API's discount on every token price (0.5: half price).
    batch_discount: float = Field(default=0.5, ge=0, lt=1)
    bedrock_id: str | None = None
    # The API does not cache a prefix (tools, then system) shorter than the model's documented
    # minimum: marking a shorter one buys nothing.
    min_cacheable_tokens: int = Field(default=1024, ge=0)
    # Per provider account: the Anthropic API and Bedrock limit separately.
    limits: dict[Provider, RateLimits] = Field(default_factory=dict)
    # Models sharing one limit (a model class) name the same group; default: the model's name.
    limit_group: str | None = None
    # Strict tool use (`strict: true` on the forced tool: the answer is decoded to fit the
    # tool's schema). Generally available for the Claude 4.5 and 4.6 models; false for a
    # model without it.
    strict_tools: bool = True

    @property
    def one_hour_write(self) -> float:
        return self.input * 2 if self.cache_write_1h is None else self.cache_write_1h


# Anthropic's documented Tier 1 limits for Sonnet-class models: safe until configured.
DEFAULT_LIMITS = RateLimits(
    requests_per_minute=50, input_tokens_per_minute=30_000, output_tokens_per_minute=8_000
)


class GovernorConfig(Strict):
    """How the shared model-rate governor books capacity (see hookwise/governor)."""

    default_limits: RateLimits = DEFAULT_LIMITS
    # How far ahead an event may book the model; beyond it, it waits in its route's line.
    booking_horizon_seconds: float = Field(default=5.0, gt=0, le=600)
    # Capacity that may be used at once after a quiet spell, in seconds of the limit.
    burst_seconds: float = Field(default=1.0, gt=0, le=60)
    # A booked slot this close is waited for in the worker rather than via the queue.
    inline_wait_seconds: float = Field(default=1.0, ge=0, le=5)
    # One DynamoDB item serves a few hundred decisions a second (see governor/dynamodb.py);
    # past that, split each limit over several items.
    shards: int = Field(default=1, ge=1, le=64)
    # Characters per token when estimating a prompt's input tokens before the call.
    chars_per_token: float = Field(default=4.0, gt=0)


class Defaults(Strict):
    provider: Provider = "anthropic"
    model: str
    max_tokens: int = Field(default=1024, ge=1, le=64_000)
    max_prompt_bytes: int = Field(default=24_000, ge=1_000)


class HookwiseConfig(Strict):
    defaults: Defaults
    models: dict[str, ModelSpec] = Field(default_factory=dict)
    sources: dict[str, SourceConfig]
    schemas: dict[str, dict[str, FieldSpec]] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    governor: GovernorConfig = Field(default_factory=GovernorConfig)

    @model_validator(mode="before")
    @classmethod
    def _name_sources(cls, data: Any) -> Any:
        # A source's name is its key in the mapping; carry it onto the object.
        if isinstance(data, dict) and isinstance(data.get("sources"), dict):
            data = dict(data)
            data["sources"] = {
                name: ({**value, "name": name} if isinstance(value, dict) else value)
                for name, value in data["sources"].items()
            }
        return data

    @model_validator(mode="after")
    def _check_references(self) -> HookwiseConfig:
        problems: list[str] = []
        if self.models and self.defaults.model not in self.models:
            problems.append(f"defaults.model: {self.defaults.model!r} is not listed under models")
        seen: set[str] = set()
        for index, route in enumerate(self.routes):
            where = f"routes[{index}]"
            if route.name in seen:
                problems.append(f"{where}.name: duplicate route name {route.name!r}")
            seen.add(route.name)
            if route.match.source not in self.sources:
                problems.append(f"{where}.match.source: unknown source {route.match.source!r}")
            if route.output not in self.schemas:
                problems.append(f"{where}.output: unknown schema {route.output!r}")
            if route.model and self.models and route.model not in self.models:
                problems.append(f"{where}.model: {route.model!r} is not listed under models")
            problems.extend(self._action_field_problems(where, route))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _action_field_problems(self, where: str, route: Route) -> list[str]:
        """Actions read result fields: each must be in the route's output schema."""
        schema = self.schemas.get(route.output)
        if schema is None:
            return []
        named = {
            "github.comment": route.actions.github_comment,
            "github.labels": route.actions.github_labels,
            "slack.reply": route.actions.slack_reply,
        }
        return [
            f"{where}.actions.{action}.fields: {field!r} is not in schema {route.output!r}"
            for action, spec in named.items()
            if spec is not None
            for field in spec.fields
            if field not in schema
        ]

    def source(self, name: str) -> SourceConfig | None:
        return self.sources.get(name)

    def route_named(self, name: str) -> Route | None:
        return next((route for route in self.routes if route.name == name), None)

    def budgets(self) -> dict[str, Budget]:
        """Every configured budget by its scope: `source:<name>` or `route:<name>`."""
        scoped = [(f"source:{name}", source.budget) for name, source in self.sources.items()]
        scoped += [(f"route:{route.name}", route.budget) for route in self.routes]
        return {scope: budget for scope, budget in scoped if budget is not None}

    def limits_for(self, model: str) -> tuple[str, RateLimits]:
        """(the limit key shared by every caller of this model class, its limits)."""
        provider = self.defaults.provider
        spec = self.models.get(model)
        group = (spec.limit_group if spec else None) or model
        return f"{provider}:{group}", self.configured_limits(model) or self.governor.default_limits

    def configured_limits(self, model: str) -> RateLimits | None:
        """The model's limits for the provider in use, if the configuration sets them: a
        ceiling. Without them `governor.default_limits` hold until the API announces its own."""
        spec = self.models.get(model)
        return spec.limits.get(self.defaults.provider) if spec else None
