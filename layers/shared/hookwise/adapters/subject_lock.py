"""A short lease per subject in the events table, so two events for one pull request (opened
and a push right after) cannot both find no comment and both post one. The key prefix cannot
collide with event ids (`evt_`), subject memory (`subject#`) or cached context (`context#`).

A run that succeeds leaves its lease in place: the outcome it records on its event says it is
over, which saves a delete per run. The next taker, refused by that live lease, asks whether
its holder's run is finished and, if so, takes the lease over from that holder. A run that
fails releases at once; one that crashed before recording holds the subject until its lease
lapses.

A taker refused by a run still acting waits for it a little (`wait_seconds`, polling the lease
with a read, not a write), since that run is usually a list and a post away from done. Sent
back to the queue at once instead, the events of one busy PR would come back together, one
would win and the rest go round again: a burst of N events for one PR took about N*N/2 trips
through the queue."""

from __future__ import annotations

import hashlib
import random
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
# A waiting taker looks at the lease after this long, then twice as long each time up to
# POLL_MAX_SECONDS (jittered, so waiters spread out): a holder is usually done within a few
# tenths of a second, and a queue of waiters must not load the table with reads.
POLL_SECONDS = 0.1
POLL_MAX_SECONDS = 1.0


def _seconds(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


class DynamoDBSubjectLock:
    def __init__(
        self,
        table_name: str,
        resource: Any = None,
        clock: Callable[[], float] = time.time,
        *,
        wait_seconds: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._table = (resource or boto3.resource("dynamodb")).Table(table_name)
        self._clock = clock
        self._wait_seconds = wait_seconds
        self._sleep = sleep

    @staticmethod
    def _key(subject: str) -> str:
        return LOCK_PREFIX + hashlib.sha256(subject.encode()).hexdigest()[:40]

    def acquire(
        self, subject: str, holder: str, seconds: float, finished: Callable[[str], bool]
    ) -> bool:
        """Take the subject's lease (or renew our own). While another holder's lease is live,
        take it over only if `finished(that holder)`, waiting up to `wait_seconds` for that;
        False while a run that may be acting holds it after the wait."""
        deadline = self._clock() + self._wait_seconds
        poll = POLL_SECONDS
        current = self._put(subject, holder, seconds, self._free(holder))
        while current is not None:
            if finished(current):
                # Only from the holder judged finished: of two takers, the first to write wins
                # and the other waits for the winner in turn.
                current = self._put(subject, holder, seconds, Attr("holder").eq(current))
                if current is None:
                    return True
            if self._clock() >= deadline:
                return False
            self._sleep(poll * (0.5 + random.random()))  # noqa: S311 - jitter
            poll = min(POLL_MAX_SECONDS, poll * 2)
            current = self._live_holder(subject, holder)
            if current is None:
                current = self._put(subject, holder, seconds, self._free(holder))
        return True

    def _free(self, holder: str) -> ConditionBase:
        return (
            Attr(TABLE_PARTITION_KEY).not_exists()
            | Attr("lease_until").lt(_seconds(self._clock()))
            | Attr("holder").eq(holder)
        )

    def _live_holder(self, subject: str, holder: str) -> str | None:
        """Who holds a live lease on the subject, other than `holder`; None if nobody."""
        found = self._table.get_item(
            Key={TABLE_PARTITION_KEY: self._key(subject)}, ConsistentRead=True
        ).get("Item")
        if not found or found["holder"] == holder:
            return None
        return None if float(str(found["lease_until"])) < self._clock() else str(found["holder"])

    def _put(
        self, subject: str, holder: str, seconds: float, condition: ConditionBase
    ) -> str | None:
        """Write `holder`'s lease for `seconds` if `condition` holds: None when written, else
        the holder in place ("" if there is none)."""
        lease_until = self._clock() + seconds
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
