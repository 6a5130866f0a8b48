"""The batch poller (scheduled, one run at a time): reads open batches and, once one has ended,
settles each entry through the same completion path as a real-time answer. The protocol:
`hookwise/batches/__init__.py`."""

from __future__ import annotations

from dataclasses import dataclass, field

from hookwise.adapters.store import TransitionConflict
from hookwise.batches.job import BatchJob
from hookwise.batches.ports import BatchesUnavailable, Intent
from hookwise.config import Route
from hookwise.domain.events import EventStatus
from hookwise.observability import count, logger, measure


@dataclass
class PollReport:
    open: int = 0
    # Open longer than their route's maximum wait.
    overdue: int = 0
    # Entries by what became of them: completed, reparked, realtime, skipped.
    entries: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.entries[outcome] = self.entries.get(outcome, 0) + 1


class BatchPoller(BatchJob):
    def run(self) -> PollReport:
        report = PollReport()
        for route in self._config.routes:
            if route.mode == "batch":
                self._poll(route, report)
        return report

    def _poll(self, route: Route, report: PollReport) -> None:
        oldest = 0.0
        overdue = 0
        for intent in self._ledger.intents(route.name):
            # Unrecorded intents are the collector's to finish.
            if intent.batch_id is None or not intent.recorded:
                continue
            try:
                info = self._api.retrieve(intent.batch_id)
            except BatchesUnavailable as error:
                logger.warning("could not read a batch", extra={"reason": str(error)})
                continue
            if not info.ended:
                report.open += 1
                age = self._clock() - intent.created_at
                oldest = max(oldest, age)
                overdue += age > route.batch.max_wait_seconds
                continue
            self._settle(route, intent, report)
            self._ledger.delete_intent(intent)
        measure("OldestOpenBatchSeconds", "Seconds", oldest, route=route.name)
        # The BatchesOverdue alarm reads this.
        measure("OverdueBatches", "Count", overdue, route=route.name)
        report.overdue += overdue

    def _settle(self, route: Route, intent: Intent, report: PollReport) -> None:
        """Every entry once: an event settled already (completed, or parked again) no longer
        names this batch and is skipped, so a re-read after a crash repeats nothing. Only the
        intent's events are read: an entry for anything else is not ours to settle, and an
        event of the intent the batch holds no entry for is parked again."""
        batch_id = intent.batch_id or ""
        entries = list(self._api.results(batch_id))
        records = self._store.get_many(intent.event_ids)
        answered = {entry.custom_id for entry in entries}
        for event_id in intent.event_ids:
            missing = records.get(event_id)
            if (
                event_id not in answered
                and missing is not None
                and missing.status is EventStatus.BATCHING
                and missing.batch_id == batch_id
            ):
                self._parking.repark(missing, route, batch_id, "the batch holds no entry for it")
                report.add("reparked")
        for entry in entries:
            record = records.get(entry.custom_id)
            if (
                record is None
                or record.status is not EventStatus.BATCHING
                or record.batch_id != batch_id
            ):
                report.add("skipped")
                continue
            count("BatchEntries", route=route.name, outcome=entry.outcome)
            if entry.outcome != "succeeded" or entry.answer is None:
                detail = f": {entry.error}" if entry.error else ""
                reason = f"batch entry {entry.outcome}{detail}"[:500]
                self._parking.repark(record, route, batch_id, reason)
                report.add("reparked")
                continue
            try:
                completed = self._worker.complete_batched(record, route, entry.answer, batch_id)
            except TransitionConflict:
                report.add("skipped")
                continue
            if completed:
                report.add("completed")
            else:
                self._parking.to_realtime(record, route, "batch answer did not fit the schema")
                report.add("realtime")
