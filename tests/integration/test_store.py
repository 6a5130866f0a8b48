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
from hookwise.adapters.store.base import EventQuery
from hookwise.adapters.store.body_codec import COMPRESSION_LEVEL, unpack
from hookwise.adapters.store.compressed_blobs import CompressedBlobStore
from hookwise.adapters.store.dynamodb import (
    EARLIEST,
    SUBJECT_MEMORY_BYTES,
    DynamoDBEventStore,
    state_key,
)
from hookwise.domain.events import EventRecord, EventStatus, Usage
from hookwise.resources import STATUS_INDEX, TABLE_PARTITION_KEY
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


# -- listings (`find`) ----------------------------------------------------------------------

EVERYTHING = EventQuery(since=EARLIEST, until="9999")


def arrivals(store: DynamoDBEventStore, count: int, source: str = "github") -> list[str]:
    """`count` events a minute apart (oldest first), each claimed; their ids."""
    ids = []
    for n in range(count):
        event_id = f"evt_{source}_{n:03d}"
        store.put_new(
            record(event_id, f"2026-11-23T04:{n:02d}:00.000Z", source=source),
            dispatch_lease_until=0.0,
        )
        ids.append(event_id)
    return ids


def finish(store: DynamoDBEventStore, event_id: str, status: EventStatus, route: str) -> None:
    store.claim(event_id, now=1.0, lease_until=2.0)
    store.transition(
        event_id,
        from_statuses=[EventStatus.PROCESSING],
        to_status=status,
        updates={"route": route},
    )


def every_page(store: DynamoDBEventStore, query: EventQuery, limit: int) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = store.find(query, limit, after)
        pages.append([found.event_id for found in page.records])
        if page.after is None:
            return pages
        after = page.after


def test_find_pages_through_every_event_newest_first(store: DynamoDBEventStore) -> None:
    ids = arrivals(store, 7)
    pages = every_page(store, EVERYTHING, 3)
    assert [i for page in pages for i in page] == ids[::-1]
    assert [len(page) for page in pages[:2]] == [3, 3]


def test_find_keeps_to_the_time_range(store: DynamoDBEventStore) -> None:
    ids = arrivals(store, 6)
    window = EventQuery(since="2026-11-23T04:02:00.000Z", until="2026-11-23T04:04:00.000Z")
    assert [r.event_id for r in store.find(window, 10).records] == ids[4:1:-1]


def test_find_by_status_and_route_reads_the_status_index(
    aws: Aws, store: DynamoDBEventStore
) -> None:
    ids = arrivals(store, 6)
    finish(store, ids[0], EventStatus.FAILED, "review")
    finish(store, ids[1], EventStatus.COMPLETED, "review")
    finish(store, ids[3], EventStatus.FAILED, "triage")
    finish(store, ids[4], EventStatus.FAILED, "review")
    failed = EventQuery(since=EARLIEST, until="9999", status=EventStatus.FAILED)
    assert [r.event_id for r in store.find(failed, 10).records] == [ids[4], ids[3], ids[0]]
    review = EventQuery(since=EARLIEST, until="9999", status=EventStatus.FAILED, route="review")
    assert every_page(store, review, 1) == [[ids[4]], [ids[0]], []]
    received = EventQuery(since=EARLIEST, until="9999", status=EventStatus.RECEIVED)
    assert [r.event_id for r in store.find(received, 10).records] == [ids[5], ids[2]]
    # The index holds state items only: one per event a worker claimed.
    index = boto3.client("dynamodb").scan(TableName=aws.settings.table, IndexName=STATUS_INDEX)
    assert sorted(item["event_id"]["S"] for item in index["Items"]) == sorted(
        state_key(i) for i in (ids[0], ids[1], ids[3], ids[4])
    )


def test_find_by_route_or_source_without_a_status(store: DynamoDBEventStore) -> None:
    github = arrivals(store, 3)
    stripe = arrivals(store, 2, source="stripe")
    finish(store, github[1], EventStatus.COMPLETED, "review")
    by_route = EventQuery(since=EARLIEST, until="9999", route="review")
    assert [r.event_id for r in store.find(by_route, 10).records] == [github[1]]
    by_source = EventQuery(since=EARLIEST, until="9999", source="stripe")
    assert [r.event_id for r in store.find(by_source, 10).records] == stripe[::-1]


def test_find_reads_a_bounded_number_of_events_and_says_where_to_go_on(
    store: DynamoDBEventStore,
) -> None:
    ids = arrivals(store, 8)
    finish(store, ids[0], EventStatus.COMPLETED, "review")
    query = EventQuery(since=EARLIEST, until="9999", route="review")
    first = store.find(query, 5, max_read=4)
    assert first.records == []
    assert first.after is not None
    assert [r.event_id for r in store.find(query, 5, first.after).records] == [ids[0]]


def test_find_refuses_a_position_it_did_not_give(store: DynamoDBEventStore) -> None:
    with pytest.raises(ValueError, match="listing position"):
        store.find(EVERYTHING, 5, after="bm90IGEga2V5")


def test_the_status_index_costs_a_write_per_status_entered_and_left(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What README "Where an event's bytes go" counts for the console's index: a plain event
    (claimed, completed, its action recorded) writes 3 index units to it, and 1 to by-pending."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.session.Session())
    meter = capacity.CapacityMeter()
    meter.attach(boto3.DEFAULT_SESSION.events)
    store = DynamoDBEventStore(aws.settings.table)
    store.put_new(record(), dispatch_lease_until=0.0)
    finish(store, "evt_1", EventStatus.COMPLETED, "review")
    store.transition(
        "evt_1",
        from_statuses=[EventStatus.COMPLETED],
        to_status=EventStatus.COMPLETED,
        updates={"actions": {"github.comment": {"status": "done"}}},
    )
    assert [c.index_write_units for c in meter.calls if c.write_units] == [1, 1, 2, 0]


def test_listed_records_leave_the_result_actions_and_headers_to_get(
    store: DynamoDBEventStore,
) -> None:
    store.put_new(
        EventRecord(
            event_id="evt_1", source="github", event_type="push",
            received_at="2026-11-23T04:00:00.000Z", updated_at="2026-11-23T04:00:00.000Z",
            headers={"x-github-event": "push"}, body=PR_BODY,
        ),
        dispatch_lease_until=0.0,
    )  # fmt: skip
    store.claim("evt_1", now=1.0, lease_until=2.0)
    usage = {"input_tokens": 10, "output_tokens": 2, "cost_usd": 0.01}
    store.transition(
        "evt_1",
        from_statuses=[EventStatus.PROCESSING],
        to_status=EventStatus.COMPLETED,
        updates={"route": "review", "result": {"summary": "ok"}, "usage": usage,
                 "actions": {"github.comment": {"status": "done"}}},
    )  # fmt: skip
    [listed] = store.find(EVERYTHING, 5).records
    assert (listed.status, listed.route, listed.body) == (EventStatus.COMPLETED, "review", PR_BODY)
    assert listed.usage == Usage(input_tokens=10, output_tokens=2, cost_usd=0.01)
    assert (listed.result, listed.actions, listed.headers) == (None, None, {})
    whole = store.get("evt_1")
    assert whole is not None
    assert whole.result == {"summary": "ok"}
    assert whole.headers == {"x-github-event": "push"}
