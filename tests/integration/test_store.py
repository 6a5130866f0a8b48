"""The DynamoDB event store: every transition is conditional, so no event is handled twice, and
no transition rewrites the body, which is written once."""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

import boto3
import pytest

from bench import capacity
from hookwise.adapters.blobs.s3 import S3BlobStore
from hookwise.adapters.store import TransitionConflict
from hookwise.adapters.store.body_codec import COMPRESSION_LEVEL, unpack
from hookwise.adapters.store.compressed_blobs import CompressedBlobStore
from hookwise.adapters.store.dynamodb import (
    EARLIEST,
    SUBJECT_MEMORY_BYTES,
    DynamoDBEventStore,
    state_key,
)
from hookwise.domain.events import EventRecord, EventStatus, Usage
from hookwise.resources import TABLE_PARTITION_KEY
from tests.conftest import ROOT, Aws

# The project's own samples: CI runs on a bare clone.
SAMPLES = ROOT / "layers" / "shared" / "hookwise" / "samples"
PR_BODY = (SAMPLES / "github" / "pull_request.opened.json").read_bytes()


def record(
    event_id: str = "evt_1",
    received_at: str = "2026-11-23T04:00:00.000Z",
    body: bytes = b"\x00raw bytes\xff",
    source: str = "github",
) -> EventRecord:
    return EventRecord(
        event_id=event_id,
        source=source,
        event_type="push",
        received_at=received_at,
        updated_at=received_at,
        body=body,
        expires_at=2_000_000_000,
    )


@pytest.fixture
def store(aws: Aws) -> DynamoDBEventStore:
    return DynamoDBEventStore(
        aws.settings.table, blobs=CompressedBlobStore(S3BlobStore(aws.resources.bucket))
    )


def raw_item(aws: Aws, key: str) -> dict[str, Any] | None:
    found = boto3.client("dynamodb").get_item(
        TableName=aws.settings.table, Key={"event_id": {"S": key}}, ConsistentRead=True
    )
    return found.get("Item")


def all_items(aws: Aws) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=aws.settings.table)["Items"]


def test_put_is_conditional_and_keeps_the_exact_body(store: DynamoDBEventStore) -> None:
    assert store.put_new(record(), dispatch_lease_until=10.0)
    assert not store.put_new(record(), dispatch_lease_until=10.0)
    stored = store.get("evt_1")
    assert stored is not None
    assert stored.body == b"\x00raw bytes\xff"
    assert stored.status is EventStatus.RECEIVED
    assert store.status("evt_1") is EventStatus.RECEIVED


def test_the_body_is_stored_compressed_in_the_item(aws: Aws, store: DynamoDBEventStore) -> None:
    store.put_new(record(body=PR_BODY), dispatch_lease_until=0.0)
    item = raw_item(aws, "evt_1")
    assert item is not None
    assert "body" not in item
    assert unpack(item["body_z"]["B"]) == PR_BODY
    assert len(item["body_z"]["B"]) < len(PR_BODY) / 4
    stored = store.get("evt_1")
    assert stored is not None
    assert stored.body == PR_BODY
    # GitHub's dictionary makes the PR's item cost fewer write units than plain zlib did.
    before = {**item, "body_z": {"B": zlib.compress(PR_BODY, COMPRESSION_LEVEL)}}
    assert capacity.write_units(capacity.item_size(item)) < capacity.write_units(
        capacity.item_size(before)
    )


def test_the_dictionary_follows_the_scheme_not_the_sources_name(
    aws: Aws, store: DynamoDBEventStore
) -> None:
    store.put_new(record("evt_a", body=PR_BODY, source="ghe"), 0.0)
    store.put_new(record("evt_b", body=PR_BODY, source="ghe"), 0.0, scheme="github")
    plain, with_dictionary = (raw_item(aws, key) for key in ("evt_a", "evt_b"))
    assert plain is not None
    assert with_dictionary is not None
    assert len(with_dictionary["body_z"]["B"]) < len(plain["body_z"]["B"]) * 0.9
    stored = store.get("evt_b")
    assert stored is not None
    assert stored.body == PR_BODY


