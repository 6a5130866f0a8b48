"""The worker's side of the batch path: park a batch route's event instead of calling the model.

The prompt is not stored: the collector rebuilds it from the stored event as the worker would
have built it. What the route fetches for it (`context:`) is fetched when the event is parked,
under the provider's rate limits as in real time, and kept in the context cache until the
collector builds the request: the batch then asks what the real-time call would have asked.
"""

from __future__ import annotations

import time
from datetime import datetime

from hookwise.adapters.queue import EventQueue
from hookwise.adapters.store import EventStore, TransitionConflict
from hookwise.adapters.store.dynamodb import DEFAULT_TTL_SECONDS
from hookwise.batches.ports import BatchLedger, Parked
from hookwise.config import Route
from hookwise.context.fetch import ContextCache
from hookwise.domain.events import EventRecord, EventStatus, QueueMessage
from hookwise.observability import count, logger

# The event's mode once it fell back: the worker asks the model in real time.
REALTIME = "realtime"
BATCH = "batch"


def received_epoch(record: EventRecord) -> float:
    return datetime.fromisoformat(record.received_at.replace("Z", "+00:00")).timestamp()


def ledger_expiry(record: EventRecord) -> int:
    """When the ledger may forget the event (the batch table's TTL): when the event itself
    expires. Never sooner, since until then every path the event can take must find its
    entries: parked up to its route's max_wait_seconds (a day at most), then a batch of up to
    24 hours, and an outage of the API or of these schedules only adds to the wait (with
    `fallback: wait`, without bound). Never later, since past it nothing is left to batch or
    settle: the collector unparks an entry whose event is gone. An event written without an
    expiry gets the store's default lifetime, from now."""
    if record.expires_at is not None:
        return record.expires_at
    return int(time.time()) + DEFAULT_TTL_SECONDS


def parked_entry(record: EventRecord, route: Route) -> Parked:
    return Parked(
        route=route.name,
        event_id=record.event_id,
        received_at=record.received_at,
        deadline=received_epoch(record) + route.batch.max_wait_seconds,
        expires_at=ledger_expiry(record),
    )


def parked_context_key(record: EventRecord, route: Route) -> str:
    """Where a parked event's fetched context is kept (one event, one entry: it holds every
    section the route declares, comments included, which the per-SHA entries do not)."""
    return f"batch#{route.name}#{record.event_id}"


class BatchParking:
    def __init__(
        self,
        ledger: BatchLedger,
        store: EventStore,
        queue: EventQueue,
        contexts: ContextCache | None = None,
    ) -> None:
        self.ledger = ledger
        self._store = store
        self._queue = queue
        # A parked event's fetched context, for a route that declares one.
        self._contexts = contexts

    @staticmethod
    def takes(record: EventRecord, route: Route) -> bool:
        """A batch route's event, unless it already fell back to real time."""
        return route.mode == BATCH and record.mode != REALTIME

    def park(self, record: EventRecord, route: Route, context: str = "") -> None:
        """`context`: what the route's `context:` fetched for the event ("" when it declares
        none), kept for the collector."""
        if route.context.declared:
            # Before the entry, and not best effort: a parked event's context is always there.
            # It expires with the event, as the ledger's entries do: the collector may build
            # the request long after the route's max_wait_seconds (`fallback: wait`, an entry
            # parked again after its batch errored), never once the event itself is gone.
            self._context_cache().put(
                parked_context_key(record, route), context, expires_at=ledger_expiry(record)
            )
        # The entry first: a crash before the transition leaves the event `processing`, and
        # its message, back after the lease, parks it again under the same key.
        self.ledger.park(parked_entry(record, route))
        try:
            self._store.transition(
                record.event_id,
                from_statuses=[EventStatus.PROCESSING],
                to_status=EventStatus.BATCHING,
                updates={"route": route.name, "mode": BATCH, "error": None},
                remove=["lease_until"],
            )
        except TransitionConflict:
            # Another worker took the event over: it parks it under the same key.
            logger.warning("lost the event's lease before parking it for a batch")
            return
        count("Parked", route=route.name)

    def prefetch_contexts(self, records: list[EventRecord], route: Route) -> None:
        """Read the kept context of the events about to be batched in one go."""
        if route.context.declared and records:
            self._context_cache().prefetch(parked_context_key(r, route) for r in records)

    def context_of(self, record: EventRecord, route: Route) -> str | None:
        """The context fetched when the event was parked ("" for a route that declares none);
        None if it is not kept (parked before its route declared context)."""
        if not route.context.declared:
            return ""
        return self._context_cache().get(parked_context_key(record, route))

    def _context_cache(self) -> ContextCache:
        if self._contexts is None:
            raise RuntimeError("a batch route that declares context needs the context cache")
        return self._contexts

    def repark(self, record: EventRecord, route: Route, batch_id: str, reason: str) -> None:
        """An entry the batch did not answer (errored, expired, canceled): parked again, for a
        later batch. The entry first: until the event forgets the batch, a re-read of that
        batch's results parks it again."""
        self.ledger.park(parked_entry(record, route))
        if record.status is EventStatus.BATCHING and record.batch_id == batch_id:
            self._store.transition(
                record.event_id,
                from_statuses=[EventStatus.BATCHING],
                to_status=EventStatus.BATCHING,
                updates={"batch_id": None, "error": reason},
            )
        count("BatchEntryReparked", route=route.name)

    def to_realtime(self, record: EventRecord, route: Route, reason: str) -> None:
        """The route's fallback: the worker asks the model now, through the governor. The
        event turns `queued` first, then its message goes; a crash between leaves the parked
        entry, and the collector sends the message again (a duplicate is claimed once)."""
        if record.status is EventStatus.BATCHING:
            self._store.transition(
                record.event_id,
                from_statuses=[EventStatus.BATCHING],
                to_status=EventStatus.QUEUED,
                updates={"mode": REALTIME, "batch_id": None, "error": reason},
            )
        self._queue.send(
            QueueMessage(
                event_id=record.event_id, source=record.source, event_type=record.event_type
            )
        )
        self.ledger.unpark([parked_entry(record, route)])
        count("BatchFallback", route=route.name)
