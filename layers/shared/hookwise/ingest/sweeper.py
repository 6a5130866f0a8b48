"""Re-enqueue events that never reached a worker: the ingest put succeeded but the send did
not (or the function died in between), and the provider never retried. Runs on a schedule
(EventBridge on AWS, a periodic task locally).

It reads events by arrival time from a checkpoint, so each event is looked at once: those
still `received` (no worker claimed them) past the threshold are sent again. One that was in
fact queued, behind a backlog longer than the threshold, gets a second message, which the
worker's conditional claim makes harmless. A failed send holds the checkpoint back, so the
next run tries again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from hookwise.adapters.store import EventStore
from hookwise.domain.events import EventRecord, isoformat
from hookwise.ingest.dispatch import Dispatcher
from hookwise.observability import logger, metrics

BATCH = 100
# Bounds one run (the function has a minute); the checkpoint says where the next resumes.
MAX_BATCHES = 20
# With no checkpoint yet (a new table, or one from before it), look this far back.
FIRST_LOOKBACK_SECONDS = 3600.0


@dataclass
class SweepReport:
    found: int = 0
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _iso(epoch: float) -> str:
    return isoformat(datetime.fromtimestamp(epoch, UTC))


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
        cutoff = _iso(now - self._stuck_after)
        since = self._store.sweep_checkpoint() or _iso(
            now - self._stuck_after - FIRST_LOOKBACK_SECONDS
        )
        report = SweepReport()
        checkpoint = cutoff
        for _ in range(MAX_BATCHES):
            stuck, resume_at = self._store.pending_between(since, cutoff, BATCH)
            report.found += len(stuck)
            failed_at = [r.received_at for r in stuck if not self._requeue(r, now, report)]
            if failed_at:
                checkpoint = min(failed_at)
                break
            if resume_at is None:
                break
            since = checkpoint = resume_at
        # Emitted even when zero, so the "stuck in received" alarm has data to judge.
        metrics.add_metric(name="StuckEvents", unit="Count", value=report.found)
        self._store.save_sweep_checkpoint(checkpoint)
        return report

    def _requeue(self, record: EventRecord, now: float, report: SweepReport) -> bool:
        """False only when the send failed (the checkpoint must not pass it)."""
        # The lease keeps an overlapping run from sending the same event too.
        if not self._store.acquire_dispatch(record.event_id, now, now + self._lease):
            return True
        try:
            self._dispatcher.dispatch(record)
        except (BotoCoreError, ClientError):
            logger.exception("sweeper could not enqueue", extra={"event_id": record.event_id})
            report.failed.append(record.event_id)
            return False
        logger.info("re-enqueued stuck event", extra={"event_id": record.event_id})
        report.requeued.append(record.event_id)
        return True