def test_an_item_written_before_dictionaries_still_reads(
    aws: Aws, store: DynamoDBEventStore
) -> None:
    store.put_new(record(body=PR_BODY), dispatch_lease_until=0.0)
    boto3.client("dynamodb").update_item(
        TableName=aws.settings.table,
        Key={"event_id": {"S": "evt_1"}},
        UpdateExpression="SET body_z = :plain",
        ExpressionAttributeValues={":plain": {"B": zlib.compress(PR_BODY, COMPRESSION_LEVEL)}},
    )
    stored = store.get("evt_1")
    assert stored is not None
    assert stored.body == PR_BODY


def test_a_body_over_the_inline_limit_goes_to_s3(aws: Aws) -> None:
    store = DynamoDBEventStore(
        aws.settings.table,
        blobs=CompressedBlobStore(S3BlobStore(aws.resources.bucket)),
        inline_body_bytes=1_000,
    )
    store.put_new(record(body=PR_BODY), dispatch_lease_until=0.0)
    stored = store.get("evt_1")
    assert stored is not None
    assert stored.body is None
    assert stored.body_ref is not None
    # Compressed in S3 too, and read back whole through the same wrapper.
    in_s3 = S3BlobStore(aws.resources.bucket).get(stored.body_ref)
    assert len(in_s3) < len(PR_BODY) / 4
    assert CompressedBlobStore(S3BlobStore(aws.resources.bucket)).get(stored.body_ref) == PR_BODY
    item = raw_item(aws, "evt_1")
    assert item is not None
    assert "body_z" not in item


def test_a_refused_put_leaves_the_events_claim_check_body_as_it_was(aws: Aws) -> None:
    """The body goes to S3 before the conditional put: a request refused as a duplicate of an
    event has written already, and must not have written over that event's body."""
    store = DynamoDBEventStore(
        aws.settings.table,
        blobs=CompressedBlobStore(S3BlobStore(aws.resources.bucket)),
        inline_body_bytes=1_000,
    )
    assert store.put_new(record(body=PR_BODY), dispatch_lease_until=0.0)
    other = PR_BODY.replace(b"Payout", b"Refund")
    assert other != PR_BODY
    assert not store.put_new(record(body=other), dispatch_lease_until=0.0)
    stored = store.get("evt_1")
    assert stored is not None
    assert stored.body_ref is not None
    assert CompressedBlobStore(S3BlobStore(aws.resources.bucket)).get(stored.body_ref) == PR_BODY


def test_transitions_never_touch_the_item_that_holds_the_body(
    aws: Aws, store: DynamoDBEventStore
) -> None:
    store.put_new(record(body=PR_BODY), dispatch_lease_until=0.0)
    written = raw_item(aws, "evt_1")
    claimed = store.claim("evt_1", now=1.0, lease_until=2.0)
    assert claimed.body == PR_BODY
    done = store.transition(
        "evt_1",
        from_statuses=[EventStatus.PROCESSING],
        to_status=EventStatus.COMPLETED,
        updates={"result": {"summary": "fine"}},
        remove=["lease_until"],
    )
    assert raw_item(aws, "evt_1") == written
    state = raw_item(aws, state_key("evt_1"))
    assert state is not None
    assert state["status"] == {"S": "completed"}
    assert "body_z" not in state
    # The state item carries what a transition's answer needs, so none re-reads the event.
    assert (done.source, done.event_type) == ("github", "push")
    assert done.received_at == claimed.received_at
    assert done.result == {"summary": "fine"}


