"""The work queue: carries event ids, never payloads."""

from __future__ import annotations

from abc import ABC, abstractmethod

from hookwise.domain.events import QueueMessage


class EventQueue(ABC):
    @abstractmethod
    def send(self, message: QueueMessage, delay_seconds: int = 0) -> None:
        """Enqueue an event for the worker; raises on failure (the caller answers 503)."""

    @abstractmethod
    def send_to_dlq(self, message: QueueMessage, reason: str) -> None:
        """Park a message in the dead-letter queue with the reason it failed."""

    @abstractmethod
    def change_visibility(self, receipt_handle: str, seconds: int) -> None:
        """Delay the next delivery of a received message (the queue is the retry engine)."""
