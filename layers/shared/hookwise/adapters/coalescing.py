"""One small item per route and subject in the events table, for coalescing (see
hookwise/worker/coalescing.py): the subject's newest waiting event, the last that ran, the last
`cancel_on` event. Every change is one conditional update on it, so however many workers see
the subject's events, and in whatever order, one of them is newest and only it may run.

Events are compared by their order key (a string that sorts as the provider ordered them). The
key prefix cannot collide with event ids (`evt_`), subject memory (`subject#`), cached context
(`context#`) or subject locks (`lock#`). Under 200 bytes: every update is one write unit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, ConditionBase
from botocore.exceptions import ClientError

from hookwise.adapters.conditions import refused_by_condition
from hookwise.resources import TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE

WINDOW_PREFIX = "coalesce#"
# The item outlives its subject's last event by a week, then TTL removes it.
LINGER_SECONDS = 7 * 86_400


@dataclass(frozen=True)
class Window:
    """What the item says of one route's subject (all None: nothing seen yet)."""

    # The newest event registered, and when (epoch seconds).
    newest_key: str | None = None
    newest_id: str | None = None
    newest_at: float | None = None
    # When the first event waiting since the last run registered; None once a run is claimed.
    first_at: float | None = None
    # The last event that claimed its run.
    ran_key: str | None = None
    ran_id: str | None = None
    # The last `cancel_on` event, and its type.
    cancel_key: str | None = None
    cancel_id: str | None = None
    cancel_type: str | None = None


@dataclass(frozen=True)
class Entry:
    """One event as coalescing sees it: its order key, id, and when the worker registers it
    (epoch seconds)."""

    key: str
    event_id: str
    at: float


class WindowMoved(Exception):
    """The item changed since it was read: `found` is how it is now."""

    def __init__(self, found: Window) -> None:
        super().__init__("coalescing window moved")
        self.found = found


def _number(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


def _window(item: dict[str, Any] | None) -> Window:
    if not item:
        return Window()

    def text(name: str) -> str | None:
        value = item.get(name)
        if isinstance(value, dict):  # as DynamoDB types it, in a refusal's item
            value = next(iter(value.values()))
        return None if value is None else str(value)

    def number(name: str) -> float | None:
        found = text(name)
        return None if found is None else float(found)

    return Window(
        newest_key=text("newest_key"),
        newest_id=text("newest_id"),
        newest_at=number("newest_at"),
        first_at=number("first_at"),
        ran_key=text("ran_key"),
        ran_id=text("ran_id"),
        cancel_key=text("cancel_key"),
        cancel_id=text("cancel_id"),
        cancel_type=text("cancel_type"),
    )


def _before(name: str, key: str) -> ConditionBase:
    """Nothing under `name` yet, or an earlier key than `key`."""
    return Attr(name).not_exists() | Attr(name).lt(key)


class DynamoDBCoalescing:
    def __init__(self, table_name: str, resource: Any = None) -> None:
        self._table = (resource or boto3.resource("dynamodb")).Table(table_name)

    @staticmethod
    def item_key(route: str, subject: str) -> str:
        return WINDOW_PREFIX + hashlib.sha256(f"{route}\x00{subject}".encode()).hexdigest()[:40]

    def read(self, route: str, subject: str) -> Window:
        found = self._table.get_item(
            Key={TABLE_PARTITION_KEY: self.item_key(route, subject)}, ConsistentRead=True
        ).get("Item")
        return _window(found)

    def register(self, route: str, subject: str, entry: Entry, *, run: bool) -> None:
        """Make `entry` the subject's newest waiting event (and, with `run`, claim its run at
        once). Refused (WindowMoved) when a later event is registered, ran or cancelled; the
        same entry again (a retry after a crash) is accepted."""
        sets = ["newest_key = :k", "newest_id = :id", "newest_at = :at", "#ttl = :ttl"]
        if run:
            expression = "SET " + ", ".join([*sets, "ran_key = :k", "ran_id = :id"])
            expression += " REMOVE first_at"
        else:
            expression = "SET " + ", ".join([*sets, "first_at = if_not_exists(first_at, :at)"])
        condition = (
            (Attr("newest_key").not_exists() | Attr("newest_key").lte(entry.key))
            & _before("ran_key", entry.key)
            & _before("cancel_key", entry.key)
        )
        self._update(route, subject, entry, expression, condition)

    def claim_run(self, route: str, subject: str, entry: Entry) -> None:
        """The newest waiting event takes its run; WindowMoved if it is no longer newest, or a
        cancel came after it."""
        condition = (
            Attr("newest_key").eq(entry.key)
            & _before("ran_key", entry.key)
            & _before("cancel_key", entry.key)
        )
        expression = "SET ran_key = :k, ran_id = :id, #ttl = :ttl REMOVE first_at"
        self._update(route, subject, entry, expression, condition)

    def cancel(self, route: str, subject: str, entry: Entry, event_type: str) -> Window | None:
        """Record a `cancel_on` event: every event ordered before it ends. Returns the window
        as it was before (None if a later cancel is recorded already)."""
        try:
            answer = self._table.update_item(
                Key={TABLE_PARTITION_KEY: self.item_key(route, subject)},
                UpdateExpression=(
                    "SET cancel_key = :k, cancel_id = :id, cancel_type = :type, #ttl = :ttl"
                ),
                ConditionExpression=_before("cancel_key", entry.key),
                ExpressionAttributeNames={"#ttl": TABLE_TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":k": entry.key,
                    ":id": entry.event_id,
                    ":type": event_type,
                    ":ttl": int(entry.at + LINGER_SECONDS),
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if refused_by_condition(error):
                return None
            raise
        return _window(answer.get("Attributes"))

    def _update(
        self, route: str, subject: str, entry: Entry, expression: str, condition: ConditionBase
    ) -> None:
        values: dict[str, Any] = {
            ":k": entry.key,
            ":id": entry.event_id,
            ":ttl": int(entry.at + LINGER_SECONDS),
        }
        if ":at" in expression:
            values[":at"] = _number(entry.at)
        try:
            self._table.update_item(
                Key={TABLE_PARTITION_KEY: self.item_key(route, subject)},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#ttl": TABLE_TTL_ATTRIBUTE},
                ExpressionAttributeValues=values,
                # The refusal carries the item it found: deciding again costs no read.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not refused_by_condition(error):
                raise
            found: Any = error.response.get("Item") or {}
            raise WindowMoved(_window(found)) from None
