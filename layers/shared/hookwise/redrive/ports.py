"""The dead-letter queue as the redrive service sees it (the SQS adapter is in `sqs.py`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from hookwise.domain.events import QueueMessage


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt_handle: str
    # None when the body is not a QueueMessage (someone put a foreign message on the DLQ).
    message: QueueMessage | None
    # Epoch seconds when the message was first sent (kept when SQS moves it to the DLQ).
    sent_at: float
    receive_count: int
    # The `reason` attribute the worker sets on a permanent failure; absent when exhausted.
    reason: str | None


class DeadLetterQueue(ABC):
    @abstractmethod
    def receive(self, max_messages: int, hold_seconds: int) -> list[DeadLetter]:
        """Receive up to `max_messages`, invisible to others for `hold_seconds`."""

    @abstractmethod
    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Make received messages visible again at once."""

    @abstractmethod
    def delete(self, letter: DeadLetter) -> None: ...
