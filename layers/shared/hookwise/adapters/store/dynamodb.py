"""EventStore on DynamoDB: the body written once, every transition on a small state item.

Two items per event, so that no status change is billed for the body (DynamoDB bills an update
on the larger of the item before and after it):

- the event item (`evt_...`), written once by ingest with a conditional put and never updated:
  source, type, arrival, kept headers and the body, zlib-compressed, or an S3 key for bodies
  whose compressed size passes `inline_body_bytes` (claim check, compressed there too);
- the state item (`evt_...#state`), created by the first transition (the worker's claim, or the
  sweeper's dispatch lease): status, attempts, lease, result, usage... It copies the event's
  source, type and arrival at the claim, so a transition returns a whole record without
  reading the event item again. No state item means `received`.

The sweeper finds events that never reached a worker through the `by-pending` index over event
items (keys only), reading from a checkpoint, so each event's state is looked at once. Listings
(`find`) read that index newest first, or, for a status, the `by-status` index over state items.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import zlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from hookwise.adapters.batch_get import batch_get
from hookwise.adapters.conditions import refused_by_condition
from hookwise.adapters.read_ahead import ReadAhead
from hookwise.adapters.store.base import EventPage, EventQuery, EventStore, TransitionConflict
from hookwise.adapters.store.body_codec import COMPRESSION_LEVEL, pack, unpack
from hookwise.adapters.store.compressed_blobs import CompressedBlobStore
from hookwise.domain.events import EventRecord, EventStatus, isoformat, utcnow
from hookwise.resources import (
    PAYLOAD_KEY_PREFIX,
    STATUS_INDEX,
    STATUS_INDEX_PARTITION_KEY,
    STUCK_INDEX,
    STUCK_INDEX_PARTITION_KEY,
    STUCK_INDEX_SORT_KEY,
    TABLE_PARTITION_KEY,
    TABLE_TTL_ATTRIBUTE,
)

STATE_SUFFIX = "#state"
# Subject memory shares the table; its keys cannot collide with event ids (`evt_...`).
SUBJECT_PREFIX = "subject#"
SWEEP_CHECKPOINT_KEY = "sweeper#checkpoint"
# Every event item carries it: the index is how the sweeper reads events by arrival time.
PENDING = "1"
# Sorts before any ISO 8601 time (a key condition may not hold an empty string).
EARLIEST = "0"
# Bodies whose zlib-compressed size is at most this stay in the event item; larger ones go to
# S3. Per million events, S3 costs $5.00 (PUT) + $0.40 (GET) whatever the size; keeping a body
# in DynamoDB costs, per compressed KB, one write unit ($0.625), a quarter of a strongly
# consistent read unit ($0.03) and a month of storage under the 30-day TTL ($0.24): about
# $0.90 per KB. Break-even: 5.40 / 0.90 = 6 KB. An S3 body also adds a third call to ingest.
INLINE_BODY_BYTES = 6 * 1024
# Subject memory is a hint for the model: at most this many compressed bytes, so that
# remembering stays one write unit (oldest entries give way first).
SUBJECT_MEMORY_BYTES = 900
# Subjects whose memory a process keeps at hand (a few KB each at most).
KNOWN_SUBJECTS = 256
# Attributes of the event item that are the store's business, not the record's.
# What the event item keeps of a record, beside the body; the rest lives on the state item.
EVENT_ITEM_FIELDS = (
    "event_id",
    "source",
    "event_type",
    "received_at",
    "delivery_id",
    "headers",
    "body_ref",
    TABLE_TTL_ATTRIBUTE,
)
EVENT_INTERNAL = frozenset({STUCK_INDEX_PARTITION_KEY, "body_z"})
STATE_INTERNAL = frozenset({TABLE_PARTITION_KEY, "lease_until", "dispatch_lease_until"})
# Copied onto the state item at the claim, so a transition answers with a whole record.
STATE_COPIES = ("source", "event_type", "received_at", TABLE_TTL_ATTRIBUTE)
_INDEX_KEY_NAMES = frozenset(
    {TABLE_PARTITION_KEY, STUCK_INDEX_PARTITION_KEY, STATUS_INDEX_PARTITION_KEY, "received_at"}
)
# A state item lacking the copies (created by the sweeper's lease) expires after this.
DEFAULT_TTL_SECONDS = 30 * 86_400
# Index entries a listing reads per request when filters may leave most of them out.
FIND_PAGE = 100
# What a listing's records hold: a row's fields and the body (what it is about), not the
# result, the actions' outcomes or the headers, which `get` reads.
LISTED_FIELDS = (
    TABLE_PARTITION_KEY,
    *(name for name in EVENT_ITEM_FIELDS if name not in ("event_id", "headers")),
    "body_z",
    "status",
    "attempts",
    "failures",
    "updated_at",
    "route",
    "model",
    "usage",
    "latency_ms",
    "error",
    "redrive_count",
    "defer_reason",
    "deferred_until",
    "mode",
    "batch_id",
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


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


def _wire(value: Any) -> dict[str, Any]:
    return dict(_serializer.serialize(_to_dynamo(value)))


def _item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _wire(value) for name, value in values.items() if value is not None}


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _from_dynamo(_deserializer.deserialize(value)) for name, value in item.items()}


def _may_match(query: EventQuery, state: Mapping[str, Any] | None) -> bool:
    """What a state item alone says of a listing's filters (no state item: `received`)."""
    known = dict(state or {})
    known.setdefault("status", EventStatus.RECEIVED.value)
    wanted = {
        "status": query.status.value if query.status is not None else None,
        "route": query.route,
        "source": query.source,
        "event_type": query.event_type,
    }
    # Source and type are copied onto it at the claim: before, they are unknown here.
    unknown = {name for name in STATE_COPIES if name not in known}
    return all(
        value is None or name in unknown or known.get(name) == value
        for name, value in wanted.items()
    )


