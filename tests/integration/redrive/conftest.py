"""A DLQ with failed events in it, the redrive service on moto, and a stand-in worker."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import moto.sqs.models
import pytest

from hookwise.adapters.queue.sqs import SQSEventQueue
from hookwise.adapters.store import TransitionConflict
from hookwise.adapters.store.dynamodb import DynamoDBEventStore
from hookwise.domain.events import (
    EventRecord,
    EventStatus,
    QueueMessage,
    isoformat,
    make_event_id,
    utcnow,
)
from hookwise.observability import metrics
from hookwise.redrive.service import RedriveService
from hookwise.redrive.sqs import SQSDeadLetterQueue
from tests.conftest import Aws


class FakeClock:
    """Real wall time at the start (SQS timestamps are real), then only what sleep() adds."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Pipeline:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self.sqs = boto3.client("sqs")
        self.store = DynamoDBEventStore(aws.settings.table)
        self.queue = SQSEventQueue(aws.resources.queue_url, aws.resources.dlq_url, self.sqs)
        # The service's own client: faults injected into it touch nothing else.
        self.redrive_sqs = boto3.client("sqs")
        self.clock = FakeClock()
        self.model_calls: dict[str, int] = {}
        self.counter = 0

    def service(self, **options: Any) -> RedriveService:
        urls = self.aws.resources
        return RedriveService(
            self.store,
            SQSEventQueue(urls.queue_url, urls.dlq_url, self.redrive_sqs),
            SQSDeadLetterQueue(urls.dlq_url, self.redrive_sqs),
            clock=self.clock.time,
            sleep=self.clock.sleep,
            **options,
        )

    def event(self, source: str = "github", event_type: str = "push") -> EventRecord:
        self.counter += 1
        now = isoformat(utcnow())
        record = EventRecord(
            event_id=make_event_id(source, f"delivery-{self.counter}"),
            source=source,
            event_type=event_type,
            received_at=now,
            updated_at=now,
        )
        assert self.store.put_new(record, dispatch_lease_until=0)
        self.store.transition(
            record.event_id, from_statuses=[EventStatus.RECEIVED], to_status=EventStatus.QUEUED
        )
        return record

    def failed(
        self,
        source: str = "github",
        event_type: str = "push",
        error: str = "model said 400: bad request",
        attribute: bool = True,
    ) -> str:
        """An event the worker failed: item `failed` with its error, message on the DLQ."""
        record = self.event(source, event_type)
        self.store.claim(record.event_id, now=time.time(), lease_until=time.time() + 60)
        self.store.transition(
            record.event_id,
            from_statuses=[EventStatus.PROCESSING],
            to_status=EventStatus.FAILED,
            updates={"error": error},
        )
        message = QueueMessage(event_id=record.event_id, source=source, event_type=event_type)
        if attribute:
            self.queue.send_to_dlq(message, reason=error)
        else:
            # Exhausted: moved by the RedrivePolicy, which carries no `reason` attribute.
            self.sqs.send_message(
                QueueUrl=self.aws.resources.dlq_url, MessageBody=message.to_json()
            )
        return record.event_id

    @contextmanager
    def sent_ago(self, seconds: float) -> Iterator[None]:
        """Messages sent inside are stamped `seconds` ago by the emulated SQS."""
        real = moto.sqs.models.unix_time_millis
        moto.sqs.models.unix_time_millis = lambda *_: real() - seconds * 1000  # type: ignore[assignment]
        try:
            yield
        finally:
            moto.sqs.models.unix_time_millis = real  # type: ignore[assignment]

    def dlq_ids(self) -> list[str]:
        """Event ids on the DLQ, visible now (draining and putting back via visibility)."""
        return self._peek(self.aws.resources.dlq_url)

    def main_ids(self) -> list[str]:
        return self._peek(self.aws.resources.queue_url)

    def _peek(self, url: str) -> list[str]:
        found: dict[str, str] = {}
        handles: list[str] = []
        while True:
            page = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30
            )
            batch = page.get("Messages", [])
            if not batch:
                break
            for raw in batch:
                found[raw["MessageId"]] = json.loads(raw["Body"])["event_id"]
                handles.append(raw["ReceiptHandle"])
        for handle in handles:
            self.sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0
            )
        return sorted(found.values())

    def status(self, event_id: str) -> EventStatus:
        record = self.store.get(event_id)
        assert record is not None
        return record.status

    def run_worker(self) -> None:
        """Drain the main queue the way the worker contract says: claim, or acknowledge."""
        url = self.aws.resources.queue_url
        while batch := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for raw in batch:
                event_id = json.loads(raw["Body"])["event_id"]
                try:
                    self.store.claim(event_id, now=time.time(), lease_until=time.time() + 60)
                except TransitionConflict:
                    pass  # final, or held by someone else: acknowledge without a model call
                else:
                    self.model_calls[event_id] = self.model_calls.get(event_id, 0) + 1
                    self.store.transition(
                        event_id,
                        from_statuses=[EventStatus.PROCESSING],
                        to_status=EventStatus.COMPLETED,
                        updates={"result": {"ok": True}, "error": None},
                    )
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=raw["ReceiptHandle"])


@pytest.fixture
def pipeline(aws: Aws) -> Iterator[Pipeline]:
    yield Pipeline(aws)
    # Service calls outside a handler leave metrics in the shared buffer; drop them.
    metrics.clear_metrics()
