"""The work queue and its dead-letter queue."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from hookwise.resources import QUEUES, WORKER_FUNCTION

# AWS guidance for SQS event sources: visibility at least six times the function timeout.
VISIBILITY = max(QUEUES.visibility_timeout, 6 * WORKER_FUNCTION.timeout_seconds)


class EventQueues(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.dlq = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(QUEUES.dlq_retention_days),
        )
        self.queue = sqs.Queue(
            self,
            "Events",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(VISIBILITY),
            retention_period=cdk.Duration.days(QUEUES.retention_days),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=QUEUES.max_receive_count, queue=self.dlq
            ),
        )
