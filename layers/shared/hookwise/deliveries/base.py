"""Publishing a stored result, after it is safe: a failed push never re-asks the model."""

from __future__ import annotations

from abc import ABC, abstractmethod

from hookwise.config import Route
from hookwise.domain.events import EventRecord


class Publisher(ABC):
    @property
    @abstractmethod
    def target(self) -> str:
        """Where results go (the bus's name), as the event's recorded outcome shows it."""

    @abstractmethod
    def publish(self, record: EventRecord, route: Route) -> str:
        """Push the completed event on and return the id it got there; raises on failure (the
        `eventbridge` action records it, and a transient one is retried from the queue)."""
