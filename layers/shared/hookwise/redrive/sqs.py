"""DeadLetterQueue on SQS: receive/release/delete (moto has no StartMessageMoveTask, and a
filtered redrive needs this path anyway)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import boto3

from hookwise.domain.events import QueueMessage
from hookwise.redrive.ports import DeadLetter, DeadLetterQueue

BATCH = 10  # the SQS maximum per receive / batch call


class SQSDeadLetterQueue(DeadLetterQueue):
    def __init__(self, dlq_url: str, client: Any = None) -> None:
        self._client = client or boto3.client("sqs")
        self._url = dlq_url

    def receive(self, max_messages: int, hold_seconds: int) -> list[DeadLetter]:
        page = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=max(1, min(max_messages, BATCH)),
            VisibilityTimeout=hold_seconds,
            WaitTimeSeconds=0,
            AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        )
        return [self._letter(raw) for raw in page.get("Messages", [])]

    def release(self, letters: Sequence[DeadLetter]) -> None:
        for start in range(0, len(letters), BATCH):
            chunk = letters[start : start + BATCH]
            self._client.change_message_visibility_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                    for i, letter in enumerate(chunk)
                ],
            )

    def delete(self, letter: DeadLetter) -> None:
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=letter.receipt_handle)

    @staticmethod
    def _letter(raw: Mapping[str, Any]) -> DeadLetter:
        try:
            message: QueueMessage | None = QueueMessage.from_json(raw["Body"])
        except ValueError:
            message = None
        attributes = raw.get("Attributes", {})
        reason = raw.get("MessageAttributes", {}).get("reason", {}).get("StringValue")
        return DeadLetter(
            message_id=raw["MessageId"],
            receipt_handle=raw["ReceiptHandle"],
            message=message,
            sent_at=int(attributes.get("SentTimestamp", "0")) / 1000,
            receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
            reason=reason,
        )
