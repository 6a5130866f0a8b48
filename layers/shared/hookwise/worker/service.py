"""One event through the model, exactly once: claim, route, prompt, call, validate, store."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from hookwise.actions.runner import ActionRunner
from hookwise.adapters.blobs import BlobStore
from hookwise.adapters.queue import EventQueue
from hookwise.adapters.store import EventStore, TransitionConflict
from hookwise.config import HookwiseConfig, Route
from hookwise.domain.events import (
    FINAL_STATUSES,
    REVIEWED_HEAD,
    EventRecord,
    EventStatus,
    QueueMessage,
    Usage,
    isoformat,
)
from hookwise.llm.base import (
    ModelAnswer,
    ModelClient,
    ModelError,
    ModelRequest,
    ModelUsage,
    RateLimitStatus,
)
from hookwise.llm.caching import cost_usd
from hookwise.observability import count, logger, measure, metrics
from hookwise.providers.errors import DEFAULT_RATE_LIMIT_SECONDS, ProviderError, ProviderRateLimited
from hookwise.settings import Settings
from hookwise.verifiers import verifier_for
from hookwise.worker import requests
from hookwise.worker.admission import Admission, Deferral, Go, limits_view
from hookwise.worker.backoff import retry_delay
from hookwise.worker.heartbeat import Heartbeat
from hookwise.worker.prompt import Prompt, build_prompt, subject_of
from hookwise.worker.routing import route_for
from hookwise.worker.schemas import OutputSchemas

if TYPE_CHECKING:
    from hookwise.batches.parking import BatchParking
    from hookwise.context.fetch import ContextFetcher, Gathered
    from hookwise.worker.coalescing import Coalescer

# Below this much time left, a record is not started: it could not finish.
MIN_RECORD_SECONDS = 5.0
ERROR_CHARS = 2_000
# Once a call is made, the event's booking, place in line and deferral are spent.
CLEARED_ON_CALL: dict[str, Any] = {
    "error": None,
    "booked_at": None,
    "line_at": None,
    "defer_reason": None,
    "deferred_until": None,
    # A new result (a replay) is acted on afresh.
    "actions": None,
}


class RetryLater(Exception):
    """Return the message to the queue; `visibility` seconds from now (None: as it is)."""

    def __init__(self, reason: str, visibility: int | None) -> None:
        super().__init__(reason)
        self.visibility = visibility


class InvalidOutput(Exception):
    """The model's answer did not fit the route's schema, even after one repair."""


class UnusableAnswer(Exception):
    """The model stopped without an answer to use: it refused (`stop_reason` refusal), or was
    cut off at max_tokens. Asked again the same way it would stop the same way: no repair."""

    def __init__(self, reason: str, stop_reason: str) -> None:
        super().__init__(reason)
        self.stop_reason = stop_reason


@dataclass(frozen=True)
class Delivery:
    """One SQS message as the worker sees it."""

    message: QueueMessage
    receive_count: int
    receipt_handle: str


@dataclass(frozen=True)
class Outcome:
    status: str
    model_calls: int = 0


class WorkerService:
    def __init__(
        self,
        *,
        config: HookwiseConfig,
        store: EventStore,
        queue: EventQueue,
        blobs: BlobStore | None,
        model: ModelClient,
        settings: Settings,
        admission: Admission,
        actions: ActionRunner | None = None,
        context: Callable[[], ContextFetcher] | None = None,
        parking: BatchParking | None = None,
        coalescing: Coalescer | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._parking = parking
        self._coalescing = coalescing
        self._admission = admission
        self._sleep = sleep
        self._schemas = OutputSchemas(config)
        self._store = store
        self._queue = queue
        self._blobs = blobs
        self._model = model
        self._actions = actions
        self._context = context
        self._settings = settings
        self._clock = clock

    def read_ahead(self, arrivals: Iterable[EventRecord]) -> None:
        """Before a batch's claims: read what its events will look up on their way to the
        model (subject memory, cached context) with one read per kind for the batch, not one
        per event. `arrivals`: the events as the store prefetched them. Best effort: an
        event not read ahead reads its own."""
        subjects: list[tuple[str, str]] = []
        contexts: list[tuple[Route, Any]] = []
        for record in arrivals:
            # A body in S3 is fetched by its own record (once), not for a hint.
            if record.body is None:
                continue
            try:
                payload = self.payload_of(record)
                route = route_for(self._config, record.source, record.event_type, payload)
                if route is None:
                    continue
                # A parked event fetches its context now, and recalls its memory later.
                parked = self._parking is not None and self._parking.takes(record, route)
                if not parked and route.memory and (subject := subject_of(route, payload)):
                    subjects.append((route.name, subject))
            except Exception:
                # The same steps fail the event's own record, which reports why.
                logger.debug("event not read ahead", exc_info=True)
                continue
            if self._context is not None and route.context.declared:
                contexts.append((route, payload))
        try:
            # Even with none to read: what an earlier batch read and left unused is stale now.
            self._store.prefetch_memory(subjects)
            # A cached context's key names content that never changes: nothing goes stale.
            if contexts and self._context is not None:
                self._context().prefetch(contexts)
        except ClientError:
            logger.exception("reading ahead failed: each event reads its own")

    def handle(self, delivery: Delivery, time_left: Callable[[], float]) -> Outcome:
        """Process one message; raise RetryLater to have SQS deliver it again later."""
        message = delivery.message
        if time_left() < MIN_RECORD_SECONDS + self._settings.deadline_margin_seconds:
            raise RetryLater("not started: too little time left in this invocation", None)
        if message.kind in ("actions", "callback"):
            return self._retry_actions(delivery)
        record = self._claim(delivery)
        if record is None:
            # Finished already; a crash between completion and the actions leaves some undone.
            return self._retry_actions(delivery)
        if record.dead_letter_reason is not None:
            # A worker decided the failure and stopped before recording it: finished, never
            # worked again.
            return self._permanent(record, message, record.dead_letter_reason)
        # Held from the claim on: a slow step (the model, a busy table) never lets another
        # worker take the event over.
        with Heartbeat(
            self._settings.visibility_timeout / 3,
            lambda: self._keep_lease(delivery, record.event_id),
        ):
            return self._work(record, delivery, time_left)

    def _work(
        self, record: EventRecord, delivery: Delivery, time_left: Callable[[], float]
    ) -> Outcome:
        message = delivery.message
        payload = self.payload_of(record)
        route = route_for(self._config, record.source, record.event_type, payload)
        if route is not None:
            # Every later transition records it (deferred, retried, failed, as completed ones
            # always did), so an event is found by its route whatever became of it.
            record = replace(record, route=route.name)
        # -- coalescing (hookwise/worker/coalescing.py): a burst of one subject's events waits
        # for the subject to be quiet and only the newest goes on; the others end here.
        if self._coalescing is not None:
            held = self._coalescing.hold(record, route, payload)
            if isinstance(held, Deferral):
                return self._defer(record, delivery, held)
            if held is not None and route is not None:
                self._finish(record, EventStatus.SUPERSEDED, held.updates(route.name))
                return Outcome(EventStatus.SUPERSEDED.value)
        # -- end of coalescing
        if route is None:
            self._finish(record, EventStatus.SKIPPED, {})
            metrics.add_metric(name="Skipped", unit="Count", value=1)
            return Outcome("skipped")
        if self._parking is not None and self._parking.takes(record, route):
            return self._park(self._parking, record, delivery, route, payload)
        history = self._history(route, payload)
        prompt = self.prompt_for(route, record, payload, history=history)
        name, model_id = self.model_id(route)
        # Asked before anything is fetched: an event that must wait costs no provider call.
        # What the fetched context adds to the prompt is charged when the call is reconciled.
        decision = self._admission.admit(record, route, name, prompt)
        if isinstance(decision, Deferral):
            if decision.fail:
                return self._permanent(record, message, decision.reason)
            return self._defer(record, delivery, decision)
        # Built for the first route that declares context: the others never load it.
        fetcher = self._context() if self._context and route.context.declared else None
        try:
            context = fetcher.gather(route, payload, history) if fetcher else None
        except ProviderError as error:
            # No call after all: the capacity booked for it goes back.
            self._admission.settle(decision, [], 0.0, {})
            return self._fetch_failed(record, delivery, error)
        if context and context.text:
            prompt = self.prompt_for(route, record, payload, context.text, history)
        self._sleep(max(0.0, decision.start - self._clock()))
        try:
            result, usage, latency_ms, calls = self._ask(route, prompt, name, decision, time_left)
        except InvalidOutput as error:
            return self._permanent(record, message, f"invalid output: {error}")
        except UnusableAnswer as error:
            count("UnusableAnswers", stop_reason=error.stop_reason)
            return self._permanent(record, message, str(error))
        except ModelError as error:
            if not (error.capacity or error.transient):
                return self._permanent(record, message, f"model error: {error}")
            # Deferred or retried (a call cut short by the time left is a transient timeout).
            # An event whose retries just ran out keeps it needlessly: rare, and one write.
            self._keep(fetcher, context)
            if error.capacity:
                return self._defer(record, delivery, self._admission.no_capacity(decision, error))
            return self._transient(record, delivery, error)
        except Exception:
            # Unforeseen: SQS delivers the message again once its visibility lapses.
            self._keep(fetcher, context)
            raise
        done = self._finish(
            record,
            EventStatus.COMPLETED,
            {
                "result": result,
                "route": route.name,
                "model": model_id,
                "usage": usage.as_dict(),
                "latency_ms": latency_ms,
                "reviewed": context.reviewed if context else None,
                **CLEARED_ON_CALL,
                **self._limits(decision.limits),
            },
        )
        self._after_completion(done, route, payload, result)
        return Outcome("completed", model_calls=calls)

    def _park(
        self,
        parking: BatchParking,
        record: EventRecord,
        delivery: Delivery,
        route: Route,
        payload: Any,
    ) -> Outcome:
        """Parked for the route's next Message Batch, with its context fetched now as the
        real-time call would fetch it (same budget, same handling of the provider's limits)."""
        fetcher = self._context() if self._context and route.context.declared else None
        try:
            context = fetcher.gather(route, payload).text if fetcher else ""
        except ProviderError as error:
            return self._fetch_failed(record, delivery, error)
        parking.park(record, route, context)
        return Outcome(EventStatus.BATCHING.value)

    def _fetch_failed(
        self, record: EventRecord, delivery: Delivery, error: ProviderError
    ) -> Outcome:
        if isinstance(error, ProviderRateLimited):
            # The provider asked us to wait: no model call, and not a failure.
            return self._defer(
                record,
                delivery,
                Deferral(
                    self._clock() + (error.retry_after or DEFAULT_RATE_LIMIT_SECONDS),
                    f"context fetch deferred: {error}"[:ERROR_CHARS],
                    "provider",
                ),
            )
        if error.transient:
            return self._transient(record, delivery, error)
        return self._permanent(record, delivery.message, f"context fetch error: {error}")

    @staticmethod
    def _limits(limits: dict[str, tuple[int, str]]) -> dict[str, Any]:
        """The limits in force for the event's record; none known (a slot booked on an earlier
        try) leaves what the record shows."""
        view = limits_view(limits)
        return {"limits": view} if view else {}

    @staticmethod
    def _keep(fetcher: ContextFetcher | None, context: Gathered | None) -> None:
        """Cache the context fetched for an event that comes back without an answer. Only
        then: an event answered (or failed for good) on this try would never read it."""
        if fetcher is not None and context is not None:
            fetcher.keep(context)

    def _claim(self, delivery: Delivery) -> EventRecord | None:
        now = self._clock()
        event_id = delivery.message.event_id
        try:
            return self._store.claim(event_id, now, now + self._settings.visibility_timeout)
        except TransitionConflict:
            existing = self._store.get(event_id)
        # A parked event is the batch path's now (hookwise/batches): a stray copy of its
        # message is acknowledged like one for a finished event.
        if existing is None or existing.status in {*FINAL_STATUSES, EventStatus.BATCHING}:
            # Done already (a redelivery, or a duplicate send): acknowledge with no model call.
            logger.info(
                "message for a finished event acknowledged",
                extra={"status": existing.status if existing else "missing"},
            )
            metrics.add_metric(name="DuplicateDeliveries", unit="Count", value=1)
            return None
        # Another worker holds a live lease: let this copy come back after it.
        raise RetryLater(
            f"event is {existing.status.value} elsewhere", self._delay(delivery.receive_count, None)
        )

    def payload_of(self, record: EventRecord) -> Any:
        """The payload as its scheme defines it (JSON, or form parameters for Twilio)."""
        source = self._config.source(record.source)
        body = self._body(record)
        if source is None:
            return json.loads(body)
        return verifier_for(source).parse(body)

    def _body(self, record: EventRecord) -> bytes:
        if record.body is not None:
            return record.body
        if record.body_ref and self._blobs is not None:
            return self._blobs.get(record.body_ref)
        raise InvalidOutput("event has no stored body")

    def model_id(self, route: Route) -> tuple[str, str]:
        return requests.model_id(self._config, route)

    def _history(self, route: Route, payload: Any) -> list[dict[str, Any]]:
        subject = subject_of(route, payload) if route.memory else None
        return self._store.recall(route.name, subject) if subject else []

    def prompt_for(
        self,
        route: Route,
        record: EventRecord,
        payload: Any,
        context: str = "",
        history: list[dict[str, Any]] | None = None,
    ) -> Prompt:
        return build_prompt(
            route,
            record.source,
            record.event_type,
            payload,
            tool=self._schemas.tool(route.output),
            max_prompt_bytes=self._config.defaults.max_prompt_bytes,
            history=self._history(route, payload) if history is None else history,
            context=context,
        )

    def _ask(
        self,
        route: Route,
        prompt: Prompt,
        name: str,
        admitted: Go,
        time_left: Callable[[], float],
    ) -> tuple[dict[str, Any], Usage, int, int]:
        validator = self._schemas.model(route.output)
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt.user}]
        usages: list[ModelUsage] = []
        observed: RateLimitStatus = {}
        started = time.monotonic()
        try:
            for attempt in (1, 2):
                timeout = min(
                    self._settings.model_timeout_seconds,
                    time_left() - self._settings.deadline_margin_seconds,
                )
                answer = self._model.invoke(
                    self.model_request(route, prompt, messages, max(1.0, timeout))
                )
                usages.append(answer.usage)
                observed = answer.rate_limits
                self._check_stop(route, answer)
                try:
                    result = validator.model_validate(answer.tool_input or {}).model_dump()
                except ValidationError as error:
                    if attempt == 2:
                        raise InvalidOutput(str(error)[:ERROR_CHARS]) from error
                    messages = [*messages, *self._repair_turns(answer, error)]
                    continue
                latency_ms = int((time.monotonic() - started) * 1000)
                usage = self._usage(route, name, usages)
                self._emit_usage(route, usage, latency_ms)
                return result, usage, latency_ms, attempt
            raise AssertionError("unreachable")  # pragma: no cover
        except ModelError as error:
            observed = error.rate_limits
            raise
        finally:
            # Whatever happened, the reservation is reconciled with what was really used.
            spent = self._usage(route, name, usages).cost_usd
            self._admission.settle(admitted, usages, spent, observed)

    def _check_stop(self, route: Route, answer: ModelAnswer) -> None:
        """A refusal or a truncated answer is its own outcome, said plainly on the event."""
        if answer.stop_reason == "refusal":
            raise UnusableAnswer(
                "refused: the model declined to answer (stop_reason refusal)", "refusal"
            )
        if answer.stop_reason == "max_tokens":
            max_tokens = route.max_tokens or self._config.defaults.max_tokens
            raise UnusableAnswer(
                f"truncated: the answer reached max_tokens ({max_tokens}) before it was "
                f"complete; raise max_tokens for route {route.name!r}",
                "max_tokens",
            )

    def model_request(
        self,
        route: Route,
        prompt: Prompt,
        messages: list[dict[str, Any]] | None = None,
        timeout_seconds: float = 60.0,
    ) -> ModelRequest:
        """The request for a prompt (a batch entry's too: the same prefix, the same cache)."""
        return requests.model_request(self._config, route, prompt, messages, timeout_seconds)

    def complete_batched(
        self, record: EventRecord, route: Route, answer: ModelAnswer, batch_id: str
    ) -> bool:
        """Complete a `batching` event with its batch answer, through the same steps as a real
        time one (storage, subject memory, callback, EventBridge). False if the answer does
        not fit the schema: the caller sends the event to real time, where it is asked again
        with one repair. Raises TransitionConflict if the event is no longer `batching`."""
        try:
            result = self._schemas.model(route.output).model_validate(answer.tool_input or {})
        except ValidationError:
            return False
        name, model_id = self.model_id(route)
        usage = self._usage(route, name, [answer.usage], batch=True)
        received = datetime.fromisoformat(record.received_at.replace("Z", "+00:00"))
        latency_ms = int((self._clock() - received.timestamp()) * 1000)
        done = self._store.transition(
            record.event_id,
            from_statuses=[EventStatus.BATCHING],
            to_status=EventStatus.COMPLETED,
            updates={
                "result": result.model_dump(),
                "route": route.name,
                "model": model_id,
                "usage": usage.as_dict(),
                "latency_ms": latency_ms,
                "mode": "batch",
                "batch_id": batch_id,
                **CLEARED_ON_CALL,
            },
        )
        self._emit_usage(route, usage, latency_ms)
        self._admission.count_batch(record.source, route, [answer.usage], usage.cost_usd)
        self._after_completion(done, route, self.payload_of(record), result.model_dump())
        return True

    @staticmethod
    def _repair_turns(answer: ModelAnswer, error: ValidationError) -> list[dict[str, Any]]:
        """Show the model its own answer and what was wrong with it, once."""
        problem = f"The tool input was invalid: {error}. Call the tool again with valid input."
        if answer.tool_use_id is None:
            return [
                {"role": "assistant", "content": answer.content or "(no answer)"},
                {"role": "user", "content": problem},
            ]
        return [
            {"role": "assistant", "content": answer.content},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": answer.tool_use_id,
                        "content": problem,
                        "is_error": True,
                    }
                ],
            },
        ]

    def _usage(
        self, route: Route, name: str, usages: list[ModelUsage], *, batch: bool = False
    ) -> Usage:
        """The usages summed and priced (cache writes at the route's lifetime's price)."""
        total = ModelUsage(
            input_tokens=sum(u.input_tokens for u in usages),
            output_tokens=sum(u.output_tokens for u in usages),
            cache_creation_input_tokens=sum(u.cache_creation_input_tokens for u in usages),
            cache_read_input_tokens=sum(u.cache_read_input_tokens for u in usages),
        )
        spec = self._config.models.get(name)
        return Usage(
            **asdict(total),
            cost_usd=cost_usd(spec, total, cache_ttl=route.cache.ttl, batch=batch),
        )

    @staticmethod
    def _emit_usage(route: Route, usage: Usage, latency_ms: int) -> None:
        metrics.add_metric(name="ModelLatency", unit="Milliseconds", value=latency_ms)
        metrics.add_metric(name="InputTokens", unit="Count", value=usage.input_tokens)
        metrics.add_metric(name="OutputTokens", unit="Count", value=usage.output_tokens)
        metrics.add_metric(
            name="CacheWriteTokens", unit="Count", value=usage.cache_creation_input_tokens
        )
        metrics.add_metric(
            name="CacheReadTokens", unit="Count", value=usage.cache_read_input_tokens
        )
        metrics.add_metric(name="CostUSD", unit="None", value=usage.cost_usd)
        # Per route too: which routes' prefixes are read from the cache, and which only write.
        # Only for a call that touched the cache: a route without it would pay two log
        # records of zeros per event (CloudWatch bills metric records as log bytes).
        if usage.cache_creation_input_tokens or usage.cache_read_input_tokens:
            for name, tokens in (
                ("CacheWriteTokens", usage.cache_creation_input_tokens),
                ("CacheReadTokens", usage.cache_read_input_tokens),
            ):
                measure(name, "Count", tokens, route=route.name)

    def _finish(
        self, record: EventRecord, status: EventStatus, updates: dict[str, Any]
    ) -> EventRecord:
        try:
            return self._store.transition(
                record.event_id,
                from_statuses=[EventStatus.PROCESSING],
                to_status=status,
                updates=updates,
                remove=["lease_until"],
            )
        except TransitionConflict:
            # Our lease lapsed and another worker took the event over: its outcome stands.
            logger.warning("lost the event's lease before finishing", extra={"to": status.value})
            raise RetryLater("lease lost", 0) from None

    def _transient(
        self, record: EventRecord, delivery: Delivery, error: ModelError | ProviderError
    ) -> Outcome:
        """A real failed attempt: counted on the event; the queue retries it with backoff
        until the event's failures (or, as a backstop, the message's receives) run out."""
        what = "model" if isinstance(error, ModelError) else "context fetch"
        reason = f"transient {what} error: {error}"[:ERROR_CHARS]
        failures = record.failures + 1
        if (
            failures >= self._settings.max_failures
            or delivery.receive_count >= self._settings.max_receive_count
        ):
            return self._permanent(record, delivery.message, f"exhausted: {reason}")
        self._store.transition(
            record.event_id,
            from_statuses=[EventStatus.PROCESSING],
            to_status=EventStatus.QUEUED,
            updates={**CLEARED_ON_CALL, "error": reason, "route": record.route},
            increment={"failures": 1},
            remove=["lease_until"],
        )
        metrics.add_metric(name="Retried", unit="Count", value=1)
        raise RetryLater(reason, self._delay(failures, error.retry_after))

    def _defer(self, record: EventRecord, delivery: Delivery, deferral: Deferral) -> Outcome:
        """No capacity or budget yet: no call, no failure. The event comes back as a new
        message when capacity returns (a deferral never adds to a message's receive count)
        and this one is acknowledged."""
        wait = deferral.until - self._clock()
        # SQS delays are whole seconds: a booked event comes back just before its slot and
        # waits the rest in the worker; one with no booking comes back no earlier than asked.
        delay = max(1, math.floor(wait) if deferral.booked_at is not None else math.ceil(wait))
        # Sent first: if the send fails, this message simply comes back. A crash after it
        # leaves two messages, and the conditional claim lets only one of them work.
        self._queue.send(delivery.message, delay_seconds=delay)
        try:
            self._store.transition(
                record.event_id,
                from_statuses=[EventStatus.PROCESSING],
                to_status=EventStatus.DEFERRED,
                updates={
                    "defer_reason": deferral.reason,
                    "deferred_until": isoformat(datetime.fromtimestamp(deferral.until, UTC)),
                    "booked_at": deferral.booked_at,
                    "line_at": deferral.line_at,
                    "route": record.route,
                    **self._limits(deferral.limits),
                },
                remove=["lease_until"],
            )
        except TransitionConflict:
            logger.warning("lost the event's lease before deferring it")
        count("Deferred", reason=deferral.kind)
        metrics.add_metric(name="DeferredSeconds", unit="Seconds", value=delay)
        logger.info("deferred", extra={"reason": deferral.reason, "seconds": delay})
        return Outcome("deferred")

    def _keep_lease(self, delivery: Delivery, event_id: str) -> None:
        """Keep the message invisible and the lease on the event while the record works."""
        visibility = self._settings.visibility_timeout
        self._queue.change_visibility(delivery.receipt_handle, visibility)
        if not self._store.extend_lease(event_id, self._clock() + visibility):
            logger.warning("lease could not be extended: the event is no longer processing")

    def _permanent(self, record: EventRecord, message: QueueMessage, reason: str) -> Outcome:
        """The DLQ send, then the final transition: a `failed` event is always one the DLQ
        shows. The decision is written on the event first, so a worker stopped after the send
        leaves an event whose message comes back and finishes the failure without working it
        again (a second copy in the DLQ at worst: a redrive moves the event once, since only
        one message can claim it). A redrive of a copy whose event is not yet `failed` sends it
        back here too: the failure is recorded, and the event can be redriven from then on."""
        reason = reason[:ERROR_CHARS]
        if record.dead_letter_reason is None:
            try:
                self._store.transition(
                    record.event_id,
                    from_statuses=[EventStatus.PROCESSING],
                    to_status=EventStatus.PROCESSING,
                    updates={"dead_letter_reason": reason},
                )
            except TransitionConflict:
                logger.warning("lost the event's lease before failing it")
                raise RetryLater("lease lost", 0) from None
        # Parked with its reason for on-call; the original is acknowledged, so no retries.
        self._queue.send_to_dlq(message, reason)
        self._finish(
            record,
            EventStatus.FAILED,
            {"error": reason, "dead_letter_reason": None, "route": record.route},
        )
        metrics.add_metric(name="Failed", unit="Count", value=1)
        logger.warning("event failed", extra={"reason": reason})
        return Outcome("failed")

    def _delay(self, receive_count: int, retry_after: float | None) -> int:
        return retry_delay(receive_count, retry_after, self._settings.max_backoff)

    def _after_completion(
        self, record: EventRecord, route: Route, payload: Any, result: dict[str, Any]
    ) -> None:
        metrics.add_metric(name="Processed", unit="Count", value=1)
        subject = subject_of(route, payload) if route.memory else None
        if subject:
            # The head this review saw: the next push is reviewed from there.
            head = {REVIEWED_HEAD: record.reviewed["head"]} if record.reviewed else {}
            self._store.remember(
                route.name,
                subject,
                {"event_type": record.event_type, **result, **head},
                keep=route.memory,
                expires_at=record.expires_at or 0,
            )
        # The EventBridge publish among them: a failed one is retried, never by re-asking.
        self._run_actions(record, route, payload, receive_count=0)

    def _run_actions(
        self, record: EventRecord, route: Route, payload: Any, receive_count: int
    ) -> Outcome:
        """Act on the provider with the stored result; what failed is retried from the queue
        as an actions-only message (the model is never asked again)."""
        if self._actions is None or not self._actions.planned(route):
            return Outcome("no_actions")
        last_try = receive_count >= self._settings.max_receive_count
        report = self._actions.run(record, route, payload, last_try=last_try)
        if not report.pending:
            return Outcome("actions_done")
        reason = f"actions to retry: {', '.join(report.pending)}"
        delay = self._delay(receive_count + 1, report.retry_after)
        if receive_count == 0:
            self._queue.send(
                QueueMessage(
                    event_id=record.event_id,
                    source=record.source,
                    event_type=record.event_type,
                    kind="actions",
                ),
                delay_seconds=delay,
            )
            return Outcome("actions_queued")
        # A provider rate limit lands here too: the message comes back after its wait.
        raise RetryLater(reason, delay)

    def _retry_actions(self, delivery: Delivery) -> Outcome:
        record = self._store.get(delivery.message.event_id)
        route = self._config.route_named(record.route or "") if record else None
        if record is None or route is None or record.status is not EventStatus.COMPLETED:
            return Outcome("acknowledged")
        if self._actions is None or not self._actions.unsettled(record, route):
            return Outcome("acknowledged")
        return self._run_actions(
            record, route, self.payload_of(record), receive_count=delivery.receive_count
        )
