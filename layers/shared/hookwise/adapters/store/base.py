"""The event store: every status change is a conditional write."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hookwise.domain.events import EventRecord, EventStatus


class TransitionConflict(Exception):
    """The event was not in a state that allows the requested change."""


@dataclass(frozen=True, kw_only=True)
class EventQuery:
    """Which events a listing shows: those that arrived in [since, until] (ISO 8601, as
    `received_at`) and match every filter given."""

    since: str
    until: str
    status: EventStatus | None = None
    route: str | None = None
    source: str | None = None
    event_type: str | None = None

    def matches(self, record: EventRecord) -> bool:
        return (
            self.since <= record.received_at <= self.until
            and (self.status is None or record.status is self.status)
            and (self.route is None or record.route == self.route)
            and (self.source is None or record.source == self.source)
            and (self.event_type is None or record.event_type == self.event_type)
        )


@dataclass(frozen=True)
class EventPage:
    """Events newest first, and where the next page starts (None: the range is done). A page
    may hold fewer than asked and still have a next one: a listing reads a bounded number of
    events per call, however few of them match."""

    records: list[EventRecord]
    after: str | None


class EventStore(ABC):
    @abstractmethod
    def put_new(
        self, record: EventRecord, dispatch_lease_until: float, scheme: str | None = None
    ) -> bool:
        """Store a new event in `received`. False if it exists. (The lease is for backends
        that need one to stop a duplicate delivery from enqueueing it too.) `scheme`, the
        source's signature scheme, says what kind of body it is, whatever the source's name."""

    @abstractmethod
    def get(self, event_id: str) -> EventRecord | None: ...

    def status(self, event_id: str) -> EventStatus:
        """The status of an event known to exist (backends may read less than `get`)."""
        record = self.get(event_id)
        return record.status if record is not None else EventStatus.RECEIVED

    def recorded_actions(self, event_id: str) -> dict[str, Any]:
        """The action outcomes recorded on an event ({} if none; backends may read less than
        `get`)."""
        record = self.get(event_id)
        return (record.actions if record else None) or {}

    @abstractmethod
    def prefetch(self, event_ids: Iterable[str]) -> list[EventRecord]:
        """These events are about to be claimed: read what the claims need at once. Returns
        those found as they arrived (body, source, type); their status is the claims' to learn."""

    @abstractmethod
    def acquire_dispatch(self, event_id: str, now: float, lease_until: float) -> bool:
        """Take the right to enqueue a `received` event whose dispatch lease has lapsed."""

    @abstractmethod
    def transition(
        self,
        event_id: str,
        *,
        from_statuses: Iterable[EventStatus],
        to_status: EventStatus,
        updates: Mapping[str, Any] | None = None,
        increment: Mapping[str, int] | None = None,
        remove: Iterable[str] = (),
    ) -> EventRecord:
        """Move an event between statuses atomically; raise TransitionConflict otherwise."""

    @abstractmethod
    def claim(self, event_id: str, now: float, lease_until: float) -> EventRecord:
        """`queued`/`received`/`deferred` (or `processing` with a lapsed lease) -> `processing`.

        Increments `attempts`. Raises TransitionConflict when someone else holds the event or
        it is final.
        """

    @abstractmethod
    def extend_lease(self, event_id: str, lease_until: float) -> bool:
        """Keep holding an event in `processing` (a long model call); False if it is lost."""

    def get_many(self, event_ids: Iterable[str]) -> dict[str, EventRecord]:
        """The events that exist among `event_ids`, by id (backends may batch the reads)."""
        found = {event_id: self.get(event_id) for event_id in dict.fromkeys(event_ids)}
        return {event_id: record for event_id, record in found.items() if record is not None}

    @abstractmethod
    def list_recent(self, limit: int) -> list[EventRecord]: ...

    @abstractmethod
    def find(
        self, query: EventQuery, limit: int, after: str | None = None, max_read: int = 1000
    ) -> EventPage:
        """Events matching `query`, newest first, at most `limit`, reading at most about
        `max_read` events to find them; `after` is a page's `after`, to go on from there.
        Listed records may leave out the result, the actions' outcomes and the headers
        (`get` has them)."""

    @abstractmethod
    def list_pending(self, received_before: str, limit: int) -> list[EventRecord]:
        """Events still `received` (never claimed) that arrived before the given time."""

    @abstractmethod
    def pending_between(
        self, since: str, until: str, limit: int
    ) -> tuple[list[EventRecord], str | None]:
        """Events still `received` that arrived in [since, until], oldest first, at most
        `limit`; and where to resume if the limit cut the range short (else None)."""

    @abstractmethod
    def sweep_checkpoint(self) -> str | None:
        """The arrival time up to which the sweeper has seen every event on its way."""

    @abstractmethod
    def save_sweep_checkpoint(self, received_at: str) -> None: ...

    @abstractmethod
    def prefetch_memory(self, subjects: Iterable[tuple[str, str]]) -> None:
        """These (route, subject) memories are about to be recalled: read them at once."""

    @abstractmethod
    def recall(self, route: str, subject: str) -> list[dict[str, Any]]:
        """Earlier results of a route remembered for a subject (a PR, a customer), oldest
        first. Each route has its own: two routes naming the same subject share nothing."""

    @abstractmethod
    def remember(
        self, route: str, subject: str, entry: dict[str, Any], keep: int, expires_at: int
    ) -> None:
        """Add a result to a route's memory of a subject, keeping the last `keep` entries."""
