"""Enqueue a stored event exactly once per successful send, and mark it `queued`.

Shared by the ingest service (first delivery and provider retries) and the sweeper
(events left in `received` when a send failed and the provider never retried).
"""

from __future__ import annotations

from contextlib import suppress

from hookwise.adapters.queue import EventQueue
from hookwise.adapters.store import EventStore, TransitionConflict
from hookwise.domain.events import EventRecord, EventStatus, QueueMessage


class Dispatcher:
    def __init__(self, store: EventStore, queue: EventQueue) -> None:
        self._store = store
        self._queue = queue

    def dispatch(self, record: EventRecord) -> None:
        """Send, then mark queued. A failed send raises and leaves the event `received`."""
        self._queue.send(
            QueueMessage(
                event_id=record.event_id, source=record.source, event_type=record.event_type
            )
        )
        # A conflict means a worker already picked the message up and moved the event on.
        with suppress(TransitionConflict):
            self._store.transition(
                record.event_id,
                from_statuses=[EventStatus.RECEIVED],
                to_status=EventStatus.QUEUED,
                remove=["dispatch_lease_until"],
            )