def test_dispatch_lease_is_exclusive_until_it_lapses(store: DynamoDBEventStore) -> None:
    store.put_new(record(), dispatch_lease_until=0.0)
    assert store.acquire_dispatch("evt_1", now=5.0, lease_until=10.0)
    assert not store.acquire_dispatch("evt_1", now=6.0, lease_until=20.0)
    assert store.acquire_dispatch("evt_1", now=11.0, lease_until=20.0)
    # A lease alone leaves the event `received`, and claimable.
    assert store.status("evt_1") is EventStatus.RECEIVED
    assert store.claim("evt_1", now=12.0, lease_until=30.0).status is EventStatus.PROCESSING
    assert not store.acquire_dispatch("evt_1", now=40.0, lease_until=50.0)


def test_claim_is_held_by_one_worker_until_its_lease_lapses(store: DynamoDBEventStore) -> None:
    store.put_new(record(), dispatch_lease_until=0.0)
    claimed = store.claim("evt_1", now=100.0, lease_until=200.0)
    assert claimed.status is EventStatus.PROCESSING
    assert claimed.attempts == 1
    with pytest.raises(TransitionConflict):
        store.claim("evt_1", now=150.0, lease_until=250.0)
    # A worker that died mid-record: its lease lapses and the redelivered message takes over.
    assert store.claim("evt_1", now=201.0, lease_until=300.0).attempts == 2


def test_an_unknown_event_cannot_be_claimed_and_leaves_nothing(
    aws: Aws, store: DynamoDBEventStore
) -> None:
    with pytest.raises(TransitionConflict):
        store.claim("evt_unknown", now=1.0, lease_until=2.0)
    assert all_items(aws) == []


def test_prefetched_events_are_claimed_without_a_read_each(
    aws: Aws, store: DynamoDBEventStore
) -> None:
    for index in range(3):
        store.put_new(record(f"evt_{index}"), dispatch_lease_until=0.0)
    store.prefetch(["evt_0", "evt_1", "evt_2", "evt_missing"])
    reads: list[str] = []
    store.client.meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append(params["Key"])
    )
    claimed = [store.claim(f"evt_{index}", now=1.0, lease_until=2.0) for index in range(3)]
    assert [r.body for r in claimed] == [b"\x00raw bytes\xff"] * 3
    assert reads == []
    # Taken once: a second claim (after the lease) reads the event again.
    store.claim("evt_0", now=3.0, lease_until=4.0)
    assert len(reads) == 1


def test_final_events_cannot_be_claimed_or_reopened(store: DynamoDBEventStore) -> None:
    store.put_new(record(), dispatch_lease_until=0.0)
    store.claim("evt_1", now=1.0, lease_until=2.0)
    done = store.transition(
        "evt_1",
        from_statuses=[EventStatus.PROCESSING],
        to_status=EventStatus.COMPLETED,
        updates={
            "result": {"summary": "done", "score": 0.5},
            "usage": Usage(input_tokens=10, cost_usd=0.25).as_dict(),
        },
        increment={"failures": 0},
    )
    assert done.result == {"summary": "done", "score": 0.5}
    assert done.usage is not None
    assert done.usage.cost_usd == 0.25
    assert store.status("evt_1") is EventStatus.COMPLETED
    with pytest.raises(TransitionConflict):
        store.claim("evt_1", now=10.0, lease_until=20.0)
    with pytest.raises(TransitionConflict):
        store.transition(
            "evt_1", from_statuses=[EventStatus.PROCESSING], to_status=EventStatus.FAILED
        )
    with pytest.raises(TransitionConflict):
        store.transition(
            "evt_unknown", from_statuses=[EventStatus.QUEUED], to_status=EventStatus.PROCESSING
        )


