"""An SQS batch through the worker: records concurrently, failures isolated, partial response.

Powertools' AsyncBatchProcessor gathers the record handlers; each runs the synchronous service in
a bounded thread pool, so time spent waiting on the model is shared across the batch. The
batch's events are read first with one BatchGetItem, so the claims need no read of their own;
then what they will look up (subject memory, cached context), one BatchGetItem per kind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from hookwise.adapters.queue import EventQueue
from hookwise.adapters.store import EventStore
from hookwise.domain.events import QueueMessage
from hookwise.observability import logger
from hookwise.worker.service import Delivery, Outcome, RetryLater, WorkerService


class BatchRunner:
    def __init__(
        self,
        service: WorkerService,
        store: EventStore,
        queue: EventQueue,
        concurrency: int,
        after_batch: Callable[[], None] = lambda: None,
    ) -> None:
        self._service = service
        self._store = store
        self._queue = queue
        # Writes what the batch learned for everyone (the governor's reconciliations).
        self._after_batch = after_batch
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="record")

    def run(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # A batch that fails whole (say, all rate limited) is an outcome, not a function error:
        # the records go back with their own visibility, and the errors alarm stays quiet.
        processor = AsyncBatchProcessor(
            event_type=EventType.SQS, raise_on_entire_batch_failure=False
        )

        self._prefetch(event)

        def time_left() -> float:
            return float(context.get_remaining_time_in_millis()) / 1000.0

        async def record_handler(record: SQSRecord) -> str:
            loop = asyncio.get_running_loop()
            outcome = await loop.run_in_executor(self._pool, self._one, record, time_left)
            return outcome.status

        try:
            return dict(
                async_process_partial_response(
                    event=event,
                    record_handler=record_handler,
                    processor=processor,
                    context=context,
                )
            )
        finally:
            self._after_batch()

    def _prefetch(self, event: dict[str, Any]) -> None:
        messages = []
        for record in event.get("Records", []):
            # A malformed body fails in its own record handler, with the others unharmed.
            with suppress(ValueError):
                messages.append(QueueMessage.from_json(record["body"]))
        arrivals = self._store.prefetch(m.event_id for m in messages if m.kind == "event")
        self._service.read_ahead(arrivals)

    def _one(self, record: SQSRecord, time_left: Any) -> Outcome:
        message = QueueMessage.from_json(record.body)
        logger.thread_safe_append_keys(event_id=message.event_id, correlation_id=message.event_id)
        try:
            return self._service.handle(
                Delivery(
                    message=message,
                    receive_count=int(record.attributes.approximate_receive_count or 1),
                    receipt_handle=record.receipt_handle,
                ),
                time_left,
            )
        except RetryLater as retry:
            if retry.visibility is not None:
                self._queue.change_visibility(record.receipt_handle, retry.visibility)
            logger.info(
                "returned to the queue",
                extra={"reason": str(retry), "visibility": retry.visibility},
            )
            raise
        finally:
            logger.thread_safe_clear_keys()
