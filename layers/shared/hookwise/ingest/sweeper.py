"""Re-enqueue events left in `received`: the ingest put succeeded but the send did not, and
the provider never retried. Runs on a schedule (EventBridge on AWS, a periodic task locally)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from hookwise.adapters.store import EventStore
from hookwise.domain.events import isoformat
from hookwise.ingest.dispatch import Dispatcher
from hookwise.observability import logger, metrics

BATCH = 100


@dataclass
class SweepReport:
    found: int = 0
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Sweeper:
    def __init__(
        self,
        store: EventStore,
        dispatcher: Dispatcher,
        *,
        stuck_after_seconds: float,
        lease_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._stuck_after = stuck_after_seconds
        self._lease = lease_seconds
        self._clock = clock

    def sweep(self) -> SweepReport:
        now = self._clock()
        cutoff = isoformat(datetime.fromtimestamp(now - self._stuck_after, UTC))
        report = SweepReport()
        stuck = self._store.list_pending(received_before=cutoff, limit=BATCH)
        report.found = len(stuck)
        # Emitted even when zero, so the "stuck in received" alarm has data to judge.
        metrics.add_metric(name="StuckEvents", unit="Count", value=len(stuck))
        for record in stuck:
            # The lease keeps a concurrent provider retry from enqueueing the same event too.
            if not self._store.acquire_dispatch(record.event_id, now, now + self._lease):
                continue
            try:
                self._dispatcher.dispatch(record)
            except (BotoCoreError, ClientError):
                logger.exception("sweeper could not enqueue", extra={"event_id": record.event_id})
                report.failed.append(record.event_id)
                continue
            logger.info("re-enqueued stuck event", extra={"event_id": record.event_id})
            report.requeued.append(record.event_id)
        return report