def test_pending_lists_only_unclaimed_events_in_the_range(store: DynamoDBEventStore) -> None:
    store.put_new(record("evt_old", "2026-11-23T04:00:00.000Z"), dispatch_lease_until=0.0)
    store.put_new(record("evt_new", "2026-11-23T05:00:00.000Z"), dispatch_lease_until=0.0)
    store.put_new(record("evt_claimed", "2026-11-23T03:00:00.000Z"), dispatch_lease_until=0.0)
    store.put_new(record("evt_older", "2026-11-23T01:00:00.000Z"), dispatch_lease_until=0.0)
    store.claim("evt_claimed", now=1.0, lease_until=2.0)
    stuck, resume = store.pending_between(
        "2026-11-23T02:00:00.000Z", "2026-11-23T04:30:00.000Z", limit=10
    )
    assert [r.event_id for r in stuck] == ["evt_old"]
    assert resume is None
    store.put_new(record("evt_old2", "2026-11-23T04:10:00.000Z"), dispatch_lease_until=0.0)
    stuck, resume = store.pending_between(EARLIEST, "2026-11-23T04:30:00.000Z", limit=2)
    assert [r.event_id for r in stuck] == ["evt_older", "evt_old"]
    assert resume == "2026-11-23T04:10:00.000Z"
    assert store.sweep_checkpoint() is None
    store.save_sweep_checkpoint("2026-11-23T04:05:00.000Z")
    assert store.sweep_checkpoint() == "2026-11-23T04:05:00.000Z"
    assert [r.event_id for r in store.list_pending("2026-11-23T06:00:00.000Z", 10)] == [
        "evt_old2",
        "evt_new",
    ]


def test_recent_events_newest_first(store: DynamoDBEventStore) -> None:
    for index in range(3):
        store.put_new(record(f"evt_{index}", f"2026-11-23T0{index}:00:00.000Z"), 0.0)
    store.claim("evt_2", now=1.0, lease_until=2.0)
    recent = store.list_recent(2)
    assert [r.event_id for r in recent] == ["evt_2", "evt_1"]
    assert [r.status for r in recent] == [EventStatus.PROCESSING, EventStatus.RECEIVED]


def test_subject_memory_keeps_the_newest_entries_within_its_bound(
    aws: Aws, store: DynamoDBEventStore
) -> None:
    assert store.recall("route", "repo#1") == []
    for index in range(8):
        # Hex digests: text that compresses about as little as a model's prose.
        summary = "".join(hashlib.sha256(f"{index}/{i}".encode()).hexdigest() for i in range(8))
        store.remember("route", "repo#1", {"n": index, "summary": summary}, keep=5, expires_at=9)
    history = store.recall("route", "repo#1")
    assert 1 <= len(history) < 5  # the bytes bound bites before the count does
    assert history[-1]["n"] == 7
    assert [entry["n"] for entry in history] == list(range(8 - len(history), 8))
    (item,) = all_items(aws)
    assert len(item["history_z"]["B"]) <= SUBJECT_MEMORY_BYTES
    for index in range(3):
        store.remember("route", "repo#2", {"n": index}, keep=2, expires_at=9)
    assert store.recall("route", "repo#2") == [{"n": 1}, {"n": 2}]


def test_every_item_written_expires(aws: Aws, store: DynamoDBEventStore) -> None:
    store.put_new(record("evt_a"), dispatch_lease_until=0.0)
    store.put_new(record("evt_b"), dispatch_lease_until=0.0)
    store.claim("evt_a", now=1.0, lease_until=2.0)
    store.acquire_dispatch("evt_b", now=1.0, lease_until=2.0)
    store.remember("route", "repo#1", {"n": 1}, keep=2, expires_at=9)
    store.save_sweep_checkpoint("2026-11-23T04:05:00.000Z")
    items = all_items(aws)
    assert len(items) == 6
    assert all("expires_at" in item for item in items)


