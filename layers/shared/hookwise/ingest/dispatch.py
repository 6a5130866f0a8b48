"""Enqueue a stored event: one SendMessage carrying its id and a little routing metadata.

Shared by the ingest service (first delivery, and a duplicate delivery that finds the event
still `received`) and the sweeper (events that never reached a worker). Nothing is written
back: an event stays `received` until a worker claims it, so sending it twice is possible
and harmless, as the claim is a conditional write.
"""

from __future__ import annotations

from hookwise.adapters.queue import EventQueue
from hookwise.domain.events import EventRecord, QueueMessage


class Dispatcher:
    def __init__(self, queue: EventQueue) -> None:
        self._queue = queue

    def dispatch(self, record: EventRecord) -> None:
        """A failed send raises; the event stays `received` for a retry or the sweeper."""
        self._queue.send(
            QueueMessage(
                event_id=record.event_id, source=record.source, event_type=record.event_type
            )
        )
