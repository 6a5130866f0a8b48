"""A short lease per subject in the events table, so two events for one pull request (opened
and a push right after) cannot both find no comment and both post one. The key prefix cannot
collide with event ids (`evt_`), subject memory (`subject#`) or cached context (`context#`).

A run that succeeds leaves its lease in place: the outcome it records on its event says it is
over, which saves a delete per run. The next taker, refused by that live lease, asks whether
its holder's run is finished and, if so, takes the lease over from that holder. A run that
fails releases at once; one that crashed before recording holds the subject until its lease
lapses."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, ConditionBase
from botocore.exceptions import ClientError

from hookwise.adapters.conditions import refused_by_condition
from hookwise.resources import TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE

LOCK_PREFIX = "lock#"
# Lock items outlive their lease by a day, then TTL removes them.
LINGER_SECONDS = 86_400


def _seconds(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


class DynamoDBSubjectLock:
    def __init__(
        self, table_name: str, resource: Any = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._table = (resource or boto3.resource("dynamodb")).Table(table_name)
        self._clock = clock

    @staticmethod
    def _key(subject: str) -> str:
        return LOCK_PREFIX + hashlib.sha256(subject.encode()).hexdigest()[:40]

    def acquire(
        self, subject: str, holder: str, seconds: float, finished: Callable[[str], bool]
    ) -> bool:
        """Take the subject's lease (or renew our own). While another holder's lease is live,
        take it over only if `finished(that holder)`; False while its run may be acting."""
        now = self._clock()
        free = (
            Attr(TABLE_PARTITION_KEY).not_exists()
            | Attr("lease_until").lt(_seconds(now))
            | Attr("holder").eq(holder)
        )
        current = self._put(subject, holder, now + seconds, free)
        if current is None:
            return True
        if not finished(current):
            return False
        # Only from the holder judged finished: of two takers, the first to write wins.
        return self._put(subject, holder, now + seconds, Attr("holder").eq(current)) is None

    def _put(
        self, subject: str, holder: str, lease_until: float, condition: ConditionBase
    ) -> str | None:
        """Write `holder`'s lease if `condition` holds: None when written, else the holder
        in place ("" if there is none)."""
        try:
            self._table.put_item(
                Item={
                    TABLE_PARTITION_KEY: self._key(subject),
                    "holder": holder,
                    "lease_until": _seconds(lease_until),
                    TABLE_TTL_ATTRIBUTE: int(lease_until + LINGER_SECONDS),
                },
                ConditionExpression=condition,
                # The refusal carries the item it found: who holds the lease costs no read.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not refused_by_condition(error):
                raise
            # The item as DynamoDB typed it (`{"S": ...}`): botocore parses it into the error,
            # though its stubs leave the key out.
            found: Any = error.response.get("Item") or {}
            return str(found.get("holder", {}).get("S", ""))
        return None

    def release(self, subject: str, holder: str) -> None:
        """Give the lease up at once (after a failure: a success is released by its record)."""
        try:
            self._table.delete_item(
                Key={TABLE_PARTITION_KEY: self._key(subject)},
                ConditionExpression=Attr("holder").eq(holder),
            )
        except ClientError as error:
            # Lapsed and taken by someone else: theirs to release.
            if not refused_by_condition(error):
                raise
