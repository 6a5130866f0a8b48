"""DynamoDB capacity units per event, from the calls the code actually makes.

moto answers `ReturnConsumedCapacity` with a flat 1.0 / 0.5 whatever the item size (checked:
a 5 KB put reports 1.0), so the units are computed here by DynamoDB's documented rules from
the real requests and the items before and after each one:

- item size: the UTF-8 length of each attribute name plus its value (strings: UTF-8 bytes;
  binary: bytes; numbers: 1 byte per two significant digits + 1; booleans and nulls: 1;
  lists and maps: 3 bytes + their elements + 1 byte per element);
- a write (put, update, delete; each item of a batch write) costs one unit per started KB of
  the larger of the item before and after it, at least 1; a conditional write that fails costs
  the same;
- a write that adds, changes or removes an entry of a secondary index also costs one unit per
  KB of that entry (its projected attributes + index keys + table keys + 100 bytes), per entry
  written (an entry whose index keys change is a delete and a put);
- a read costs one unit per started 4 KB of each item read (the whole item, whatever the
  projection), half for an eventually consistent read, at least one (or half) unit even when
  nothing is found; a query sums the entries it reads before rounding up; index queries are
  eventually consistent.

The meter listens on a boto3 session's events (`before-call.dynamodb`, `after-call.dynamodb`),
so it sees the item calls of every client and resource built from that session after it is
attached (a resource calls through a client), on every table. It looks at items through a
client of another session, so its own reads are not counted, and learns each table's keys and
indexes from DescribeTable.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
INDEX_ENTRY_OVERHEAD = 100
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"})
READS = frozenset({"GetItem", "BatchGetItem", "Query"})
TTL = "expires_at"  # hookwise.resources.TABLE_TTL_ATTRIBUTE, on every table of ours
# Where a call's request and the items it writes wait, between before-call and after-call.
PENDING = "capacity_meter"


def number_size(text: str) -> int:
    digits = str(Decimal(text).normalize()).lstrip("-").replace(".", "").lstrip("0") or "0"
    digits = digits.split("E")[0]
    return math.ceil(len(digits) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "B":
        return len(content)
    if kind == "N":
        return number_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(value_size(item) + 1 for item in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(item) + 1 for name, item in content.items())
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: item}) for item in content)
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


@dataclass(frozen=True)
class Index:
    keys: tuple[str, ...]
    # Attributes its entries hold besides the keys; None: all of them (projection ALL).
    projected: tuple[str, ...] | None = ()


@dataclass(frozen=True)
class Table:
    name: str
    keys: tuple[str, ...]
    indexes: Mapping[str, Index] = field(default_factory=dict)

    @classmethod
    def described(cls, table: Mapping[str, Any]) -> Table:
        def names(schema: list[dict[str, str]]) -> tuple[str, ...]:
            return tuple(part["AttributeName"] for part in schema)

        indexes = {}
        for index in [
            *table.get("GlobalSecondaryIndexes", []),
            *table.get("LocalSecondaryIndexes", []),
        ]:
            projection = index["Projection"]
            indexes[index["IndexName"]] = Index(
                names(index["KeySchema"]),
                None
                if projection["ProjectionType"] == "ALL"
                else tuple(projection.get("NonKeyAttributes", [])),
            )
        return cls(table["TableName"], names(table["KeySchema"]), indexes)

    def key(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.keys}

    def label(self, key: Mapping[str, Any]) -> str:
        """The key's values, partition key first: `evt_1#state`, `parked#route/2026-...`."""
        return "/".join(str(next(iter(key[name].values()))) for name in self.keys)


