"""The event record: at once the idempotency record, the event log and the result."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, get_args

# The key of a subject memory entry naming the pull request head its review saw: the next
# push's review covers the changes since.
REVIEWED_HEAD = "reviewed_head"


class EventStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    PROCESSING = "processing"
    # Waiting for model capacity or budget: not a failure, no call made.
    DEFERRED = "deferred"
    # A `mode: batch` route's event, parked for a Message Batch (hookwise/batches).
    BATCHING = "batching"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    FAILED = "failed"
    # A coalescing route's event that a newer one of its subject ran in place of (or that a
    # `cancel_on` event ended): no call made. `superseded_by` names the other event.
    SUPERSEDED = "superseded"


# Statuses after which a message for the event is acknowledged without work.
FINAL_STATUSES = frozenset(
    {EventStatus.COMPLETED, EventStatus.SKIPPED, EventStatus.FAILED, EventStatus.SUPERSEDED}
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_event_id(source: str, delivery_key: str) -> str:
    """Deterministic, URL-safe id: a redelivery of the same delivery maps to the same item."""
    digest = hashlib.sha256(f"{source}\x00{delivery_key}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


def body_key(body: bytes) -> str:
    """Fallback delivery key for providers that send no delivery id."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, kw_only=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cost_usd: float = 0.0

    @classmethod
    def from_fields(cls, data: Mapping[str, Any]) -> Usage:
        return cls(**{name: data[name] for name in _USAGE_FIELDS if name in data})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_USAGE_FIELDS = frozenset(field.name for field in fields(Usage))


@dataclass(kw_only=True)
class EventRecord:
    """One webhook delivery and everything that happened to it.

    A dataclass, not a pydantic model: the ingest function builds one per request and its
    cold start never imports pydantic (`tests/unit/test_imports.py`). Records are read back
    only from our own items, so `from_fields` types what DynamoDB cannot (status, usage).
    """

    event_id: str
    source: str
    event_type: str
    status: EventStatus = EventStatus.RECEIVED
    attempts: int = 0
    # Real failed attempts (transient errors); deferrals do not count. At the configured
    # maximum the worker parks the event in the DLQ itself.
    failures: int = 0
    received_at: str
    updated_at: str
    delivery_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    # S3 key of the body when it is too large for the item (claim check).
    body_ref: str | None = None
    route: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    usage: Usage | None = None
    model: str | None = None
    latency_ms: int | None = None
    redrive_count: int = 0
    expires_at: int | None = None
    # Why and until when the event waits (status `deferred`).
    defer_reason: str | None = None
    deferred_until: str | None = None
    # Capacity booked for this time (epoch seconds): call then, without asking again.
    booked_at: float | None = None
    # The event's place in its route's line at the governor (epoch seconds).
    line_at: float | None = None
    # The model's rate limits the governor last decided under, with where each came from:
    # {"requests_per_minute": {"limit": 300, "source": "announced"}, ...}.
    limits: dict[str, Any] | None = None
    # Side effects after completion, by action name: {"status", "at", and what it did}.
    actions: dict[str, Any] | None = None
    # "batch" once a batch route parks the event; "realtime" when it fell back to real time.
    mode: str | None = None
    # The Message Batch that holds (or answered) the event.
    batch_id: str | None = None
    # What the pull request diff in the prompt covered: {"head": its head SHA, "since": the
    # head of the review it follows (absent for the whole pull request)}.
    reviewed: dict[str, Any] | None = None
    # A permanent failure decided but not yet recorded (the event is still `processing`):
    # written before the DLQ send, removed by the transition to `failed` that follows it.
    dead_letter_reason: str | None = None
    # Status `superseded`: the event that ran in this one's place (or ended it), and why.
    superseded_by: str | None = None
    superseded_reason: str | None = None

    @classmethod
    def from_fields(cls, data: Mapping[str, Any]) -> EventRecord:
        """A record from stored attributes; attributes it does not know are left out."""
        known = {name: data[name] for name in _RECORD_FIELDS if name in data}
        known["status"] = EventStatus(known.get("status", EventStatus.RECEIVED))
        usage = known.get("usage")
        if isinstance(usage, Mapping):
            known["usage"] = Usage.from_fields(usage)
        return cls(**known)

    def public_view(self) -> dict[str, Any]:
        """The `GET /events/{event_id}` answer: no body, no headers."""
        view: dict[str, Any] = {name: getattr(self, name) for name in PUBLIC_FIELDS}
        view["status"] = self.status.value
        for optional in PUBLIC_OPTIONAL_FIELDS:
            value = getattr(self, optional)
            if value is not None:
                view[optional] = value.as_dict() if isinstance(value, Usage) else value
        return view


_RECORD_FIELDS = frozenset(field.name for field in fields(EventRecord))
PUBLIC_FIELDS = (
    "event_id",
    "source",
    "event_type",
    "status",
    "attempts",
    "failures",
    "received_at",
    "updated_at",
    "route",
    "model",
    "latency_ms",
    "redrive_count",
)
PUBLIC_OPTIONAL_FIELDS = (
    "result",
    "error",
    "usage",
    "actions",
    "defer_reason",
    "deferred_until",
    "limits",
    "mode",
    "batch_id",
    "superseded_by",
    "superseded_reason",
    "reviewed",
)

MessageKind = Literal["event", "actions", "callback"]
MESSAGE_KINDS: frozenset[str] = frozenset(get_args(MessageKind))


@dataclass(frozen=True, kw_only=True)
class QueueMessage:
    """What travels on SQS: the event id and a little routing metadata, never the payload."""

    event_id: str
    source: str
    event_type: str
    # "actions": only run the route's unfinished actions on the stored result, never the
    # model ("callback" is its older name, still accepted from messages in flight).
    kind: MessageKind = "event"

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> QueueMessage:
        """Parse a message body; ValueError for anything that is not one of ours."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ValueError(f"queue message: not JSON ({error})") from None
        if not isinstance(data, dict):
            raise ValueError("queue message: expected a JSON object")
        names = ("event_id", "source", "event_type")
        if not all(isinstance(data.get(name), str) for name in names):
            raise ValueError(f"queue message: {', '.join(names)} must be strings")
        kind = data.get("kind", "event")
        if kind not in MESSAGE_KINDS:
            raise ValueError(f"queue message: unknown kind {kind!r}")
        return cls(
            event_id=data["event_id"],
            source=data["source"],
            event_type=data["event_type"],
            kind=kind,
        )
