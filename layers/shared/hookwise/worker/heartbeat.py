"""A lease heartbeat: while a slow model call runs, keep the message and the event held."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType

from hookwise.observability import logger


class Heartbeat:
    """Calls `beat` every `every` seconds until the block ends (never if it ends sooner)."""

    def __init__(self, every: float, beat: Callable[[], None]) -> None:
        self._every = every
        self._beat = beat
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="heartbeat")

    def _run(self) -> None:
        while not self._done.wait(self._every):
            try:
                self._beat()
            except Exception:
                # A missed beat is not fatal: the lease may still outlast the call.
                logger.exception("lease heartbeat failed")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()
