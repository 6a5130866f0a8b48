"""What the batch path needs: a ledger of parked events and intents, and a Batches API."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from hookwise.llm.base import ModelAnswer, ModelRequest


@dataclass(frozen=True)
class Parked:
    """An event waiting for its route's next batch."""

    route: str
    event_id: str
    received_at: str
    # Epoch seconds by which the event should have its answer.
    deadline: float
    # Epoch seconds from which the table's TTL may delete the entry: its event's expiry.
    expires_at: int


@dataclass(frozen=True)
class Intent:
    """A batch about to be, or already, submitted for these events."""

    route: str
    intent_id: str
    event_ids: list[str]
    created_at: float
    # Epoch seconds from which the table's TTL may delete the intent: its last event's expiry.
    expires_at: int
    batch_id: str | None = None
    # The parked entries are gone and every event names the batch.
    recorded: bool = False


@dataclass(frozen=True)
class BatchInfo:
    batch_id: str
    created_at: float
    ended: bool
    requests: int


@dataclass(frozen=True)
class BatchEntry:
    """One line of a batch's results."""

    custom_id: str
    # succeeded | errored | expired | canceled
    outcome: str
    answer: ModelAnswer | None = None
    error: str | None = None


class BatchesUnavailable(Exception):
    """The Batches API could not take or give a batch right now."""


@dataclass(frozen=True)
class BatchRequest:
    # The event id.
    custom_id: str
    request: ModelRequest


class BatchLedger(ABC):
    @abstractmethod
    def park(self, entry: Parked) -> None:
        """Idempotent: parking the same event again writes the same entry."""

    @abstractmethod
    def parked(self, route: str, limit: int) -> list[Parked]:
        """The route's parked events, oldest first."""

    @abstractmethod
    def unpark(self, entries: list[Parked]) -> None: ...

    @abstractmethod
    def put_intent(self, intent: Intent) -> None: ...

    @abstractmethod
    def set_batch(self, intent: Intent, batch_id: str) -> Intent:
        """Record the batch id on an intent that has none yet."""

    @abstractmethod
    def mark_recorded(self, intent: Intent) -> Intent: ...

    @abstractmethod
    def intents(self, route: str) -> list[Intent]: ...

    @abstractmethod
    def delete_intent(self, intent: Intent) -> None: ...


class BatchApi(ABC):
    @abstractmethod
    def create(self, requests: list[BatchRequest]) -> str:
        """Submit a batch; its id. Raises BatchesUnavailable."""

    @abstractmethod
    def retrieve(self, batch_id: str) -> BatchInfo: ...

    @abstractmethod
    def recent(self, since: float) -> list[BatchInfo]:
        """Batches created since `since` (epoch seconds), newest first."""

    @abstractmethod
    def results(self, batch_id: str) -> Iterator[BatchEntry]: ...
