"""Storage for bodies too large for a DynamoDB item (claim check)."""

from __future__ import annotations

from abc import ABC, abstractmethod


class BlobStore(ABC):
    @abstractmethod
    def put(self, key: str, body: bytes) -> None: ...

    @abstractmethod
    def get(self, key: str) -> bytes: ...
