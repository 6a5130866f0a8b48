"""What the console's pages show, read from the event store, the DLQ (through the redrive
service) and the governor's stored state. No HTTP here: `app.py` renders these."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hookwise.adapters.store.base import EventPage, EventQuery, EventStore
from hookwise.adapters.store.compressed_blobs import CompressedBlobStore
from hookwise.config import HookwiseConfig, Route
from hookwise.domain.events import EventRecord, EventStatus, isoformat, make_event_id
from hookwise.governor.base import BudgetLedger, BudgetScope
from hookwise.governor.dynamodb import DynamoDBGovernor, utc_day
from hookwise.governor.schedule import Schedule, lane_for
from hookwise.redrive.models import (
    BulkAnswer,
    DeadLetterView,
    ListAction,
    RedriveAction,
    ReplayAction,
    SummaryAction,
    SummaryAnswer,
)
from hookwise.redrive.service import RedriveService
from hookwise.verifiers import verifier_for
from hookwise.worker.prompt import subject_of
from hookwise.worker.routing import route_for
from hookwise.worker.schemas import OutputSchemas

DAY = 86_400
PAGE_SIZE = 50
# Events one Events page reads at most to fill itself when filters leave most out; the page
# then offers to read on.
PAGE_READ = 2_000
# Events the Routes page counts, newest first (it says so when the week held more).
ROUTE_STATS_READ = 5_000
DLQ_LIST_LIMIT = 200
# A header whose name says it carries a signature, a secret or a token: its value is removed.
SECRET_HEADER = re.compile(r"sig|hmac|secret|token|auth|key|password", re.IGNORECASE)
REMOVED = "(removed)"
GITHUB = "https://github.com"
SLACK = "https://slack.com/archives"


@dataclass(frozen=True, kw_only=True)
class EventFilters:
    """The Events page's form: every field optional; times are ISO 8601 (UTC)."""

    source: str | None = None
    route: str | None = None
    status: EventStatus | None = None
    event_type: str | None = None
    since: str | None = None
    until: str | None = None
    search: str | None = None

    def query(self, now: float) -> EventQuery:
        return EventQuery(
            since=self.since or "0",
            until=self.until or isoformat(datetime.fromtimestamp(now + DAY, UTC)),
            status=self.status,
            route=self.route,
            source=self.source,
            event_type=self.event_type,
        )


@dataclass(frozen=True)
class Row:
    record: EventRecord
    subject: str | None

    @property
    def cost(self) -> float | None:
        return self.record.usage.cost_usd if self.record.usage else None


@dataclass(frozen=True)
class Rows:
    rows: list[Row]
    # Where the next page starts; None at the end.
    after: str | None


@dataclass(frozen=True)
class Step:
    """One moment of an event's life on its timeline."""

    at: str | None
    title: str
    detail: str = ""
    link: str | None = None
    failed: bool = False


@dataclass(frozen=True)
class EventView:
    record: EventRecord
    subject: str | None
    timeline: list[Step]
    payload: Any
    payload_note: str
    headers: dict[str, str]
    in_dlq: bool


@dataclass
class RouteFigures:
    """One route's events and model use over a span."""

    by_status: Counter[str] = field(default_factory=Counter)
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0

    def count(self, record: EventRecord) -> None:
        self.by_status[record.status.value] += 1
        usage = record.usage
        if usage is None:
            return
        self.model_calls += 1
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.cache_read_tokens += usage.cache_read_input_tokens
        self.cache_write_tokens += usage.cache_creation_input_tokens
        self.cost_usd += usage.cost_usd

    @property
    def cache_hit_rate(self) -> float | None:
        """Of the input tokens the calls sent, the share read from the cache."""
        sent = self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
        return self.cache_read_tokens / sent if sent else None


@dataclass(frozen=True)
class Budget:
    scope: str
    tokens: int
    usd: float
    daily_tokens: int | None
    daily_usd: float | None

    @property
    def used_percent(self) -> float:
        return max(
            100 * self.tokens / self.daily_tokens if self.daily_tokens else 0.0,
            100 * self.usd / self.daily_usd if self.daily_usd else 0.0,
        )


