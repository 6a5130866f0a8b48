"""What the collector and the poller share: the parts of a scheduled batch run."""

from __future__ import annotations

import time
from collections.abc import Callable

from hookwise.adapters.store import EventStore
from hookwise.batches.parking import BatchParking
from hookwise.batches.ports import BatchApi, BatchLedger
from hookwise.config import HookwiseConfig
from hookwise.worker.service import WorkerService


class BatchJob:
    def __init__(
        self,
        *,
        config: HookwiseConfig,
        ledger: BatchLedger,
        api: BatchApi,
        store: EventStore,
        parking: BatchParking,
        worker: WorkerService,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._ledger = ledger
        self._api = api
        self._store = store
        self._parking = parking
        self._worker = worker
        self._clock = clock
