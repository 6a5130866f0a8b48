"""EventQueue on SQS."""

from __future__ import annotations

from typing import Any

import boto3

from hookwise.adapters.queue.base import EventQueue
from hookwise.domain.events import QueueMessage

# SQS message attribute values are capped; a reason is a summary, the full error is on the item.
MAX_REASON_CHARS = 1000
MAX_DELAY_SECONDS = 900


def message_attributes(message: QueueMessage, **extra: str) -> dict[str, Any]:
    values = {"source": message.source, "event_type": message.event_type, **extra}
    return {
        name: {"DataType": "String", "StringValue": value[:MAX_REASON_CHARS]}
        for name, value in values.items()
        if value
    }


class SQSEventQueue(EventQueue):
    def __init__(self, queue_url: str, dlq_url: str = "", client: Any = None) -> None:
        self._client = client or boto3.client("sqs")
        self._queue_url = queue_url
        self._dlq_url = dlq_url

    def send(self, message: QueueMessage, delay_seconds: int = 0) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=message.to_json(),
            MessageAttributes=message_attributes(message),
            DelaySeconds=min(delay_seconds, MAX_DELAY_SECONDS),
        )

    def send_to_dlq(self, message: QueueMessage, reason: str) -> None:
        self._client.send_message(
            QueueUrl=self._dlq_url,
            MessageBody=message.to_json(),
            MessageAttributes=message_attributes(message, reason=reason),
        )

    def change_visibility(self, receipt_handle: str, seconds: int) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
