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


def test_a_batch_read_ahead_answers_its_gets_without_a_read_each(aws: Aws) -> None:
    clock = [1_000.0]
    resource = boto3.resource("dynamodb")
    cache = DynamoDBContextCache(aws.settings.table, resource, clock=lambda: clock[0])
    cache.put("pr-1", DIFF)
    cache.put("pr-old", "stale")
    reads: list[str] = []
    resource.meta.client.meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append("get")
    )
    cache.prefetch(["pr-1", "pr-missing", "pr-old"])
    clock[0] += 1
    assert cache.get("pr-1") == DIFF
    assert cache.get("pr-missing") is None
    assert reads == []
    # Taken once; and an entry read ahead is still judged by its TTL when it is used.
    assert cache.get("pr-1") == DIFF
    assert reads == ["get"]
    clock[0] += TTL_SECONDS
    assert cache.get("pr-old") is None
