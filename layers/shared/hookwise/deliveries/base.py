"""Publishing a stored result, after it is safe: a failed push never re-asks the model."""

from __future__ import annotations

from abc import ABC, abstractmethod

from hookwise.config import Route
from hookwise.domain.events import EventRecord


class Publisher(ABC):
    @abstractmethod
    def publish(self, record: EventRecord, route: Route) -> None:
        """Push the completed event on; raises on failure (the caller logs and counts it)."""
