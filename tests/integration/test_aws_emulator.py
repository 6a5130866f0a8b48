"""The local stack's moto server: its SQS retention check answers as moto's own does, without
computing every queue attribute for each message received."""

from __future__ import annotations

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sqs.models import SQSBackend, sqs_backends

from hookwise.local.aws_emulator import _retained
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
