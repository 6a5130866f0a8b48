"""Coalescing: a burst of one subject's events (a PR's pushes) collapses to one model call.

A coalescing route's event, once claimed, registers as its subject's newest waiting event and
is deferred (the worker's usual deferral: a delayed message, status `deferred`) until the
subject has been quiet for `quiet_seconds`. Back, it runs only if it is still the newest. The
others, behind a newer event, come back once that one's run is due and end `superseded`,
naming the event that ran in their place. However many pushes keep coming, the
newest of them runs `max_wait_seconds` after the first waiting one. An event of a `cancel_on`
type (a PR closed) ends the subject's waiting events.

"Newest" is the provider's order (the route's `coalesce.order_by`, e.g. the PR's `updated_at`;
then the arrival at ingest), never the order the queue delivers in: an older event the queue
brings late changes nothing. The quiet period runs from the newest event's registration, so a
worker behind a backlog still sees the burst's later events before one of them runs. The state is
one item per route and subject (hookwise/adapters/coalescing.py), changed only by conditional
updates: one to register, one to claim the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from hookwise.adapters.coalescing import DynamoDBCoalescing, Entry, Window, WindowMoved
from hookwise.adapters.store import EventStore, TransitionConflict
from hookwise.config import CoalesceSettings, HookwiseConfig, Route
from hookwise.domain.events import EventRecord, EventStatus, isoformat
from hookwise.domain.payload import MISSING, lookup
from hookwise.observability import count, logger
from hookwise.worker.admission import Deferral
from hookwise.worker.prompt import subject_of

# A refused update hands back the item as it is now: decide again on it, this many times (each
# refusal means another event moved the window; a handful at once is already a lot).
MAX_ROUNDS = 5
DEFERRAL_KIND = "coalescing"


@dataclass(frozen=True)
class Run:
    """Ask the model now; `claim`: how to take the run on the item (None: taken already)."""

    claim: str | None


@dataclass(frozen=True)
class Wait:
    """Come back at `until`. `register`: the event is not on the item yet and becomes the
    newest; `behind`: a newer event waits, and this one comes back to learn which one ran."""

    until: float
    register: bool = False
    behind: bool = False


@dataclass(frozen=True)
class Superseded:
    """End the event `superseded`: `by` ran in its place (or cancelled it)."""

    by: str | None
    reason: str

    def updates(self, route: str) -> dict[str, Any]:
        return {"route": route, "superseded_by": self.by, "superseded_reason": self.reason}


Verdict = Run | Wait | Superseded
REGISTER_AND_RUN = "register"
CLAIM = "claim"
# An event behind a newer one comes back this long after the newer one's run is due (its
# message, due at the same moment, may be a little later), to name the event that ran.
RECHECK_SECONDS = 2.0


def decide(
    window: Window, entry: Entry, now: float, settings: CoalesceSettings, *, rechecked: bool
) -> Verdict:
    """What `entry` does, given its subject's window as it is now. `rechecked`: the event came
    back once already behind a newer one (that one was overtaken in turn)."""
    if window.ran_key == entry.key:
        # It claimed its run before (and came back: a crash, a deferral for capacity).
        return Run(claim=None)
    if window.cancel_key is not None and window.cancel_key >= entry.key:
        return Superseded(window.cancel_id, f"cancelled by {window.cancel_type}")
    if window.ran_key is not None and window.ran_key > entry.key:
        return Superseded(window.ran_id, "a newer event of the subject ran in its place")
    newest = window.newest_key == entry.key
    # Quiet since the newest registered (now, for an event registering); the waiting started
    # with the first event registered since the last run (this one, if it opens the window).
    registered = now if window.newest_at is None else window.newest_at
    last = registered if newest else now
    first = window.first_at if window.first_at is not None and window.newest_key else last
    deadline = first + settings.max_wait_seconds
    if window.newest_key is not None and window.newest_key > entry.key:
        # Not the one to run. Back when the newer one's run is due to learn who ran; if that
        # one was overtaken too, at the window's deadline, when someone has surely run.
        newest_due = min(registered + settings.quiet_seconds, deadline)
        until = (deadline if rechecked else newest_due) + RECHECK_SECONDS
        return Wait(max(until, now + 1), behind=True)
    due = min(last + settings.quiet_seconds, deadline)
    if due <= now:
        return Run(claim=CLAIM if newest else REGISTER_AND_RUN)
    return Wait(due, register=not newest)


def order_key(settings: CoalesceSettings, record: EventRecord, payload: Any) -> str:
    """A string that sorts as the provider ordered the events: the provider's time of the event
    (at `order_by`; normalised, so ISO 8601 and epoch seconds compare), then the arrival at
    ingest, then the event id (so every worker breaks a tie the same way)."""
    provider = record.received_at
    value = lookup(payload, settings.order_by) if settings.order_by else MISSING
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            provider = isoformat(datetime.fromtimestamp(value, UTC))
        elif isinstance(value, str):
            provider = isoformat(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError, OSError):
        logger.warning("coalesce.order_by is not a time: ordering by arrival")
    return f"{provider}|{record.received_at}|{record.event_id}"


def quiet_reason(subject: str) -> str:
    return f"coalescing: waiting for {subject} to be quiet"


def behind_reason(subject: str) -> str:
    return f"coalescing: a newer event of {subject} is waiting"


def entry_of(settings: CoalesceSettings, record: EventRecord, payload: Any, now: float) -> Entry:
    return Entry(order_key(settings, record, payload), record.event_id, now)


class Coalescer:
    def __init__(
        self,
        config: HookwiseConfig,
        windows: DynamoDBCoalescing,
        store: EventStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._windows = windows
        self._store = store
        self._clock = clock
        self._cancelling = [route for route in config.routes if route.coalesce is not None]

    def hold(
        self, record: EventRecord, route: Route | None, payload: Any
    ) -> Deferral | Superseded | None:
        """Before the model: None to go on, a Deferral to wait for the subject to be quiet, or
        Superseded to end with no call. A `cancel_on` event first ends the waiting events of
        the subjects it cancels, then goes on to its own route."""
        self._cancel(record, payload)
        if route is None or route.coalesce is None:
            return None
        subject = subject_of(route, payload)
        if subject is None:
            return None
        settings = route.coalesce
        entry = entry_of(settings, record, payload, self._clock())
        rechecked = record.defer_reason == behind_reason(subject)
        window = self._windows.read(route.name, subject)
        for _ in range(MAX_ROUNDS):
            verdict = decide(window, entry, self._clock(), settings, rechecked=rechecked)
            try:
                if isinstance(verdict, Superseded):
                    count("Superseded", route=route.name)
                    return verdict
                if isinstance(verdict, Wait):
                    if verdict.register:
                        self._windows.register(route.name, subject, entry, run=False)
                    reason = behind_reason(subject) if verdict.behind else quiet_reason(subject)
                    return Deferral(verdict.until, reason, DEFERRAL_KIND)
                if verdict.claim == REGISTER_AND_RUN:
                    self._windows.register(route.name, subject, entry, run=True)
                elif verdict.claim == CLAIM:
                    self._windows.claim_run(route.name, subject, entry)
                return None
            except WindowMoved as moved:
                window = moved.found
        # Still contended after so many rounds: the queue brings the event back to try again.
        return Deferral(self._clock() + 1, "coalescing: subject busy", DEFERRAL_KIND)

    def _cancel(self, record: EventRecord, payload: Any) -> None:
        for route in self._cancelling:
            settings = route.coalesce
            if (
                settings is None
                or route.match.source != record.source
                or not any(fnmatchcase(record.event_type, p) for p in settings.cancel_on)
            ):
                continue
            subject = subject_of(route, payload)
            if subject is None:
                continue
            entry = entry_of(settings, record, payload, self._clock())
            before = self._windows.cancel(route.name, subject, entry, record.event_type)
            count("CoalescingCancelled", route=route.name)
            if (
                before is not None
                and before.newest_id is not None
                and before.newest_key is not None
                and before.newest_key < entry.key
                and before.ran_key != before.newest_key
            ):
                self._end_waiting(route, before.newest_id, record)

    def _end_waiting(self, route: Route, event_id: str, cancel: EventRecord) -> None:
        """The waiting event ends now, not when its delayed message comes back (then it is
        acknowledged as finished). One being worked on right now sees the cancel itself."""
        try:
            self._store.transition(
                event_id,
                from_statuses=[EventStatus.DEFERRED],
                to_status=EventStatus.SUPERSEDED,
                updates=Superseded(cancel.event_id, f"cancelled by {cancel.event_type}").updates(
                    route.name
                ),
            )
        except TransitionConflict:
            logger.info("waiting event not deferred: it sees the cancel when it comes back")
