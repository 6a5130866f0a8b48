"""A short lease per subject in the events table, so two events for one pull request (opened
and a push right after) cannot both find no comment and both post one. The key prefix cannot
collide with event ids (`evt_`), subject memory (`subject#`) or cached context (`context#`)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from hookwise.resources import TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE

LOCK_PREFIX = "lock#"
# Lock items outlive their lease by a day, then TTL removes them.
LINGER_SECONDS = 86_400


class DynamoDBSubjectLock:
    def __init__(
        self, table_name: str, resource: Any = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._table = (resource or boto3.resource("dynamodb")).Table(table_name)
        self._clock = clock

    @staticmethod
    def _key(subject: str) -> str:
        return LOCK_PREFIX + hashlib.sha256(subject.encode()).hexdigest()[:40]

    def acquire(self, subject: str, holder: str, seconds: float) -> bool:
        """Take the subject's lease (or renew our own); False while another holder has it."""
        now = self._clock()
        try:
            self._table.put_item(
                Item={
                    TABLE_PARTITION_KEY: self._key(subject),
                    "holder": holder,
                    "lease_until": Decimal(str(round(now + seconds, 3))),
                    TABLE_TTL_ATTRIBUTE: int(now + seconds + LINGER_SECONDS),
                },
                ConditionExpression=Attr(TABLE_PARTITION_KEY).not_exists()
                | Attr("lease_until").lt(Decimal(str(round(now, 3))))
                | Attr("holder").eq(holder),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, subject: str, holder: str) -> None:
        try:
            self._table.delete_item(
                Key={TABLE_PARTITION_KEY: self._key(subject)},
                ConditionExpression=Attr("holder").eq(holder),
            )
        except ClientError as error:
            # Lapsed and taken by someone else: theirs to release.
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
