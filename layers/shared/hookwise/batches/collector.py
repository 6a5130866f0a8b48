"""The batch collector (scheduled, one run at a time): gathers each batch route's parked events
into a Message Batch, by size and age. The protocol: `hookwise/batches/__init__.py`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from hookwise.batches.job import BatchJob
from hookwise.batches.parking import REALTIME, ledger_expiry, parked_entry, received_epoch
from hookwise.batches.ports import (
    BatchesUnavailable,
    BatchRequest,
    Intent,
    Parked,
)
from hookwise.config import Route
from hookwise.domain.events import EventRecord, EventStatus
from hookwise.observability import count, logger, measure
from hookwise.resources import BATCH_COLLECTOR_FUNCTION

# A route's maximum wait is split: a batch is submitted once its oldest event has waited this
# share of it; the rest is for the batch to run.
GATHER_SHARE = 0.5
# With less than this share of its wait left (the API was down, or a run was missed), an event
# would miss its deadline in a batch: the route's fallback decides.
LATE_SHARE = 0.25
# An intent without a batch id is matched to batches the API created from this long before it
# (clock skew between us and the API) to this long after it: the run that wrote it submits
# right after, and stops at its function's timeout.
CLOCK_SKEW_SECONDS = 60.0
SUBMIT_WINDOW_SECONDS = BATCH_COLLECTOR_FUNCTION.timeout_seconds + CLOCK_SKEW_SECONDS


class Undecided(Exception):
    """A batch that may be the intent's has not ended: its entries cannot be read yet."""


@dataclass
class CollectReport:
    submitted: dict[str, list[str]] = field(default_factory=dict)
    adopted: list[str] = field(default_factory=list)
    dropped_intents: int = 0
    # Intents whose batch cannot be told yet: their events stay parked, out of new batches.
    undecided_intents: int = 0
    fallback: int = 0


def due(parked: list[Parked], route: Route, now: float) -> bool:
    """Submit once the batch is full or its oldest event has waited its share of the wait."""
    if not parked:
        return False
    oldest = min(entry.deadline for entry in parked) - route.batch.max_wait_seconds
    waited = now - oldest
    return len(parked) >= route.batch.max_size or waited >= (
        route.batch.max_wait_seconds * GATHER_SHARE
    )


def late(entry: Parked, route: Route, now: float) -> bool:
    """Too little time left for a batch to run before the event's deadline."""
    return entry.deadline - now < route.batch.max_wait_seconds * LATE_SHARE


