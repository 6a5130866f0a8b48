"""Create hookwise's table, queues, bucket, bus and secrets through the AWS APIs.

Used where CloudFormation is not: the local stack (against moto's server) and tests (against
moto in-process). Every shape comes from `hookwise.resources`, the module the CDK app reads too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from hookwise.config import HookwiseConfig
from hookwise.resources import (
    BATCH_TABLE_PARTITION_KEY,
    BATCH_TABLE_SORT_KEY,
    BATCH_TABLE_SUFFIX,
    BATCH_TABLE_TTL_ATTRIBUTE,
    QUEUES,
    STATUS_INDEX,
    STATUS_INDEX_INCLUDES,
    STATUS_INDEX_PARTITION_KEY,
    STATUS_INDEX_SORT_KEY,
    STUCK_INDEX,
    STUCK_INDEX_PARTITION_KEY,
    STUCK_INDEX_SORT_KEY,
    TABLE_PARTITION_KEY,
    TABLE_TTL_ATTRIBUTE,
)
from hookwise.settings import Settings

DAY = 86_400


@dataclass(frozen=True)
class Provisioned:
    table: str
    queue_url: str
    dlq_url: str
    bucket: str
    event_bus: str


def provision(
    settings: Settings,
    config: HookwiseConfig,
    source_secrets: Callable[[str], list[str]],
    client: Callable[..., Any] = boto3.client,
    provider_secrets: Mapping[str, str] | None = None,
) -> Provisioned:
    """Create everything; `source_secrets(name)` gives the secrets stored for each source, and
    `provider_secrets` the credentials actions use (Secrets Manager name -> value)."""
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=settings.table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": TABLE_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": STUCK_INDEX_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": STUCK_INDEX_SORT_KEY, "AttributeType": "S"},
            # The status index's sort key is the arrival time too (STATUS_INDEX_SORT_KEY).
            {"AttributeName": STATUS_INDEX_PARTITION_KEY, "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": STUCK_INDEX,
                "KeySchema": [
                    {"AttributeName": STUCK_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": STUCK_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": STATUS_INDEX,
                "KeySchema": [
                    {"AttributeName": STATUS_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": STATUS_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": list(STATUS_INDEX_INCLUDES),
                },
            },
        ],
    )
    dynamodb.update_time_to_live(
        TableName=settings.table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE_TTL_ATTRIBUTE},
    )

    dynamodb.create_table(
        TableName=settings.table + BATCH_TABLE_SUFFIX,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": BATCH_TABLE_PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": BATCH_TABLE_SORT_KEY, "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": BATCH_TABLE_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": BATCH_TABLE_SORT_KEY, "KeyType": "RANGE"},
        ],
    )
    dynamodb.update_time_to_live(
        TableName=settings.table + BATCH_TABLE_SUFFIX,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": BATCH_TABLE_TTL_ATTRIBUTE},
    )

    sqs = client("sqs")
    dlq_url = sqs.create_queue(
        QueueName=f"{settings.table}-dlq",
        Attributes={"MessageRetentionPeriod": str(QUEUES.dlq_retention_days * DAY)},
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=f"{settings.table}-queue",
        Attributes={
            "VisibilityTimeout": str(settings.visibility_timeout),
            "MessageRetentionPeriod": str(QUEUES.retention_days * DAY),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.max_receive_count}
            ),
        },
    )["QueueUrl"]

    bucket = settings.bucket or f"{settings.table}-payloads"
    client("s3").create_bucket(Bucket=bucket)
    event_bus = settings.event_bus or "hookwise"
    client("events").create_event_bus(Name=event_bus)

    secretsmanager = client("secretsmanager")
    for name, source in config.sources.items():
        secretsmanager.create_secret(
            Name=source.secret_name or f"{settings.secrets_prefix}{name}",
            SecretString=json.dumps(source_secrets(name)),
        )
    for secret_name, value in (provider_secrets or {}).items():
        secretsmanager.create_secret(Name=secret_name, SecretString=value)
    return Provisioned(settings.table, queue_url, dlq_url, bucket, event_bus)
