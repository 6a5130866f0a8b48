"""Fetched context cached in the events table: compressed, read back whole, gone at its TTL."""

from __future__ import annotations

import boto3

from hookwise.adapters.context_cache import CONTEXT_PREFIX, TTL_SECONDS, DynamoDBContextCache
from hookwise.resources import TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE
from tests.conftest import Aws

DIFF = "".join(
    f"### src/module_{n}.py\n@@ -1,3 +1,4 @@\n def handler(event):\n+    validate(event)\n"
    for n in range(200)
)


def test_cached_text_reads_back_whole_and_is_stored_compressed(aws: Aws) -> None:
    cache = DynamoDBContextCache(aws.settings.table, clock=lambda: 1_000.0)
    cache.put("pr-1", DIFF)
    assert cache.get("pr-1") == DIFF
    item = (
        boto3.resource("dynamodb")
        .Table(aws.settings.table)
        .get_item(Key={TABLE_PARTITION_KEY: CONTEXT_PREFIX + "pr-1"})["Item"]
    )
    assert "text" not in item
    assert len(bytes(item["text_z"].value)) < len(DIFF.encode()) / 4


def test_an_expired_entry_is_a_miss_and_an_uncompressed_one_still_reads(aws: Aws) -> None:
    clock = [1_000.0]
    cache = DynamoDBContextCache(aws.settings.table, clock=lambda: clock[0])
    cache.put("pr-2", DIFF)
    clock[0] += TTL_SECONDS + 1
    assert cache.get("pr-2") is None
    boto3.resource("dynamodb").Table(aws.settings.table).put_item(
        Item={
            TABLE_PARTITION_KEY: CONTEXT_PREFIX + "pr-3",
            "text": "written before compression",
            TABLE_TTL_ATTRIBUTE: int(clock[0]) + 60,
        }
    )
    assert cache.get("pr-3") == "written before compression"