class BatchCollector(BatchJob):
    def run(self) -> CollectReport:
        report = CollectReport()
        for route in self._config.routes:
            if route.mode == "batch":
                undecided = self._reconcile(route, report)
                self._collect(route, report, undecided)
        return report

    def _reconcile(self, route: Route, report: CollectReport) -> set[str]:
        """Finish what an earlier run left: an intent submitted but not recorded. Returns the
        events of the intents that cannot be finished yet."""
        intents = self._ledger.intents(route.name)
        claimed: set[str] = {i.batch_id for i in intents if i.batch_id}
        undecided: set[str] = set()
        for intent in intents:
            if intent.recorded:
                continue
            if intent.batch_id is None:
                try:
                    batch_id = self._submitted_for(intent, claimed)
                except (Undecided, BatchesUnavailable) as reason:
                    # Submitting its events again could pay for them twice: they wait.
                    undecided.update(intent.event_ids)
                    report.undecided_intents += 1
                    logger.info(
                        "an interrupted run's batch is not known yet", extra={"reason": str(reason)}
                    )
                    continue
                if batch_id is None:
                    # Never submitted: its events are still parked and go in the next batch.
                    self._ledger.delete_intent(intent)
                    report.dropped_intents += 1
                    continue
                intent = self._ledger.set_batch(intent, batch_id)
                claimed.add(batch_id)
                report.adopted.append(batch_id)
                logger.warning("adopted a batch submitted by an interrupted run")
            self._record(route, intent)
        return undecided

    def _submitted_for(self, intent: Intent, claimed: set[str]) -> str | None:
        """The batch an interrupted run submitted for `intent`, if the API has it: no other
        intent's, and its entries exactly the intent's events. A batch as large, created about
        then, may be another route's, another application's on the same key, or an older one:
        only its entries tell. Raises Undecided while such a batch is still running."""
        events = set(intent.event_ids)
        running = False
        for info in self._api.recent(intent.created_at - CLOCK_SKEW_SECONDS):
            if (
                info.batch_id in claimed
                or info.requests != len(events)
                or info.created_at > intent.created_at + SUBMIT_WINDOW_SECONDS
            ):
                continue
            if not info.ended:
                running = True
            elif {entry.custom_id for entry in self._api.results(info.batch_id)} == events:
                return info.batch_id
        if running:
            raise Undecided("a batch as large is still running")
        return None

    def _record(self, route: Route, intent: Intent) -> None:
        """The batch id on each event (a conditional write), then the parked entries go."""
        records = self._store.get_many(intent.event_ids)
        for record in records.values():
            if record.status is EventStatus.BATCHING and record.batch_id != intent.batch_id:
                self._store.transition(
                    record.event_id,
                    from_statuses=[EventStatus.BATCHING],
                    to_status=EventStatus.BATCHING,
                    updates={"batch_id": intent.batch_id, "error": None},
                )
        self._ledger.unpark([parked_entry(record, route) for record in records.values()])
        self._ledger.mark_recorded(intent)

    def _collect(self, route: Route, report: CollectReport, undecided: set[str]) -> None:
        now = self._clock()
        # Past the undecided intents' events, which stay parked but go in no new batch.
        parked = self._ledger.parked(route.name, route.batch.max_size + len(undecided))
        records = self._store.get_many(entry.event_id for entry in parked)
        waiting: list[tuple[Parked, EventRecord]] = []
        stale: list[Parked] = []
        for entry in parked:
            record = records.get(entry.event_id)
            queued = record is not None and record.status is EventStatus.QUEUED
            if queued and record is not None and record.mode == REALTIME:
                # A fallback interrupted between its transition and its message.
                self._parking.to_realtime(record, route, record.error or "fallback")
                continue
            if record is not None and record.status is EventStatus.PROCESSING:
                # Being parked now (the entry goes first, the transition after it), or by a
                # worker that crashed in between, whose message parks it again: not stale.
                continue
            if record is None or record.status is not EventStatus.BATCHING or record.batch_id:
                stale.append(entry)
            else:
                waiting.append((entry, record))
        if stale:
            self._ledger.unpark(stale)
        if route.batch.fallback == "realtime":
            for _, record in [pair for pair in waiting if late(pair[0], route, now)]:
                self._parking.to_realtime(record, route, "batch deadline would pass")
                report.fallback += 1
            waiting = [pair for pair in waiting if not late(pair[0], route, now)]
        if waiting:
            oldest = min(received_epoch(record) for _, record in waiting)
            measure("OldestParkedSeconds", "Seconds", now - oldest, route=route.name)
        waiting = [pair for pair in waiting if pair[1].event_id not in undecided]
        if not due([entry for entry, _ in waiting], route, now):
            return
        self._submit(route, waiting, report)

    def _submit(
        self, route: Route, waiting: list[tuple[Parked, EventRecord]], report: CollectReport
    ) -> None:
        self._parking.prefetch_contexts([record for _, record in waiting], route)
        requests = []
        batched: list[tuple[Parked, EventRecord]] = []
        for entry, record in waiting:
            # The prompt the real-time call would have had: its context as fetched at parking.
            context = self._parking.context_of(record, route)
            if context is None:
                # Parked before its route declared context: only the worker can fetch it.
                self._parking.to_realtime(record, route, "parked without its context")
                report.fallback += 1
                continue
            payload = self._worker.payload_of(record)
            prompt = self._worker.prompt_for(route, record, payload, context)
            request = self._worker.model_request(route, prompt)
            requests.append(BatchRequest(record.event_id, request))
            batched.append((entry, record))
        if not batched:
            return
        waiting = batched
        intent = Intent(
            route=route.name,
            intent_id=uuid.uuid4().hex,
            event_ids=[record.event_id for _, record in waiting],
            created_at=self._clock(),
            expires_at=max(ledger_expiry(record) for _, record in waiting),
        )
        # The intent before the call: a crash after the API took the batch is found again.
        self._ledger.put_intent(intent)
        try:
            batch_id = self._api.create(requests)
        except BatchesUnavailable as error:
            self._ledger.delete_intent(intent)
            count("BatchesUnavailable", route=route.name)
            logger.warning("the Batches API is unavailable", extra={"reason": str(error)})
            if route.batch.fallback == "realtime":
                for _, record in waiting:
                    self._parking.to_realtime(record, route, "Batches API unavailable")
                    report.fallback += 1
            return
        intent = self._ledger.set_batch(intent, batch_id)
        self._record(route, intent)
        count("BatchSubmitted", route=route.name)
        measure("BatchSize", "Count", len(requests), route=route.name)
        report.submitted[batch_id] = intent.event_ids
