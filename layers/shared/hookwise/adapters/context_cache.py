"""Fetched context cached in the events table: a small item with a TTL, under a key prefix
that cannot collide with event ids (`evt_`) or subject memory (`subject#`).

Written only for an event that comes back without an answer (deferred for model capacity,
retried after a transient error: see `ContextFetcher.keep`), so that its next try, a redelivery
or another event at the same head SHA reads the text instead of fetching it again; read on
every fetch."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3

from hookwise.adapters.store.body_codec import pack, unpack
from hookwise.resources import TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE

CONTEXT_PREFIX = "context#"
# A pull request's files at one head SHA never change; a day covers retries and redeliveries.
TTL_SECONDS = 86_400


class DynamoDBContextCache:
    def __init__(
        self, table_name: str, resource: Any = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._table = (resource or boto3.resource("dynamodb")).Table(table_name)
        self._clock = clock

    def get(self, key: str) -> str | None:
        item = self._table.get_item(Key={TABLE_PARTITION_KEY: CONTEXT_PREFIX + key}).get("Item")
        # TTL deletion lags by up to days: an expired item is a miss.
        if not item or int(str(item.get(TABLE_TTL_ATTRIBUTE, 0))) < self._clock():
            return None
        packed: Any = item.get("text_z")  # a boto3 Binary (its stubs lack `value`)
        if packed is not None:
            return unpack(packed.value).decode()
        return str(item["text"])  # cached before the text was compressed

    def put(self, key: str, text: str) -> None:
        # Compressed: a write unit per started KB, and a diff is mostly repeated text.
        self._table.put_item(
            Item={
                TABLE_PARTITION_KEY: CONTEXT_PREFIX + key,
                "text_z": pack(text.encode()),
                TABLE_TTL_ATTRIBUTE: int(self._clock()) + TTL_SECONDS,
            }
        )
