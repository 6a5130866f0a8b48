"""Items a worker batch read in one go, ahead of the records that will look them up."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Item = dict[str, Any]


class ReadAhead:
    """Each item is taken once, by the lookup it was read for: a second lookup of the key reads
    the table, and so sees what the first one's run wrote. The next batch's items replace these
    whole, so nothing read for one batch answers another."""

    def __init__(self) -> None:
        self._items: dict[str, Item | None] = {}
        self._lock = threading.Lock()

    def replace(self, keys: Iterable[str], found: Mapping[str, Item]) -> None:
        """The batch's keys, with the items found for them (a key without one was read and is
        missing: its lookup needs no read)."""
        with self._lock:
            self._items = {key: found.get(key) for key in keys}

    def take(self, key: str, read: Callable[[], Item | None]) -> Item | None:
        """The item read ahead for `key`, once; otherwise what `read` finds."""
        with self._lock:
            if key in self._items:
                return self._items.pop(key)
        return read()