@dataclass(frozen=True)
class RouteView:
    route: Route
    model: str
    today: RouteFigures
    week: RouteFigures
    budgets: list[Budget]


@dataclass(frozen=True)
class Limits:
    """The governor's state for one limit key (a model class), as it stores it."""

    key: str
    requests_per_minute: int
    input_tokens_per_minute: int | None
    output_tokens_per_minute: int | None
    shards: int
    paused_until: str | None
    paused_reason: str
    # Each route's next free place in line, in seconds from now (past ones left out).
    lines: dict[str, float]
    output_ratio: float


@dataclass(frozen=True)
class RoutesView:
    routes: list[RouteView]
    limits: list[Limits]
    counted: int
    truncated: bool


class ConsoleData:
    def __init__(
        self,
        *,
        config: HookwiseConfig,
        store: EventStore,
        redrive: RedriveService,
        governor: DynamoDBGovernor,
        budgets: BudgetLedger,
        blobs: CompressedBlobStore | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._store = store
        self._redrive = redrive
        self._governor = governor
        self._budgets = budgets
        self._blobs = blobs
        self._clock = clock
        self._schemas = OutputSchemas(config)

    # -- events ----------------------------------------------------------------------------

    def events(self, filters: EventFilters, after: str | None = None) -> Rows:
        """A page of events, newest first. A search is an event id, a delivery id (the id is
        derived from it, for each source) or text in the subject."""
        query = filters.query(self._clock())
        if filters.search:
            found = self._by_id(filters.search.strip())
            if found:
                return Rows([self._row(r) for r in found if query.matches(r)], None)
        page = self._store.find(query, PAGE_SIZE, after, PAGE_READ)
        if not filters.search:
            return Rows([self._row(record) for record in page.records], page.after)
        return self._subject_search(filters, page)

    def _subject_search(self, filters: EventFilters, page: EventPage) -> Rows:
        needle = (filters.search or "").strip().lower()
        rows = [
            row
            for row in map(self._row, page.records)
            if row.subject is not None and needle in row.subject.lower()
        ]
        return Rows(rows, page.after)

    def _by_id(self, text: str) -> list[EventRecord]:
        candidates = [text] + [make_event_id(source, text) for source in self.config.sources]
        found = self._store.get_many(candidates)
        return sorted(found.values(), key=lambda r: r.received_at, reverse=True)

    def _row(self, record: EventRecord) -> Row:
        return Row(record, self.subject(record))

    def _route(self, record: EventRecord, payload: Any) -> Route | None:
        if record.route:
            return self.config.route_named(record.route)
        return route_for(self.config, record.source, record.event_type, payload)

    def _route_name(self, record: EventRecord) -> str:
        """The route that took the event; for one that never got as far as recording it (a
        failure, a deferral), the route its payload matches."""
        if record.route:
            return record.route
        if record.body is None:  # in S3: not fetched for a count
            return ""
        try:
            route = self._route(record, self._payload(record))
        except Exception:  # an unreadable body counts under no route
            return ""
        return route.name if route is not None else ""

    def _payload(self, record: EventRecord) -> Any:
        """The payload as its scheme parses it; None when the body is not at hand."""
        body = record.body
        if body is None and record.body_ref and self._blobs is not None:
            body = self._blobs.get(record.body_ref)
        if body is None:
            return None
        source = self.config.source(record.source)
        try:
            return verifier_for(source).parse(body) if source else json.loads(body)
        except ValueError:
            return body.decode("utf-8", "replace")

    def subject(self, record: EventRecord, payload: Any = None) -> str | None:
        """What the event is about (a PR, a customer), from its route's subject template."""
        payload = payload if payload is not None else self._payload(record)
        if payload is None:
            return None
        route = self._route(record, payload)
        return subject_of(route, payload) if route is not None else None

    def event(self, event_id: str) -> EventView | None:
        record = self._store.get(event_id)
        if record is None:
            return None
        note = ""
        try:
            payload = self._payload(record)
        except Exception as error:  # an unreadable S3 body: the rest of the page still helps
            payload, note = None, f"the body could not be read: {error}"
        if payload is None and not note:
            note = "the body is stored in S3, out of this console's reach"
        return EventView(
            record=record,
            subject=self.subject(record, payload) if payload is not None else None,
            timeline=timeline(record),
            payload=payload,
            payload_note=note,
            headers=scrubbed(record.headers),
            in_dlq=record.status is EventStatus.FAILED and bool(self.dead_letters([event_id])),
        )

    def result_fields(self, record: EventRecord) -> list[tuple[str, str, Any]]:
        """The result by its route's output schema: each field, its description, its value
        (fields the schema does not name last)."""
        result = record.result or {}
        route = self.config.route_named(record.route) if record.route else None
        described: dict[str, str] = {}
        if route is not None and route.output in self.config.schemas:
            model = self._schemas.model(route.output)
            described = {name: f.description or "" for name, f in model.model_fields.items()}
        names = [*described, *(name for name in result if name not in described)]
        return [(name, described.get(name, ""), result[name]) for name in names if name in result]

    # -- on-call ---------------------------------------------------------------------------

    def dlq_summary(self) -> SummaryAnswer:
        return self._redrive.summary(SummaryAction(action="summary"))

    def dead_letters(self, event_ids: list[str] | None = None) -> list[DeadLetterView]:
        action = ListAction(action="list", limit=DLQ_LIST_LIMIT, event_ids=event_ids)
        return self._redrive.listing(action).messages

    def redrive(self, event_ids: list[str], dry_run: bool) -> BulkAnswer:
        return self._redrive.redrive(
            RedriveAction(action="redrive", event_ids=event_ids, dry_run=dry_run), None
        )

    def replay(self, event_id: str, force: bool) -> BulkAnswer:
        return self._redrive.replay(
            ReplayAction(action="replay", event_ids=[event_id], force=force)
        )

    # -- routes ----------------------------------------------------------------------------

    def routes(self) -> RoutesView:
        now = self._clock()
        today = utc_day(now)
        week_ago = isoformat(datetime.fromtimestamp(now - 7 * DAY, UTC))
        query = EventQuery(since=week_ago, until=isoformat(datetime.fromtimestamp(now + DAY, UTC)))
        figures = {route.name: (RouteFigures(), RouteFigures()) for route in self.config.routes}
        counted, after = 0, None
        while counted < ROUTE_STATS_READ:
            page = self._store.find(query, ROUTE_STATS_READ - counted, after, ROUTE_STATS_READ)
            for record in page.records:
                counted += 1
                pair = figures.get(self._route_name(record))
                if pair is None:
                    continue
                pair[1].count(record)
                if record.received_at.startswith(today):
                    pair[0].count(record)
            after = page.after
            if after is None:
                break
        views = [
            RouteView(
                route=route,
                model=route.model or self.config.defaults.model,
                today=figures[route.name][0],
                week=figures[route.name][1],
                budgets=self._route_budgets(route, today),
            )
            for route in self.config.routes
        ]
        models = dict.fromkeys(view.model for view in views)
        return RoutesView(
            views, [self._limits(model, now) for model in models], counted, bool(after)
        )

    def _route_budgets(self, route: Route, day: str) -> list[Budget]:
        found = []
        configured = self.config.budgets()
        for scope in (f"source:{route.match.source}", f"route:{route.name}"):
            budget = configured.get(scope)
            if budget is None:
                continue
            tokens, usd = self._budgets.spent(
                BudgetScope(scope, budget.daily_tokens, budget.daily_usd), day
            )
            found.append(Budget(scope, tokens, usd, budget.daily_tokens, budget.daily_usd))
        return found

    def _limits(self, model: str, now: float) -> Limits:
        key, limits = self.config.limits_for(model)
        schedules = self._governor.stored(key)
        paused = max(schedules, key=lambda s: s.paused_until, default=Schedule())
        lanes = {
            lane_for(route.name, route.weight): route.name
            for route in self.config.routes
            if (route.model or self.config.defaults.model) == model
        }
        lines: dict[str, float] = {}
        for schedule in schedules:
            for lane, at in schedule.lines.items():
                if at > now:
                    name = lanes.get(lane, lane)
                    lines[name] = max(lines.get(name, 0.0), round(at - now, 1))
        return Limits(
            key=key,
            requests_per_minute=limits.requests_per_minute,
            input_tokens_per_minute=limits.input_tokens_per_minute,
            output_tokens_per_minute=limits.output_tokens_per_minute,
            shards=self.config.governor.shards,
            paused_until=(
                isoformat(datetime.fromtimestamp(paused.paused_until, UTC))
                if paused.paused_until > now
                else None
            ),
            paused_reason=paused.paused_reason if paused.paused_until > now else "",
            lines=lines,
            output_ratio=max((s.output_ratio for s in schedules), default=1.0),
        )


def scrubbed(headers: dict[str, str]) -> dict[str, str]:
    """The stored request headers, with the value of any that could carry a signature gone
    (ingest keeps none, by a list; this holds whatever the list becomes)."""
    return {
        name: REMOVED if SECRET_HEADER.search(name) else value
        for name, value in sorted(headers.items())
    }


def action_link(name: str, outcome: dict[str, Any]) -> str | None:
    """Where an action acted: the PR comment, or the Slack message."""
    target = outcome.get("target")
    if not isinstance(target, str):
        return None
    if name == "github.comment" and "#" in target and outcome.get("id"):
        repo, number = target.rsplit("#", 1)
        return f"{GITHUB}/{repo}/pull/{number}#issuecomment-{outcome['id']}"
    if name == "github.labels" and "#" in target:
        repo, number = target.rsplit("#", 1)
        return f"{GITHUB}/{repo}/pull/{number}"
    if name == "slack.reply" and outcome.get("ts"):
        channel = target.split("/")[0].split(":")[0]
        return f"{SLACK}/{channel}/p{str(outcome['ts']).replace('.', '')}"
    if name == "http" and target.startswith(("https://", "http://")):
        return target
    return None


def _describe(outcome: dict[str, Any]) -> str:
    shown = {k: v for k, v in outcome.items() if k not in ("status", "at", "body", "text")}
    return ", ".join(f"{key}: {value}" for key, value in shown.items())


def timeline(record: EventRecord) -> list[Step]:
    """The event's life as the store records it: each field written by a step stands for it."""
    steps = [
        Step(
            record.received_at,
            "received",
            f"{record.source} {record.event_type}"
            + (f", delivery {record.delivery_id}" if record.delivery_id else ""),
        )
    ]
    if record.attempts:
        steps.append(
            Step(
                None,
                "claimed by a worker",
                f"{record.attempts} attempt(s), {record.failures} failed"
                + (f", redriven or replayed {record.redrive_count} time(s)"
                   if record.redrive_count else ""),
            )
        )  # fmt: skip
    if record.defer_reason:
        steps.append(
            Step(
                None,
                "deferred",
                record.defer_reason
                + (f", until {record.deferred_until}" if record.deferred_until else ""),
            )
        )
    if record.mode == "batch" or record.batch_id:
        steps.append(
            Step(None, "batched", f"Message Batch {record.batch_id}" if record.batch_id else "")
        )
    elif record.mode == "realtime":
        steps.append(Step(None, "sent to real time", "its batch could not take it"))
    if record.usage is not None:
        usage = record.usage
        steps.append(
            Step(
                None,
                "model call",
                f"{record.model or '?'}, {usage.input_tokens} tokens in, "
                f"{usage.output_tokens} out, cache reads {usage.cache_read_input_tokens}, "
                f"cache writes {usage.cache_creation_input_tokens}, "
                f"${usage.cost_usd:.6f}"
                + (f", {record.latency_ms} ms" if record.latency_ms is not None else ""),
            )
        )
    for name, outcome in sorted((record.actions or {}).items()):
        status = str(outcome.get("status", "?"))
        steps.append(
            Step(
                outcome.get("at"),
                f"{name}: {status}",
                _describe(outcome),
                action_link(name, outcome),
                failed=status == "failed",
            )
        )
    if record.error:
        steps.append(Step(None, "failure", record.error, failed=True))
    steps.append(
        Step(
            record.updated_at,
            record.status.value,
            "now" if record.status is not EventStatus.RECEIVED else "waiting for a worker",
            failed=record.status is EventStatus.FAILED,
        )
    )
    return steps
