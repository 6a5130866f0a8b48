"""Fetched context cached in the events table: a small item with a TTL, under a key prefix
that cannot collide with event ids (`evt_`) or subject memory (`subject#`).

Written only for an event that comes back without an answer (deferred for model capacity,
retried after a transient error: see `ContextFetcher.keep`), so that its next try, a redelivery
or another event at the same head SHA reads the text instead of fetching it again; read on
every fetch, a batch's entries together ahead of its records (`prefetch`). A `mode: batch`
route's parked event keeps the context fetched for it here too, until its Message Batch is built
(`hookwise/batches/parking.py`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import boto3

from hookwise.adapters.batch_get import batch_get
from hookwise.adapters.read_ahead import ReadAhead
from hookwise.adapters.store.body_codec import pack, unpack
from hookwise.resources import TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE

CONTEXT_PREFIX = "context#"
# A pull request's files at one head SHA never change; a day covers retries and redeliveries.
TTL_SECONDS = 86_400


class DynamoDBContextCache:
    def __init__(
        self,
        table_name: str,
        resource: Any = None,
        clock: Callable[[], float] = time.time,
        *,
        consistent: bool = False,
    ) -> None:
        self._table = (resource or boto3.resource("dynamodb")).Table(table_name)
        self._clock = clock
        # Strongly consistent reads, for entries read right after another process wrote them.
        self._consistent = consistent
        # The current batch's entries, read ahead by `prefetch`.
        self._ahead = ReadAhead()

    def prefetch(self, keys: Iterable[str]) -> None:
        """Read these entries in one go, for the gets of the batch that follows (each get
        takes its key's once). Replaces the previous batch's."""
        wanted = list(dict.fromkeys(keys))
        found = {
            str(item[TABLE_PARTITION_KEY]).removeprefix(CONTEXT_PREFIX): item
            for item in batch_get(
                self._table.meta.client,
                self._table.name,
                [{TABLE_PARTITION_KEY: CONTEXT_PREFIX + key} for key in wanted],
                consistent=self._consistent,
            )
        }
        self._ahead.replace(wanted, found)

    def get(self, key: str) -> str | None:
        item = self._ahead.take(key, lambda: self._read(key))
        # TTL deletion lags by up to days: an expired item is a miss.
        if not item or int(str(item.get(TABLE_TTL_ATTRIBUTE, 0))) < self._clock():
            return None
        packed: Any = item.get("text_z")  # a boto3 Binary (its stubs lack `value`)
        if packed is not None:
            return unpack(packed.value).decode()
        return str(item["text"])  # cached before the text was compressed

    def _read(self, key: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._table.get_item(
            Key={TABLE_PARTITION_KEY: CONTEXT_PREFIX + key}, ConsistentRead=self._consistent
        ).get("Item")
        return found

    def put(self, key: str, text: str, expires_at: int | None = None) -> None:
        """`expires_at` (epoch seconds): when the entry may go; default a day from now."""
        if expires_at is None:
            expires_at = int(self._clock()) + TTL_SECONDS
        # Compressed: a write unit per started KB, and a diff is mostly repeated text.
        self._table.put_item(
            Item={
                TABLE_PARTITION_KEY: CONTEXT_PREFIX + key,
                "text_z": pack(text.encode()),
                TABLE_TTL_ATTRIBUTE: expires_at,
            }
        )