def index_entry(
    table: Table, index: Index, item: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """The entry an item makes in an index, if it has the index's keys."""
    if not item or not all(key in item for key in index.keys):
        return None
    names = item if index.projected is None else (*index.keys, *table.keys, *index.projected)
    return {name: item[name] for name in names if name in item}


def entry_size(entry: Mapping[str, Any]) -> int:
    return item_size(entry) + INDEX_ENTRY_OVERHEAD


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def index_write_units(
    table: Table, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> int:
    """Per index: an entry appears, goes, changes, or moves (a delete and a put)."""
    units = 0
    for index in table.indexes.values():
        old, new = index_entry(table, index, before), index_entry(table, index, after)
        if old == new:
            continue
        if old is None or new is None or any(old[key] != new[key] for key in index.keys):
            units += sum(write_units(entry_size(entry)) for entry in (old, new) if entry)
        else:
            units += write_units(max(entry_size(old), entry_size(new)))
    return units


@dataclass
class Call:
    operation: str
    table: str
    key: str  # the item's key (`Table.label`), or the index or table a query read
    write_units: int = 0
    index_write_units: int = 0
    read_units: float = 0.0
    bytes_before: int = 0
    bytes_after: int = 0
    # The written item's TTL (epoch seconds), if it has one: how long its bytes stay stored.
    expires_at: int | None = None


@dataclass
class CapacityMeter:
    """Records what each DynamoDB item call made through a boto3 session is billed."""

    calls: list[Call] = field(default_factory=list)
    # DynamoDB operations called that it cannot price: figures with any of them are short.
    unmetered: list[str] = field(default_factory=list)
    _observer: Any = field(default_factory=lambda: boto3.session.Session().client("dynamodb"))
    _tables: dict[str, Table] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, events: Any) -> None:
        """Meter the clients built from now on from the session owning `events`
        (`boto3.Session.events`): a client copies its session's handlers when it is built."""
        events.register("before-call.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    def _table(self, name: str) -> Table:
        with self._lock:
            if name not in self._tables:
                described = self._observer.describe_table(TableName=name)["Table"]
                self._tables[name] = Table.described(described)
            return self._tables[name]

    def _look(self, table: Table, key: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self._observer.get_item(TableName=table.name, Key=key, ConsistentRead=True)
        return found.get("Item")

    def _record(self, calls: list[Call]) -> None:
        with self._lock:
            self.calls.extend(calls)

    def _written(self, operation: str, request: Mapping[str, Any]) -> list[tuple[Table, Any]]:
        """The table and key of each item a write touches."""
        if operation == "BatchWriteItem":
            return [
                (table, table.key(write["PutRequest"]["Item"]))
                if "PutRequest" in write
                else (table, write["DeleteRequest"]["Key"])
                for name, writes in request["RequestItems"].items()
                for table in [self._table(name)]
                for write in writes
            ]
        table = self._table(request["TableName"])
        return [(table, table.key(request["Item"]) if operation == "PutItem" else request["Key"])]

    def _before(
        self, model: Any, params: Mapping[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        operation = model.name
        if operation not in WRITES | READS:
            with self._lock:
                self.unmetered.append(operation)
            return
        request = json.loads(params["body"])
        touched = (
            [
                (table, key, self._look(table, key))
                for table, key in self._written(operation, request)
            ]
            if operation in WRITES
            else []
        )
        context[PENDING] = (request, touched)

    def _after(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if PENDING not in context:
            return
        request, touched = context.pop(PENDING)
        operation = model.name
        if operation not in WRITES:
            self._record(self._reads(operation, request))
            return
        calls = []
        for table, key, before in touched:
            after = self._look(table, key)
            calls.append(
                Call(
                    operation,
                    table.name,
                    table.label(key),
                    write_units=write_units(max(item_size(before), item_size(after))),
                    index_write_units=index_write_units(table, before, after),
                    bytes_before=item_size(before),
                    bytes_after=item_size(after),
                    expires_at=int(after[TTL]["N"]) if after and TTL in after else None,
                )
            )
        self._record(calls)

    def _read(self, operation: str, table: Table, key: Mapping[str, Any], consistent: Any) -> Call:
        size = item_size(self._look(table, key))
        return Call(
            operation,
            table.name,
            table.label(key),
            read_units=read_units(size, bool(consistent)),
            bytes_before=size,
        )

    def _reads(self, operation: str, request: Mapping[str, Any]) -> list[Call]:
        if operation == "GetItem":
            table = self._table(request["TableName"])
            return [self._read(operation, table, request["Key"], request.get("ConsistentRead"))]
        if operation == "BatchGetItem":
            return [
                self._read(operation, self._table(name), key, wanted.get("ConsistentRead"))
                for name, wanted in request["RequestItems"].items()
                for key in wanted["Keys"]
            ]
        # A query: the same request again, for the keys of what it read (the caller's answer
        # may already be turned into Python values by a resource).
        table = self._table(request["TableName"])
        index = request.get("IndexName")
        found = [
            self._look(table, table.key(item))
            for item in self._observer.query(**request).get("Items", [])
        ]
        if index:
            entries = [index_entry(table, table.indexes[index], item) for item in found]
            size = sum(entry_size(entry) for entry in entries if entry)
        else:
            size = sum(item_size(item) for item in found)
        consistent = bool(request.get("ConsistentRead")) and not index
        return [
            Call(
                operation, table.name, index or table.name, read_units=read_units(size, consistent)
            )
        ]

    @staticmethod
    def totals(calls: list[Call]) -> dict[str, float]:
        return {
            "write_units": sum(c.write_units for c in calls),
            "index_write_units": sum(c.index_write_units for c in calls),
            "read_units": sum(c.read_units for c in calls),
        }
