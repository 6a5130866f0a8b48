"""A model client built on its first call."""

from __future__ import annotations

import threading
from collections.abc import Callable

from hookwise.llm.base import ModelAnswer, ModelClient, ModelRequest


class DeferredModelClient(ModelClient):
    """Builds the real client (importing the SDK, ~1 s of a cold start) on the first model
    call, so an environment that never calls the model (skipped events, duplicates,
    callback retries) never pays for it; SnapStart would argue the other way."""

    def __init__(self, build: Callable[[], ModelClient]) -> None:
        self._build = build
        self._client: ModelClient | None = None
        self._lock = threading.Lock()

    def built(self) -> ModelClient:
        """The real client, built now if not yet (a warm-up may call this ahead of traffic)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
        return self._client

    def invoke(self, request: ModelRequest) -> ModelAnswer:
        return self.built().invoke(request)
