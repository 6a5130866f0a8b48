"""EventStore on DynamoDB: one item per event, conditional writes for every transition."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from hookwise.adapters.store.base import EventStore, TransitionConflict
from hookwise.domain.events import EventRecord, EventStatus, isoformat, utcnow
from hookwise.resources import (
    STUCK_INDEX,
    STUCK_INDEX_PARTITION_KEY,
    STUCK_INDEX_SORT_KEY,
    TABLE_PARTITION_KEY,
)

# Subject memory shares the table; its keys cannot collide with event ids (`evt_...`).
SUBJECT_PREFIX = "subject#"
# Marks an item as waiting for dispatch in the sparse index; removed once queued.
PENDING = "1"
# BatchGetItem's limit on keys per request.
BATCH_GET_KEYS = 100


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _to_dynamo(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_to_dynamo(item) for item in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamo(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(item) for item in value]
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3 Binary
        return bytes(value.value)
    return value


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoDBEventStore(EventStore):
    def __init__(self, table_name: str, client: Any = None) -> None:
        resource = boto3.resource("dynamodb") if client is None else None
        self._table = (
            resource.Table(table_name)
            if resource is not None
            else boto3.resource("dynamodb", client=client).Table(table_name)  # type: ignore[call-overload]
        )

    @staticmethod
    def _record(item: Mapping[str, Any]) -> EventRecord:
        data = _from_dynamo(dict(item))
        data.pop(STUCK_INDEX_PARTITION_KEY, None)
        data.pop("dispatch_lease_until", None)
        data.pop("lease_until", None)
        return EventRecord.model_validate(data)

    def put_new(self, record: EventRecord, dispatch_lease_until: float) -> bool:
        item = _to_dynamo(record.model_dump(exclude_none=True))
        item[STUCK_INDEX_PARTITION_KEY] = PENDING
        item["dispatch_lease_until"] = _to_dynamo(dispatch_lease_until)
        try:
            self._table.put_item(
                Item=item, ConditionExpression=Attr(TABLE_PARTITION_KEY).not_exists()
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def get(self, event_id: str) -> EventRecord | None:
        item = self._table.get_item(Key={TABLE_PARTITION_KEY: event_id}, ConsistentRead=True)
        found = item.get("Item")
        return self._record(found) if found else None

    def get_many(self, event_ids: Iterable[str]) -> dict[str, EventRecord]:
        # The table's client (de)serialises attribute values itself, like the table does.
        client = self._table.meta.client
        ids = list(dict.fromkeys(event_ids))
        found: dict[str, EventRecord] = {}
        for start in range(0, len(ids), BATCH_GET_KEYS):
            request: dict[str, Any] = {
                self._table.name: {
                    "Keys": [
                        {TABLE_PARTITION_KEY: event_id}
                        for event_id in ids[start : start + BATCH_GET_KEYS]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                page = client.batch_get_item(RequestItems=request)
                for raw in page.get("Responses", {}).get(self._table.name, []):
                    record = self._record(raw)
                    found[record.event_id] = record
                request = page.get("UnprocessedKeys") or {}
        return found

    def acquire_dispatch(self, event_id: str, now: float, lease_until: float) -> bool:
        try:
            self._table.update_item(
                Key={TABLE_PARTITION_KEY: event_id},
                UpdateExpression="SET dispatch_lease_until = :lease",
                ConditionExpression=(
                    Attr("status").eq(EventStatus.RECEIVED.value)
                    & (
                        Attr("dispatch_lease_until").not_exists()
                        | Attr("dispatch_lease_until").lt(_to_dynamo(now))
                    )
                ),
                ExpressionAttributeValues={":lease": _to_dynamo(lease_until)},
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def transition(
        self,
        event_id: str,
        *,
        from_statuses: Iterable[EventStatus],
        to_status: EventStatus,
        updates: Mapping[str, Any] | None = None,
        increment: Mapping[str, int] | None = None,
        remove: Iterable[str] = (),
        condition: Any = None,
    ) -> EventRecord:
        allowed = [status.value for status in from_statuses]
        names: dict[str, str] = {"#status": "status", "#updated_at": "updated_at"}
        values: dict[str, Any] = {":to": to_status.value, ":now": isoformat(utcnow())}
        sets = ["#status = :to", "#updated_at = :now"]
        for index, (name, value) in enumerate((updates or {}).items()):
            if value is None:
                remove = [*remove, name]
                continue
            names[f"#u{index}"] = name
            values[f":u{index}"] = _to_dynamo(value)
            sets.append(f"#u{index} = :u{index}")
        for index, (name, amount) in enumerate((increment or {}).items()):
            names[f"#i{index}"] = name
            values[f":i{index}"] = amount
            values[":zero"] = 0
            sets.append(f"#i{index} = if_not_exists(#i{index}, :zero) + :i{index}")
        expression = "SET " + ", ".join(sets)
        removals = list(remove)
        if to_status is not EventStatus.RECEIVED:
            removals.append(STUCK_INDEX_PARTITION_KEY)
        if removals:
            for index, name in enumerate(removals):
                names[f"#r{index}"] = name
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removals)))
        status_condition = Attr("status").is_in(allowed)
        full_condition = status_condition if condition is None else status_condition & condition
        try:
            answer = self._table.update_item(
                Key={TABLE_PARTITION_KEY: event_id},
                UpdateExpression=expression,
                ConditionExpression=full_condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                raise TransitionConflict(event_id) from error
            raise
        return self._record(answer["Attributes"])

    def claim(self, event_id: str, now: float, lease_until: float) -> EventRecord:
        lapsed = Attr("status").eq(EventStatus.PROCESSING.value) & Attr("lease_until").lt(
            _to_dynamo(now)
        )
        waiting = Attr("status").is_in(
            [EventStatus.QUEUED.value, EventStatus.RECEIVED.value, EventStatus.DEFERRED.value]
        )
        try:
            answer = self._table.update_item(
                Key={TABLE_PARTITION_KEY: event_id},
                UpdateExpression=(
                    "SET #status = :processing, #updated_at = :now, lease_until = :lease, "
                    "attempts = if_not_exists(attempts, :zero) + :one REMOVE #pending"
                ),
                ConditionExpression=Attr(TABLE_PARTITION_KEY).exists() & (waiting | lapsed),
                ExpressionAttributeNames={
                    "#status": "status",
                    "#updated_at": "updated_at",
                    "#pending": STUCK_INDEX_PARTITION_KEY,
                },
                ExpressionAttributeValues={
                    ":processing": EventStatus.PROCESSING.value,
                    ":now": isoformat(utcnow()),
                    ":lease": _to_dynamo(lease_until),
                    ":zero": 0,
                    ":one": 1,
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                raise TransitionConflict(event_id) from error
            raise
        return self._record(answer["Attributes"])

    def extend_lease(self, event_id: str, lease_until: float) -> bool:
        try:
            self._table.update_item(
                Key={TABLE_PARTITION_KEY: event_id},
                UpdateExpression="SET lease_until = :lease",
                ConditionExpression=Attr("status").eq(EventStatus.PROCESSING.value),
                ExpressionAttributeValues={":lease": _to_dynamo(lease_until)},
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                return False
            raise
        return True

    def list_recent(self, limit: int) -> list[EventRecord]:
        # A scan serves the CLI's "recent events" on a modest table; it is not a hot path.
        items: list[Mapping[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = self._table.scan(
                FilterExpression=Attr(TABLE_PARTITION_KEY).begins_with("evt_"), **kwargs
            )
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        records = [self._record(item) for item in items]
        records.sort(key=lambda record: record.received_at, reverse=True)
        return records[:limit]

    def list_pending(self, received_before: str, limit: int) -> list[EventRecord]:
        page = self._table.query(
            IndexName=STUCK_INDEX,
            KeyConditionExpression=Key(STUCK_INDEX_PARTITION_KEY).eq(PENDING)
            & Key(STUCK_INDEX_SORT_KEY).lt(received_before),
            Limit=limit,
        )
        records = [self.get(str(item["event_id"])) for item in page.get("Items", [])]
        return [r for r in records if r is not None and r.status is EventStatus.RECEIVED]

    @staticmethod
    def _subject_key(subject: str) -> str:
        return SUBJECT_PREFIX + hashlib.sha256(subject.encode()).hexdigest()[:40]

    def recall(self, subject: str) -> list[dict[str, Any]]:
        item = self._table.get_item(Key={TABLE_PARTITION_KEY: self._subject_key(subject)}).get(
            "Item"
        )
        return list(_from_dynamo(item.get("history", []))) if item else []

    def remember(self, subject: str, entry: dict[str, Any], keep: int, expires_at: int) -> None:
        # Last writer wins on a race between two events of one subject: memory is a hint to
        # the model, not a record, so a lost entry costs nothing but context.
        history = [*self.recall(subject), entry][-keep:]
        self._table.put_item(
            Item={
                TABLE_PARTITION_KEY: self._subject_key(subject),
                "history": _to_dynamo(history),
                "expires_at": expires_at,
            }
        )
