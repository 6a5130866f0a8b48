"""On-call actions on the dead-letter queue and the event table.

Redrive order, per message: the event goes `failed -> queued` first (a worker that saw the
message while the event was still `failed` would acknowledge it and drop it), then the
message is sent to the main queue, then deleted from the DLQ. A crash at any point loses
nothing: the message stays in the DLQ, and sending it again is harmless because the worker
claims events with a conditional update.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from hookwise.adapters.queue import EventQueue
from hookwise.adapters.store import EventStore, TransitionConflict
from hookwise.domain.events import EventRecord, EventStatus, QueueMessage
from hookwise.observability import logger, metrics, tracer
from hookwise.redrive.models import (
    BulkAnswer,
    DeadLetterView,
    ErrorAnswer,
    Filters,
    Group,
    InvalidAction,
    ListAction,
    ListAnswer,
    Outcome,
    RedriveAction,
    ReplayAction,
    SummaryAction,
    SummaryAnswer,
    parse_action,
)
from hookwise.redrive.ports import DeadLetter, DeadLetterQueue
from hookwise.resources import DLQ_REDRIVE_FUNCTION

MALFORMED = "malformed message body"
UNKNOWN_REASON = "unknown"
# Group keys stay readable: a reason's tail (ids, timings) would split every group in one.
GROUP_REASON_CHARS = 120
DONE = frozenset({EventStatus.COMPLETED, EventStatus.SKIPPED})
# A redrive stops this long before the function's timeout, so it can answer and release.
STOP_MARGIN_SECONDS = 15.0
# Redrive outcomes that take a message out of the DLQ (or would, in a dry run).
MOVES = frozenset({"redriven", "discarded", "would_redrive", "would_discard"})
IN_FLIGHT = frozenset({EventStatus.RECEIVED, EventStatus.QUEUED, EventStatus.PROCESSING})


@dataclass
class _Entry:
    letter: DeadLetter
    record: EventRecord | None

    @property
    def event_id(self) -> str:
        return self.letter.message.event_id if self.letter.message else ""

    def reason(self) -> str:
        if self.letter.message is None:
            return MALFORMED
        # The item's error is authoritative; the attribute only exists for permanent failures.
        if self.record is not None and self.record.error:
            return self.record.error
        return self.letter.reason or UNKNOWN_REASON

    def view(self, now: float) -> DeadLetterView:
        message, record = self.letter.message, self.record
        return DeadLetterView(
            event_id=self.event_id,
            source=message.source if message else "",
            event_type=message.event_type if message else "",
            status=record.status.value if record else None,
            attempts=record.attempts if record else None,
            redrive_count=record.redrive_count if record else None,
            reason=self.reason(),
            age_seconds=round(max(0.0, now - self.letter.sent_at), 3),
            receive_count=self.letter.receive_count,
        )

    def matches(self, filters: Filters, now: float) -> bool:
        message = self.letter.message
        if message is None:
            # Only an unfiltered look (summary, list) shows foreign messages.
            return filters.unfiltered()
        age = now - self.letter.sent_at
        return (
            (filters.event_ids is None or message.event_id in filters.event_ids)
            and (filters.source is None or message.source == filters.source)
            and (filters.event_type is None or message.event_type == filters.event_type)
            and (filters.reason is None or filters.reason.lower() in self.reason().lower())
            and (filters.older_than is None or age >= filters.older_than)
            and (filters.newer_than is None or age <= filters.newer_than)
        )


@dataclass
class _Scan:
    """Messages received during one action; whatever is still held is released at the end."""

    held: dict[str, DeadLetter] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)

    def done_with(self, letter: DeadLetter) -> None:
        self.held.pop(letter.message_id, None)


class _Pacer:
    """At most `rate` sends per second, without sleeping before the first."""

    def __init__(
        self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next is not None and self._next > now:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval


class RedriveService:
    def __init__(
        self,
        store: EventStore,
        queue: EventQueue,
        dlq: DeadLetterQueue,
        *,
        hold_seconds: int = DLQ_REDRIVE_FUNCTION.timeout_seconds,
        max_scan: int = 10_000,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._queue = queue
        self._dlq = dlq
        # How long scanned messages stay invisible while an action looks at them: the whole
        # invocation, so none comes back mid-scan; released at the end, or by itself if killed.
        self._hold = hold_seconds
        # Bounds one invocation's work; the CLI redrives in chunks anyway.
        self._max_scan = max_scan
        self._clock = clock
        self._sleep = sleep

    def handle(self, payload: Any, time_left: Callable[[], float] | None = None) -> dict[str, Any]:
        """The Lambda's whole job: validate the action, run it, answer in JSON.

        `time_left()` (seconds) lets a long redrive stop cleanly before the function times out.
        """
        try:
            action = parse_action(payload)
        except InvalidAction as error:
            logger.warning("invalid action", extra={"details": error.details})
            return ErrorAnswer(error="invalid action", details=error.details).model_dump()
        answer: SummaryAnswer | ListAnswer | BulkAnswer
        if isinstance(action, SummaryAction):
            answer = self.summary(action)
        elif isinstance(action, ListAction):
            answer = self.listing(action)
        elif isinstance(action, RedriveAction):
            answer = self.redrive(action, time_left)
        else:
            answer = self.replay(action)
        return answer.model_dump(mode="json")

    @tracer.capture_method
    def summary(self, action: SummaryAction) -> SummaryAnswer:
        now = self._clock()
        groups: dict[tuple[str, str, str], Group] = {}
        total, oldest = 0, None
        with self._scanning() as scan:
            for batch in self._batches(scan):
                for entry in batch:
                    if not entry.matches(action, now):
                        continue
                    view = entry.view(now)
                    key = (view.source, view.event_type, view.reason[:GROUP_REASON_CHARS])
                    group = groups.setdefault(
                        key,
                        Group(
                            source=key[0],
                            event_type=key[1],
                            reason=key[2],
                            count=0,
                            oldest_age_seconds=0.0,
                        ),
                    )
                    group.count += 1
                    group.oldest_age_seconds = max(group.oldest_age_seconds, view.age_seconds)
                    total += 1
                    oldest = max(oldest or 0.0, view.age_seconds)
        ordered = sorted(groups.values(), key=lambda g: (-g.count, g.source, g.event_type))
        return SummaryAnswer(total=total, oldest_age_seconds=oldest, groups=ordered)

    @tracer.capture_method
    def listing(self, action: ListAction) -> ListAnswer:
        now = self._clock()
        views: list[DeadLetterView] = []
        with self._scanning() as scan:
            for batch in self._batches(scan):
                views.extend(entry.view(now) for entry in batch if entry.matches(action, now))
                if len(views) >= action.limit:
                    break
        views.sort(key=lambda view: -view.age_seconds)
        views = views[: action.limit]
        return ListAnswer(count=len(views), messages=views)

    @tracer.capture_method
    def redrive(
        self, action: RedriveAction, time_left: Callable[[], float] | None = None
    ) -> BulkAnswer:
        now = self._clock()
        stopped_early = False
        pacer = _Pacer(action.rate_per_second, self._clock, self._sleep)
        outcomes: list[Outcome] = []

        def full() -> bool:
            # Only moves count: messages left behind (missing, error) would otherwise fill
            # every chunk of a chunked redrive again and stall it.
            moved = sum(outcome.outcome in MOVES for outcome in outcomes)
            return action.limit is not None and moved >= action.limit

        with self._scanning() as scan:
            for batch in self._batches(scan):
                for entry in batch:
                    if full():
                        break
                    if time_left is not None and time_left() < STOP_MARGIN_SECONDS:
                        stopped_early = True
                        break
                    if entry.matches(action, now):
                        outcomes.append(self._redrive_one(entry, scan, pacer, action.dry_run))
                if full() or stopped_early:
                    break
        answer = BulkAnswer.of("redrive", action.dry_run, outcomes)
        answer.stopped_early = stopped_early
        if not action.dry_run:
            metrics.add_metric(
                name="Redriven", unit="Count", value=answer.counts.get("redriven", 0)
            )
        logger.info("redrive done", extra={"counts": answer.counts, "dry_run": action.dry_run})
        return answer

    @tracer.capture_method
    def replay(self, action: ReplayAction) -> BulkAnswer:
        pacer = _Pacer(action.rate_per_second, self._clock, self._sleep)
        outcomes = [
            self._replay_one(event_id, action.force, pacer, action.dry_run)
            for event_id in dict.fromkeys(action.event_ids)
        ]
        answer = BulkAnswer.of("replay", action.dry_run, outcomes)
        if not action.dry_run:
            metrics.add_metric(
                name="Replayed", unit="Count", value=answer.counts.get("replayed", 0)
            )
        logger.info("replay done", extra={"counts": answer.counts, "dry_run": action.dry_run})
        return answer

    def _redrive_one(self, entry: _Entry, scan: _Scan, pacer: _Pacer, dry_run: bool) -> Outcome:
        event_id, record, message = entry.event_id, entry.record, entry.letter.message
        if message is None:
            return Outcome(event_id=event_id, outcome="malformed", detail=MALFORMED)
        if record is None:
            # Without the item there is nothing to process; leave the message for a human.
            return Outcome(event_id=event_id, outcome="missing", detail="no event item")
        if record.status in DONE:
            # A stale copy (e.g. a redrive interrupted before its delete): nothing to redo.
            if dry_run:
                return Outcome(event_id=event_id, outcome="would_discard", detail=record.status)
            return self._guarded(
                event_id, "discarded", record.status, lambda: self._discard(entry, scan)
            )
        if dry_run:
            return Outcome(event_id=event_id, outcome="would_redrive", detail=entry.reason())
        return self._guarded(
            event_id, "redriven", entry.reason(), lambda: self._move(entry, scan, pacer)
        )

    def _discard(self, entry: _Entry, scan: _Scan) -> None:
        self._dlq.delete(entry.letter)
        scan.done_with(entry.letter)

    def _move(self, entry: _Entry, scan: _Scan, pacer: _Pacer) -> None:
        assert entry.letter.message is not None
        # `queued`/`processing` already: an earlier redrive moved it and stopped before the
        # send or the delete; sending again is harmless.
        with suppress(TransitionConflict):
            self._store.transition(
                entry.event_id,
                from_statuses=[EventStatus.FAILED],
                to_status=EventStatus.QUEUED,
                increment={"redrive_count": 1},
            )
        pacer.wait()
        self._queue.send(entry.letter.message)
        self._dlq.delete(entry.letter)
        scan.done_with(entry.letter)

    def _replay_one(self, event_id: str, force: bool, pacer: _Pacer, dry_run: bool) -> Outcome:
        record = self._store.get(event_id)
        if record is None:
            return Outcome(event_id=event_id, outcome="not_found")
        if record.status in IN_FLIGHT:
            return Outcome(event_id=event_id, outcome="in_progress", detail=record.status)
        if record.status in DONE and not force:
            return Outcome(event_id=event_id, outcome="needs_force", detail=record.status)
        if dry_run:
            return Outcome(event_id=event_id, outcome="would_replay", detail=record.status)
        return self._guarded(
            event_id, "replayed", record.status, lambda: self._requeue(record, pacer)
        )

    def _requeue(self, record: EventRecord, pacer: _Pacer) -> None:
        self._store.transition(
            record.event_id,
            from_statuses=[record.status],
            to_status=EventStatus.QUEUED,
            increment={"redrive_count": 1},
        )
        pacer.wait()
        try:
            self._queue.send(
                QueueMessage(
                    event_id=record.event_id, source=record.source, event_type=record.event_type
                )
            )
        except Exception:
            # No message carries it: put it back where it was, or it would sit `queued` forever.
            with suppress(TransitionConflict):
                self._store.transition(
                    record.event_id, from_statuses=[EventStatus.QUEUED], to_status=record.status
                )
            raise

    @staticmethod
    def _guarded(event_id: str, success: str, detail: str, step: Callable[[], None]) -> Outcome:
        """Run one event's step; a failure is that event's outcome, not the whole answer's."""
        try:
            step()
        except TransitionConflict:
            return Outcome(event_id=event_id, outcome="conflict", detail="changed concurrently")
        except Exception as error:
            logger.exception("redrive step failed", extra={"event_id": event_id})
            return Outcome(event_id=event_id, outcome="error", detail=str(error))
        logger.info(success, extra={"event_id": event_id, "detail": detail})
        return Outcome(event_id=event_id, outcome=success, detail=detail)

    @contextmanager
    def _scanning(self) -> Iterator[_Scan]:
        scan = _Scan()
        try:
            yield scan
        finally:
            # Held messages must not wait out the hold: non-matching ones stay available.
            self._dlq.release(list(scan.held.values()))

    def _batches(self, scan: _Scan) -> Iterator[list[_Entry]]:
        """Receive the DLQ batch by batch, holding what was received, each message once."""
        while len(scan.seen) < self._max_scan:
            letters = self._dlq.receive(self._max_scan - len(scan.seen), self._hold)
            fresh = [letter for letter in letters if letter.message_id not in scan.seen]
            for letter in letters:
                # A re-received message has a new receipt handle; only the newest one works.
                if letter.message_id in scan.held or letter.message_id not in scan.seen:
                    scan.held[letter.message_id] = letter
            if not fresh:
                return
            scan.seen.update(letter.message_id for letter in fresh)
            records = self._store.get_many(
                [letter.message.event_id for letter in fresh if letter.message is not None]
            )
            yield [
                _Entry(letter, records.get(letter.message.event_id) if letter.message else None)
                for letter in fresh
            ]