def _after(key: Mapping[str, Any]) -> str:
    """A page's resume point (the index key of its last entry), opaque to callers."""
    wanted = {name: str(key[name]) for name in key if name in _INDEX_KEY_NAMES}
    return base64.urlsafe_b64encode(json.dumps(wanted).encode()).decode()


def _start_key(after: str, partition_name: str) -> dict[str, Any]:
    """The ExclusiveStartKey an `after` stands for; ValueError for anything else."""
    try:
        key = json.loads(base64.urlsafe_b64decode(after.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a listing position") from None
    expected = {TABLE_PARTITION_KEY, partition_name, STUCK_INDEX_SORT_KEY}
    if (
        not isinstance(key, dict)
        or set(key) != expected
        or not all(isinstance(value, str) for value in key.values())
    ):
        raise ValueError("not a listing position for this filter")
    return _item(key)


def state_key(event_id: str) -> str:
    return event_id + STATE_SUFFIX


def body_ref(record: EventRecord, packed: bytes) -> str:
    """Where a claim-check body goes: written before the conditional put, so a request refused
    as a duplicate has written already. Named by the bytes' digest too, it can only write the
    same bytes again or an object of its own, never over another event's body. Nothing refers
    to such an orphan: the bucket's lifecycle rule expires it with the bodies (ingest is granted
    put only, and a duplicate's answer would wait on a delete)."""
    digest = hashlib.sha256(packed).hexdigest()
    return f"{PAYLOAD_KEY_PREFIX}{record.source}/{record.event_id}/{digest}"


def _key(key: str) -> dict[str, Any]:
    return {TABLE_PARTITION_KEY: {"S": key}}


class DynamoDBEventStore(EventStore):
    def __init__(
        self,
        table_name: str,
        client: Any = None,
        *,
        blobs: CompressedBlobStore | None = None,
        inline_body_bytes: int = INLINE_BODY_BYTES,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
    ) -> None:
        self.client = client or boto3.client("dynamodb")
        self.table_name = table_name
        self._blobs = blobs
        self._inline_body_bytes = inline_body_bytes
        self._ttl_seconds = ttl_seconds
        # Event items never change once written: a batch reads them together ahead of the
        # claims (`prefetch`), and each claim takes its own. Only the latest batch's are kept.
        self._prefetched: dict[str, dict[str, Any]] = {}
        self._prefetch_lock = threading.Lock()
        # Subject memory this process last read or wrote, newest last, KNOWN_SUBJECTS at most.
        self._memory: dict[str, list[dict[str, Any]]] = {}
        # Subject memory items read ahead for the current batch (`prefetch_memory`).
        self._memory_ahead = ReadAhead()
        self._memory_lock = threading.Lock()

    # -- records ---------------------------------------------------------------------------

    @staticmethod
    def _merge(event: Mapping[str, Any], state: Mapping[str, Any] | None) -> EventRecord:
        data = {name: value for name, value in event.items() if name not in EVENT_INTERNAL}
        if "body_z" in event:
            data["body"] = unpack(event["body_z"])
        data["status"] = EventStatus.RECEIVED.value
        data["updated_at"] = event["received_at"]
        if state:
            data.update((k, v) for k, v in state.items() if k not in STATE_INTERNAL)
        return EventRecord.from_fields(data)

    def _from_state(self, event_id: str, state: Mapping[str, Any]) -> EventRecord:
        if all(name in state for name in STATE_COPIES[:3]):
            fields = {k: v for k, v in state.items() if k not in STATE_INTERNAL}
            return EventRecord.from_fields({"event_id": event_id, **fields})
        event = self._event_item(event_id)
        if event is None:
            raise TransitionConflict(event_id)
        return self._merge(event, state)

    def _event_item(self, event_id: str) -> dict[str, Any] | None:
        found = self.client.get_item(
            TableName=self.table_name, Key=_key(event_id), ConsistentRead=True
        ).get("Item")
        return _plain(found) if found else None

    def _batch_get(
        self, keys: Iterable[str], consistent: bool = True, attributes: Sequence[str] = ()
    ) -> dict[str, dict[str, Any]]:
        found = batch_get(
            self.client,
            self.table_name,
            [_key(key) for key in dict.fromkeys(keys)],
            consistent=consistent,
            attributes=attributes,
        )
        return {(item := _plain(raw))[TABLE_PARTITION_KEY]: item for raw in found}

    # -- ingest ----------------------------------------------------------------------------

    def put_new(
        self, record: EventRecord, dispatch_lease_until: float, scheme: str | None = None
    ) -> bool:
        """The one write of ingest. The lease is not stored: a duplicate delivery that finds
        the event still `received` sends it again (the worker's claim makes that harmless),
        and the sweeper takes its own lease on the state item."""
        fields = {
            name: value
            for name in EVENT_ITEM_FIELDS
            if (value := getattr(record, name)) is not None and value != {}
        }
        fields[STUCK_INDEX_PARTITION_KEY] = PENDING
        if record.body is not None:
            # The provider's dictionary: a source named `github-enterprise` is GitHub too.
            packed = pack(record.body, scheme or record.source)
            if len(packed) > self._inline_body_bytes and self._blobs is not None:
                fields["body_ref"] = body_ref(record, packed)
                self._blobs.put_packed(fields["body_ref"], packed)
            else:
                fields["body_z"] = packed
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=_item(fields),
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": TABLE_PARTITION_KEY},
            )
        except ClientError as error:
            if refused_by_condition(error):
                return False
            raise
        return True

    def status(self, event_id: str) -> EventStatus:
        """The status of an event known to exist, from its small state item alone."""
        found = self._state_field(event_id, "status")
        return EventStatus(found) if found else EventStatus.RECEIVED

    def recorded_actions(self, event_id: str) -> dict[str, Any]:
        """From the small state item alone: a run waiting on another's lease asks this often."""
        return dict(self._state_field(event_id, "actions") or {})

    def _state_field(self, event_id: str, name: str) -> Any:
        found = self.client.get_item(
            TableName=self.table_name,
            Key=_key(state_key(event_id)),
            ConsistentRead=True,
            ProjectionExpression="#field",
            ExpressionAttributeNames={"#field": name},
        ).get("Item")
        return _plain(found).get(name) if found else None

    # -- reads -----------------------------------------------------------------------------

    def get(self, event_id: str) -> EventRecord | None:
        return self.get_many([event_id]).get(event_id)

    def get_many(self, event_ids: Iterable[str]) -> dict[str, EventRecord]:
        ids = list(dict.fromkeys(event_ids))
        items = self._batch_get([key for i in ids for key in (i, state_key(i))])
        return {
            event_id: self._merge(items[event_id], items.get(state_key(event_id)))
            for event_id in ids
            if event_id in items
        }

    def prefetch(self, event_ids: Iterable[str]) -> list[EventRecord]:
        """Read the event items of a batch in one go, for the claims that follow. Eventually
        consistent (half the units): an item too fresh to be seen is read again, strongly,
        by its claim."""
        items = self._batch_get(event_ids, consistent=False)
        with self._prefetch_lock:
            self._prefetched = items
        return [self._merge(item, None) for item in items.values()]

    def _take_event(self, event_id: str) -> dict[str, Any] | None:
        with self._prefetch_lock:
            event = self._prefetched.pop(event_id, None)
        return event if event is not None else self._event_item(event_id)

    # -- transitions (all on the state item) -----------------------------------------------

    def acquire_dispatch(self, event_id: str, now: float, lease_until: float) -> bool:
        return self._conditional_update(
            Key=_key(state_key(event_id)),
            UpdateExpression="SET #lease = :lease, #ttl = if_not_exists(#ttl, :ttl)",
            ConditionExpression=(
                "(attribute_not_exists(#status) OR #status = :received) "
                "AND (attribute_not_exists(#lease) OR #lease < :now)"
            ),
            ExpressionAttributeNames={
                "#status": "status",
                "#lease": "dispatch_lease_until",
                "#ttl": TABLE_TTL_ATTRIBUTE,
            },
            ExpressionAttributeValues=_item(
                {
                    ":lease": lease_until,
                    ":now": now,
                    ":received": EventStatus.RECEIVED.value,
                    ":ttl": int(now) + self._ttl_seconds,
                }
            ),
        )

    def _conditional_update(self, **request: Any) -> bool:
        """An UpdateItem on the table; False when its condition does not hold."""
        try:
            self.client.update_item(TableName=self.table_name, **request)
        except ClientError as error:
            if refused_by_condition(error):
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
    ) -> EventRecord:
        allowed = list(dict.fromkeys(status.value for status in from_statuses))
        names: dict[str, str] = {"#status": "status", "#updated_at": "updated_at"}
        values: dict[str, Any] = {":to": to_status.value, ":now": isoformat(utcnow())}
        sets = ["#status = :to", "#updated_at = :now"]
        removals = list(remove)
        for index, (name, value) in enumerate((updates or {}).items()):
            if value is None:
                removals.append(name)
                continue
            names[f"#u{index}"] = name
            values[f":u{index}"] = value
            sets.append(f"#u{index} = :u{index}")
        for index, (name, amount) in enumerate((increment or {}).items()):
            names[f"#i{index}"] = name
            values[f":i{index}"] = amount
            values[":zero"] = 0
            sets.append(f"#i{index} = if_not_exists(#i{index}, :zero) + :i{index}")
        status_condition = "#status IN (" + ", ".join(f":f{i}" for i in range(len(allowed))) + ")"
        values.update({f":f{i}": status for i, status in enumerate(allowed)})
        if EventStatus.RECEIVED.value in allowed:
            # No state item (or one holding only a dispatch lease) is `received`; one this
            # transition creates expires like its event.
            status_condition = f"(attribute_not_exists(#status) OR {status_condition})"
            names["#ttl"] = TABLE_TTL_ATTRIBUTE
            values[":ttl"] = int(utcnow().timestamp()) + self._ttl_seconds
            sets.append("#ttl = if_not_exists(#ttl, :ttl)")
        expression = "SET " + ", ".join(sets)
        if removals:
            names.update({f"#r{index}": name for index, name in enumerate(removals)})
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removals)))
        try:
            answer = self.client.update_item(
                TableName=self.table_name,
                Key=_key(state_key(event_id)),
                UpdateExpression=expression,
                ConditionExpression=status_condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_item(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if refused_by_condition(error):
                raise TransitionConflict(event_id) from error
            raise
        return self._from_state(event_id, _plain(answer["Attributes"]))

    def claim(self, event_id: str, now: float, lease_until: float) -> EventRecord:
        event = self._take_event(event_id)
        if event is None:
            raise TransitionConflict(event_id)
        copies = {name: event[name] for name in STATE_COPIES if name in event}
        names = {"#status": "status", "#updated_at": "updated_at"}
        names.update({f"#c{i}": name for i, name in enumerate(copies)})
        values = {
            ":processing": EventStatus.PROCESSING.value,
            ":waiting": EventStatus.QUEUED.value,
            ":received": EventStatus.RECEIVED.value,
            ":deferred": EventStatus.DEFERRED.value,
            ":now_iso": isoformat(utcnow()),
            ":now": now,
            ":lease": lease_until,
            ":zero": 0,
            ":one": 1,
            **{f":c{i}": value for i, value in enumerate(copies.values())},
        }
        sets = [
            "#status = :processing",
            "#updated_at = :now_iso",
            "lease_until = :lease",
            "attempts = if_not_exists(attempts, :zero) + :one",
            *(f"#c{i} = :c{i}" for i in range(len(copies))),
        ]
        try:
            answer = self.client.update_item(
                TableName=self.table_name,
                Key=_key(state_key(event_id)),
                UpdateExpression="SET " + ", ".join(sets) + " REMOVE dispatch_lease_until",
                ConditionExpression=(
                    "attribute_not_exists(#status) OR #status IN (:waiting, :received, :deferred) "
                    "OR (#status = :processing AND lease_until < :now)"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_item(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if refused_by_condition(error):
                raise TransitionConflict(event_id) from error
            raise
        return self._merge(event, _plain(answer["Attributes"]))

    # -- listings --------------------------------------------------------------------------

    def extend_lease(self, event_id: str, lease_until: float) -> bool:
        return self._conditional_update(
            Key=_key(state_key(event_id)),
            UpdateExpression="SET lease_until = :lease",
            ConditionExpression="#status = :processing",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=_item(
                {":lease": lease_until, ":processing": EventStatus.PROCESSING.value}
            ),
        )

    def list_recent(self, limit: int) -> list[EventRecord]:
        # A scan serves the CLI's "recent events" on a modest table; it is not a hot path.
        items: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {}
        while True:
            page = self.client.scan(
                TableName=self.table_name,
                FilterExpression="begins_with(#id, :prefix)",
                ExpressionAttributeNames={"#id": TABLE_PARTITION_KEY},
                ExpressionAttributeValues={":prefix": {"S": "evt_"}},
                **kwargs,
            )
            for raw in page.get("Items", []):
                item = _plain(raw)
                items[item[TABLE_PARTITION_KEY]] = item
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        records = [
            self._merge(item, items.get(state_key(key)))
            for key, item in items.items()
            if not key.endswith(STATE_SUFFIX)
        ]
        records.sort(key=lambda record: record.received_at, reverse=True)
        return records[:limit]

    def find(
        self, query: EventQuery, limit: int, after: str | None = None, max_read: int = 1000
    ) -> EventPage:
        """Newest first from an index: `by-status` for a status a worker wrote (its filter
        expression drops other routes, sources and types before they are read), `by-pending`
        (every event) otherwise, then the page's items read together."""
        if query.status is not None and query.status is not EventStatus.RECEIVED:
            index, partition = STATUS_INDEX, (STATUS_INDEX_PARTITION_KEY, query.status.value)
        else:
            index, partition = STUCK_INDEX, (STUCK_INDEX_PARTITION_KEY, PENDING)
        names = {"#p": partition[0], "#at": STUCK_INDEX_SORT_KEY}
        values: dict[str, Any] = {":p": partition[1], ":since": query.since, ":until": query.until}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#p = :p AND #at BETWEEN :since AND :until",
            "ScanIndexForward": False,
        }
        filters = {
            name: value
            for name in ("route", "source", "event_type")
            if (value := getattr(query, name)) is not None
        }
        if index == STATUS_INDEX and filters:
            names.update({f"#f{i}": name for i, name in enumerate(filters)})
            values.update({f":f{i}": value for i, value in enumerate(filters.values())})
            clauses = (f"#f{i} = :f{i}" for i in range(len(filters)))
            request["FilterExpression"] = " AND ".join(clauses)
        request["ExpressionAttributeNames"] = names
        request["ExpressionAttributeValues"] = _item(values)
        narrow = index == STUCK_INDEX and (filters or query.status is not None)
        start = _start_key(after, partition[0]) if after else None
        found: list[EventRecord] = []
        read = 0
        while True:
            # Unfiltered, the next `limit` entries are the page; filtered, read ahead a little.
            wanted = limit - len(found)
            step = max(wanted, FIND_PAGE) if narrow else wanted
            paged: dict[str, Any] = {**request, "Limit": max(1, min(step, max_read - read))}
            if start:
                paged["ExclusiveStartKey"] = start
            page = self.client.query(**paged)
            read += page.get("ScannedCount", 0)
            entries = [_plain(raw) for raw in page.get("Items", [])]
            ids = [entry[TABLE_PARTITION_KEY].removesuffix(STATE_SUFFIX) for entry in entries]
            records = self._listed(ids, query if narrow else None)
            for entry, event_id in zip(entries, ids, strict=True):
                record = records.get(event_id)
                if record is not None and query.matches(record):
                    found.append(record)
                    if len(found) == limit:
                        return EventPage(found, _after(entry))
            start = page.get("LastEvaluatedKey")
            if start is None:
                return EventPage(found, None)
            if read >= max_read:
                return EventPage(found, _after(_plain(start)))

    def _listed(self, ids: list[str], narrow: EventQuery | None) -> dict[str, EventRecord]:
        """A listing's records (LISTED_FIELDS: no result, actions or headers), eventually
        consistent (half the units). To narrow by filters, the small state items are read
        first, and the event items (bodies) only of those that may match."""
        states: dict[str, dict[str, Any] | None]
        if narrow is None:
            keys = [key for i in ids for key in (i, state_key(i))]
            items = self._batch_get(keys, False, LISTED_FIELDS)
            states = {i: items.get(state_key(i)) for i in ids}
        else:
            found = self._batch_get([state_key(i) for i in ids], False, LISTED_FIELDS)
            states = {i: found.get(state_key(i)) for i in ids}
            ids = [i for i in ids if _may_match(narrow, states[i])]
            items = self._batch_get(ids, False, LISTED_FIELDS) if ids else {}
        return {i: self._merge(items[i], states[i]) for i in ids if i in items}

    def list_pending(self, received_before: str, limit: int) -> list[EventRecord]:
        return self.pending_between(self.sweep_checkpoint() or EARLIEST, received_before, limit)[0]

    def pending_between(
        self, since: str, until: str, limit: int
    ) -> tuple[list[EventRecord], str | None]:
        """Events still `received` that arrived in [since, until], oldest first, at most
        `limit`; and where to resume if the limit cut the range short (else None)."""
        stuck: list[EventRecord] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = self.client.query(
                TableName=self.table_name,
                IndexName=STUCK_INDEX,
                KeyConditionExpression="#pending = :pending AND #at BETWEEN :since AND :until",
                ExpressionAttributeNames={
                    "#pending": STUCK_INDEX_PARTITION_KEY,
                    "#at": STUCK_INDEX_SORT_KEY,
                },
                ExpressionAttributeValues=_item(
                    {":pending": PENDING, ":since": since, ":until": until}
                ),
                **kwargs,
            )
            entries = [_plain(raw) for raw in page.get("Items", [])]
            ids = [entry[TABLE_PARTITION_KEY] for entry in entries]
            # Eventually consistent: a stale answer only means one harmless extra send.
            states = self._batch_get([state_key(i) for i in ids], consistent=False)
            waiting = [
                entry
                for entry in entries
                if states.get(state_key(entry[TABLE_PARTITION_KEY]), {}).get(
                    "status", EventStatus.RECEIVED.value
                )
                == EventStatus.RECEIVED.value
            ]
            for entry in waiting:
                if len(stuck) == limit:
                    return stuck, entry[STUCK_INDEX_SORT_KEY]
                found = self.get(entry[TABLE_PARTITION_KEY])
                if found is not None and found.status is EventStatus.RECEIVED:
                    stuck.append(found)
            if "LastEvaluatedKey" not in page:
                return stuck, None
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def sweep_checkpoint(self) -> str | None:
        """The arrival time up to which every event has been seen queued or re-enqueued."""
        found = self.client.get_item(
            TableName=self.table_name, Key=_key(SWEEP_CHECKPOINT_KEY), ConsistentRead=True
        ).get("Item")
        return str(found[STUCK_INDEX_SORT_KEY]["S"]) if found else None

    def save_sweep_checkpoint(self, received_at: str) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item=_item(
                {
                    TABLE_PARTITION_KEY: SWEEP_CHECKPOINT_KEY,
                    STUCK_INDEX_SORT_KEY: received_at,
                    TABLE_TTL_ATTRIBUTE: int(utcnow().timestamp()) + self._ttl_seconds,
                }
            ),
        )

    # -- subject memory --------------------------------------------------------------------

    @staticmethod
    def _subject_key(route: str, subject: str) -> str:
        # The route in the key: two routes with one subject template keep apart memories. (Keys
        # made before it named the subject alone: such items are never read again, and expire.)
        scoped = json.dumps([route, subject], separators=(",", ":"))
        return SUBJECT_PREFIX + hashlib.sha256(scoped.encode()).hexdigest()[:40]

    def prefetch_memory(self, subjects: Iterable[tuple[str, str]]) -> None:
        """Read these (route, subject) memories in one go, for the recalls of the batch that
        follows (each recall takes its own once). Replaces the previous batch's, read or not."""
        keys = [self._subject_key(route, subject) for route, subject in subjects]
        # Eventually consistent, as `recall` reads.
        self._memory_ahead.replace(keys, self._batch_get(keys, consistent=False) if keys else {})

    def recall(self, route: str, subject: str) -> list[dict[str, Any]]:
        key = self._subject_key(route, subject)
        item = self._memory_ahead.take(key, lambda: self._memory_item(key))
        packed = item.get("history_z") if item else None
        history: list[dict[str, Any]] = (
            json.loads(zlib.decompress(packed)) if packed is not None else []
        )
        self._known_history(key, history)
        return history

    def _memory_item(self, key: str) -> dict[str, Any] | None:
        # Eventually consistent: memory is a hint, and this halves the read.
        found = self.client.get_item(TableName=self.table_name, Key=_key(key)).get("Item")
        return _plain(found) if found else None

    def remember(
        self, route: str, subject: str, entry: dict[str, Any], keep: int, expires_at: int
    ) -> None:
        # The history this process last read or wrote for the subject (the worker recalls it
        # before the model call) spares a second read. Last writer wins on a race between two
        # environments: memory is a hint to the model, not a record, so a lost entry costs
        # nothing but context.
        key = self._subject_key(route, subject)
        with self._memory_lock:
            known = self._memory.get(key)
        if known is None:
            self.recall(route, subject)
        with self._memory_lock:
            history = [*self._memory.get(key, []), entry][-keep:]
            packed, history = self._pack_history(history)
            self._memory[key] = history
        self.client.put_item(
            TableName=self.table_name,
            Item=_item(
                {
                    TABLE_PARTITION_KEY: key,
                    "history_z": packed,
                    TABLE_TTL_ATTRIBUTE: expires_at,
                }
            ),
        )

    def _known_history(self, key: str, history: list[dict[str, Any]]) -> None:
        with self._memory_lock:
            self._memory.pop(key, None)
            self._memory[key] = history
            while len(self._memory) > KNOWN_SUBJECTS:
                del self._memory[next(iter(self._memory))]

    @staticmethod
    def _pack_history(history: list[dict[str, Any]]) -> tuple[bytes, list[dict[str, Any]]]:
        """The newest entries that fit in SUBJECT_MEMORY_BYTES once compressed (at least one,
        however large: a single entry is bounded by the route's output schema)."""
        while True:
            packed = zlib.compress(
                json.dumps(history, separators=(",", ":")).encode(), COMPRESSION_LEVEL
            )
            if len(packed) <= SUBJECT_MEMORY_BYTES or len(history) <= 1:
                return packed, history
            history = history[1:]
