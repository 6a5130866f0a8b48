"""DynamoDB capacity units per event, from the calls the code actually makes.

moto answers `ReturnConsumedCapacity` with a flat 1.0 / 0.5 whatever the item size (checked:
a 5 KB put reports 1.0), so the units are computed here by DynamoDB's documented rules from
the real requests and the items before and after each one:

- item size: the UTF-8 length of each attribute name plus its value (strings: UTF-8 bytes;
  binary: bytes; numbers: 1 byte per two significant digits + 1; booleans and nulls: 1;
  lists and maps: 3 bytes + their elements + 1 byte per element);
- a write (put, update, delete) costs one unit per started KB of the larger of the item
  before and after it, at least 1; a conditional write that fails costs the same;
- a write that adds, changes or removes an entry of a global secondary index also costs one
  unit per KB of that entry (index keys + table key + 100 bytes), per entry written;
- a read costs one unit per started 4 KB of each item read (the whole item, whatever the
  projection), half for an eventually consistent read, at least one (or half) unit even when
  nothing is found; a query sums the entries it reads before rounding up; index queries are
  eventually consistent.

The meter wraps the store's DynamoDB client and looks at items through a second client, so
its own reads are not counted.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hookwise.resources import STUCK_INDEX_PARTITION_KEY, STUCK_INDEX_SORT_KEY, TABLE_PARTITION_KEY

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
INDEX_ENTRY_OVERHEAD = 100
INDEX_KEYS = (STUCK_INDEX_PARTITION_KEY, STUCK_INDEX_SORT_KEY)


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


def index_entry(item: Mapping[str, Any] | None) -> int | None:
    """Size of the keys-only index entry an item makes, if it has the index keys."""
    if not item or not all(key in item for key in INDEX_KEYS):
        return None
    keys = {name: item[name] for name in (*INDEX_KEYS, TABLE_PARTITION_KEY)}
    return item_size(keys) + INDEX_ENTRY_OVERHEAD


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def index_write_units(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> int:
    """Keys-only index: an entry appears, goes, or moves (a delete and a put)."""
    old, new = index_entry(before), index_entry(after)
    if old is None and new is None:
        return 0
    if old is None or new is None:
        return write_units(old or new or 0)
    if all((before or {})[key] == (after or {})[key] for key in INDEX_KEYS):
        return 0
    return write_units(old) + write_units(new)


@dataclass
class Call:
    operation: str
    key: str
    write_units: int = 0
    index_write_units: int = 0
    read_units: float = 0.0
    bytes_before: int = 0
    bytes_after: int = 0


@dataclass
class CapacityMeter:
    """Wraps a DynamoDB client's item calls and records what each one is billed."""

    table: str
    observer: Any  # another client on the same endpoint: the meter's own reads
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> None:
        for operation, measure in {
            "put_item": self._put,
            "update_item": self._update,
            "delete_item": self._delete,
            "get_item": self._get,
            "batch_get_item": self._batch_get,
            "query": self._query,
        }.items():
            setattr(client, operation, self._wrapped(getattr(client, operation), measure))

    def _wrapped(self, call: Callable[..., Any], measure: Callable[..., Call]) -> Any:
        def metered(**params: Any) -> Any:
            return measure(call, params)

        return metered

    def _look(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self.observer.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        return found.get("Item")

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _written(self, operation: str, key: Mapping[str, Any], before: Any, after: Any) -> Call:
        call = Call(
            operation,
            key[TABLE_PARTITION_KEY]["S"],
            write_units=write_units(max(item_size(before), item_size(after))),
            index_write_units=index_write_units(before, after),
            bytes_before=item_size(before),
            bytes_after=item_size(after),
        )
        self._record(call)
        return call

    def _put(self, call: Callable[..., Any], params: dict[str, Any]) -> Any:
        key = {TABLE_PARTITION_KEY: params["Item"][TABLE_PARTITION_KEY]}
        before = self._look(key)
        try:
            return call(**params)
        finally:
            self._written("PutItem", key, before, self._look(key))

    def _update(self, call: Callable[..., Any], params: dict[str, Any]) -> Any:
        before = self._look(params["Key"])
        try:
            return call(**params)
        finally:
            self._written("UpdateItem", params["Key"], before, self._look(params["Key"]))

    def _delete(self, call: Callable[..., Any], params: dict[str, Any]) -> Any:
        before = self._look(params["Key"])
        try:
            return call(**params)
        finally:
            self._written("DeleteItem", params["Key"], before, self._look(params["Key"]))

    def _get(self, call: Callable[..., Any], params: dict[str, Any]) -> Any:
        answer = call(**params)
        size = item_size(self._look(params["Key"]))
        self._record(
            Call(
                "GetItem",
                params["Key"][TABLE_PARTITION_KEY]["S"],
                read_units=read_units(size, bool(params.get("ConsistentRead"))),
                bytes_before=size,
            )
        )
        return answer

    def _batch_get(self, call: Callable[..., Any], params: dict[str, Any]) -> Any:
        answer = call(**params)
        request = params["RequestItems"][self.table]
        for key in request["Keys"]:
            size = item_size(self._look(key))
            self._record(
                Call(
                    "BatchGetItem",
                    key[TABLE_PARTITION_KEY]["S"],
                    read_units=read_units(size, bool(request.get("ConsistentRead"))),
                    bytes_before=size,
                )
            )
        return answer

    def _query(self, call: Callable[..., Any], params: dict[str, Any]) -> Any:
        answer = call(**params)
        index = params.get("IndexName")
        sizes = [
            (index_entry(self._look({TABLE_PARTITION_KEY: item[TABLE_PARTITION_KEY]})) or 0)
            if index
            else item_size(item)
            for item in answer.get("Items", [])
        ]
        consistent = bool(params.get("ConsistentRead")) and not index
        self._record(
            Call("Query", index or self.table, read_units=read_units(sum(sizes), consistent))
        )
        return answer

    @staticmethod
    def totals(calls: list[Call], keep: Callable[[Call], bool]) -> dict[str, float]:
        chosen = [call for call in calls if keep(call)]
        return {
            "write_units": sum(c.write_units for c in chosen),
            "index_write_units": sum(c.index_write_units for c in chosen),
            "read_units": sum(c.read_units for c in chosen),
        }
