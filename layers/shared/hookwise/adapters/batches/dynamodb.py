"""The batch ledger on DynamoDB: parked events under `parked#<route>` sorted by received time,
intents under `intent#<route>`. Every item carries the table's TTL attribute (its events'
expiry, `hookwise.batches.parking.ledger_expiry`), written when the item is."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key

from hookwise.batches.ports import BatchLedger, Intent, Parked
from hookwise.resources import BATCH_TABLE_PARTITION_KEY as PK
from hookwise.resources import BATCH_TABLE_SORT_KEY as SK
from hookwise.resources import BATCH_TABLE_TTL_ATTRIBUTE as TTL

PARKED = "parked#"
INTENT = "intent#"


def _parked_key(entry: Parked) -> dict[str, str]:
    return {PK: PARKED + entry.route, SK: f"{entry.received_at}#{entry.event_id}"}


def _intent_key(intent: Intent) -> dict[str, str]:
    return {PK: INTENT + intent.route, SK: intent.intent_id}


def _intent(item: dict[str, Any]) -> Intent:
    return Intent(
        route=str(item[PK]).removeprefix(INTENT),
        intent_id=str(item[SK]),
        event_ids=[str(e) for e in item["event_ids"]],
        created_at=float(item["created_at"]),
        expires_at=int(item[TTL]),
        batch_id=item.get("batch_id"),
        recorded=bool(item.get("recorded", False)),
    )


class DynamoDBBatchLedger(BatchLedger):
    def __init__(self, table_name: str) -> None:
        self._table = boto3.resource("dynamodb").Table(table_name)

    def park(self, entry: Parked) -> None:
        self._table.put_item(
            Item={
                **_parked_key(entry),
                "event_id": entry.event_id,
                "received_at": entry.received_at,
                "deadline": Decimal(str(entry.deadline)),
                TTL: entry.expires_at,
            }
        )

    def parked(self, route: str, limit: int) -> list[Parked]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while len(items) < limit:
            page = self._table.query(
                KeyConditionExpression=Key(PK).eq(PARKED + route),
                ConsistentRead=True,
                Limit=limit - len(items),
                **kwargs,
            )
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [
            Parked(
                route,
                str(i["event_id"]),
                str(i["received_at"]),
                float(i["deadline"]),
                int(i[TTL]),
            )
            for i in items
        ]

    def unpark(self, entries: list[Parked]) -> None:
        with self._table.batch_writer() as writer:
            for entry in entries:
                writer.delete_item(Key=_parked_key(entry))

    def put_intent(self, intent: Intent) -> None:
        self._table.put_item(
            Item={
                **_intent_key(intent),
                "event_ids": intent.event_ids,
                "created_at": Decimal(str(intent.created_at)),
                TTL: intent.expires_at,
            },
            ConditionExpression=Attr(PK).not_exists(),
        )

    def set_batch(self, intent: Intent, batch_id: str) -> Intent:
        self._table.update_item(
            Key=_intent_key(intent),
            UpdateExpression="SET batch_id = :batch",
            ConditionExpression=Attr(PK).exists()
            & (Attr("batch_id").not_exists() | Attr("batch_id").eq(batch_id)),
            ExpressionAttributeValues={":batch": batch_id},
        )
        return replace(intent, batch_id=batch_id)

    def mark_recorded(self, intent: Intent) -> Intent:
        self._table.update_item(
            Key=_intent_key(intent),
            UpdateExpression="SET recorded = :yes",
            ConditionExpression=Attr(PK).exists(),
            ExpressionAttributeValues={":yes": True},
        )
        return replace(intent, recorded=True)

    def intents(self, route: str) -> list[Intent]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = self._table.query(
                KeyConditionExpression=Key(PK).eq(INTENT + route), ConsistentRead=True, **kwargs
            )
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted((_intent(item) for item in items), key=lambda i: i.created_at)

    def delete_intent(self, intent: Intent) -> None:
        self._table.delete_item(Key=_intent_key(intent))
