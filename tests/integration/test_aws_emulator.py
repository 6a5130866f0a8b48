"""moto as the suite and the local stack run it: the local stack's SQS retention check answers
as moto's own does, without computing every queue attribute for each message received; the
suite's in-process DynamoDB applies a conditional write atomically, as DynamoDB does."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sqs.models import SQSBackend, sqs_backends

from hookwise.adapters.conditions import refused_by_condition
from hookwise.local.aws_emulator import _retained
from hookwise.resources import TABLE_PARTITION_KEY
from tests.conftest import Aws


@pytest.mark.parametrize("age_seconds", [0, 59, 61, 3600])
def test_the_retention_check_agrees_with_motos(aws: Aws, age_seconds: int) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="retained", Attributes={"MessageRetentionPeriod": "60"})[
        "QueueUrl"
    ]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    backend = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    message = backend.get_queue("retained")._messages[0]
    message.sent_timestamp -= age_seconds * 1000

    motos = SQSBackend.is_message_valid_based_on_retention_period(backend, "retained", message)
    assert _retained(backend, "retained", message) is motos
    assert motos is (age_seconds < 60)


def test_in_process_dynamodb_applies_each_conditional_write_atomically(aws: Aws) -> None:
    # Threads switch as often as they can: without the suite's serialising, more than one of
    # eight racing writers won in about half the rounds.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        winners = [_racing_conditional_puts(aws, f"race#{n}", writers=8) for n in range(40)]
    finally:
        sys.setswitchinterval(previous)
    assert winners == [1] * 40


def _racing_conditional_puts(aws: Aws, key: str, writers: int) -> int:
    """How many of `writers` threads, released together, create the item `key`."""
    dynamodb = aws.client("dynamodb")
    start = threading.Barrier(writers)

    def put(_: int) -> bool:
        start.wait()
        try:
            dynamodb.put_item(
                TableName=aws.settings.table,
                Item={TABLE_PARTITION_KEY: {"S": key}},
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": TABLE_PARTITION_KEY},
            )
        except ClientError as error:
            if not refused_by_condition(error):
                raise
            return False
        return True

    # The pool's map raises a writer's unexpected error here rather than losing it in its thread.
    with ThreadPoolExecutor(writers) as pool:
        return sum(pool.map(put, range(writers)))
