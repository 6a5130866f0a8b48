"""The Lambda SQS event source mapping, emulated: receive a batch, invoke the worker with the
event Lambda would build, delete what succeeded, leave failures for the queue to redeliver
(and, past maxReceiveCount, to move to the DLQ by its redrive policy)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hookwise.observability import logger
from hookwise.resources import QUEUES, WORKER_FUNCTION

WorkerHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LambdaContext:
    """What a handler reads from Lambda's context, with a deadline that really counts down."""

    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "local"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:local"

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS message as the event source mapping hands it to Lambda."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "dataType": value["DataType"],
                "stringListValues": [],
                "binaryListValues": [],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class EventSourceMapping:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: WorkerHandler,
        *,
        # As the stack deploys the mapping and the worker function.
        batch_size: int = QUEUES.batch_size,
        function_timeout: float = WORKER_FUNCTION.timeout_seconds,
        wait_seconds: int = 1,
        concurrency: int = 1,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._handler = handler
        self._batch_size = batch_size
        self._timeout = function_timeout
        self._wait = wait_seconds
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self._queue_arn = attributes["Attributes"]["QueueArn"]
        self._region = sqs.meta.region_name
        self._stop = threading.Event()
        # Like the mapping's maximum concurrency: this many batches in flight at once.
        self._threads = [
            threading.Thread(target=self._loop, daemon=True, name=f"event-source-{index}")
            for index in range(concurrency)
        ]

    def poll_once(self) -> int:
        """One receive and one invocation; the number of records handed to the worker."""
        answer = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=self._wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = answer.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [lambda_record(m, self._queue_arn, self._region) for m in messages]}
        context = LambdaContext(function_name="worker", timeout_seconds=self._timeout)
        try:
            response = self._handler(event, context)
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception:
            # An invocation error fails the whole batch, as on Lambda.
            logger.exception("worker invocation failed")
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        return len(messages)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                logger.exception("event source poll failed")
                self._stop.wait(1.0)

    def start(self) -> EventSourceMapping:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self._wait + self._timeout)