def test_remembering_after_recalling_reads_once_and_keeps_every_entry_of_this_process(
    aws: Aws, store: DynamoDBEventStore
) -> None:
    reads: list[str] = []
    store.client.meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append("get")
    )
    # Two events of one subject in one batch: both recall before their model calls.
    assert store.recall("route", "repo#1") == store.recall("route", "repo#1") == []
    store.remember("route", "repo#1", {"n": 1}, keep=3, expires_at=9)
    store.remember("route", "repo#1", {"n": 2}, keep=3, expires_at=9)
    assert len(reads) == 2
    # Another environment sees both.
    elsewhere = DynamoDBEventStore(aws.settings.table)
    assert elsewhere.recall("route", "repo#1") == [{"n": 1}, {"n": 2}]
    # An environment that never recalled the subject reads it before writing.
    elsewhere_too = DynamoDBEventStore(aws.settings.table)
    elsewhere_too.remember("route", "repo#1", {"n": 3}, keep=3, expires_at=9)
    assert store.recall("route", "repo#1") == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_memory_read_ahead_for_a_batch_spares_each_recall_its_read_once(
    aws: Aws, store: DynamoDBEventStore
) -> None:
    DynamoDBEventStore(aws.settings.table).remember(
        "route", "repo#1", {"n": 1}, keep=3, expires_at=9
    )
    batched: list[str] = []
    reads: list[str] = []
    store.client.meta.events.register(
        "provide-client-params.dynamodb.BatchGetItem", lambda params, **_: batched.append("b")
    )
    store.client.meta.events.register(
        "provide-client-params.dynamodb.GetItem", lambda params, **_: reads.append("get")
    )
    store.prefetch_memory([("route", "repo#1"), ("route", "repo#2")])
    assert store.recall("route", "repo#1") == [{"n": 1}]
    assert store.recall("route", "repo#2") == []
    assert (batched, reads) == (["b"], [])
    # Taken once: another event of the subject in the batch reads what is there now.
    DynamoDBEventStore(aws.settings.table).remember(
        "route", "repo#1", {"n": 2}, keep=3, expires_at=9
    )
    assert store.recall("route", "repo#1") == [{"n": 1}, {"n": 2}]
    assert reads == ["get"]


def test_a_new_batch_drops_the_memory_an_earlier_one_read_ahead_and_left(
    aws: Aws, store: DynamoDBEventStore
) -> None:
    store.prefetch_memory([("route", "repo#1")])
    DynamoDBEventStore(aws.settings.table).remember(
        "route", "repo#1", {"n": 1}, keep=3, expires_at=9
    )
    store.prefetch_memory([])
    assert store.recall("route", "repo#1") == [{"n": 1}]


def test_recorded_actions_are_read_from_the_state_item_alone(
    store: DynamoDBEventStore,
) -> None:
    store.put_new(record(), dispatch_lease_until=0.0)
    assert store.recorded_actions("evt_1") == {}
    store.claim("evt_1", now=1.0, lease_until=2.0)
    store.transition(
        "evt_1", from_statuses=[EventStatus.PROCESSING], to_status=EventStatus.COMPLETED
    )
    done = {"github.comment": {"status": "done", "id": 7}}
    store.transition(
        "evt_1",
        from_statuses=[EventStatus.COMPLETED],
        to_status=EventStatus.COMPLETED,
        updates={"actions": done},
    )
    reads: list[dict[str, Any]] = []
    store.client.meta.events.register(
        "provide-client-params.dynamodb", lambda params, **_: reads.append(params)
    )
    assert store.recorded_actions("evt_1") == done
    assert store.recorded_actions("evt_unknown") == {}
    assert [r["Key"][TABLE_PARTITION_KEY]["S"] for r in reads] == [
        "evt_1#state",
        "evt_unknown#state",
    ]


def test_a_body_stored_in_s3_before_compression_still_reads(aws: Aws) -> None:
    S3BlobStore(aws.resources.bucket).put("bodies/github/evt_old", PR_BODY)
    assert CompressedBlobStore(S3BlobStore(aws.resources.bucket)).get("bodies/github/evt_old") == (
        PR_BODY
    )
