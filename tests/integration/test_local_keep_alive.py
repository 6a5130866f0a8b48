"""The local servers answer a kept-alive connection at once: a reply's body does not wait for
the client's delayed ACK of its headers (Nagle's algorithm), about 40 ms a request."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import httpx
import pytest

from hookwise.local.offline_model import OfflineModelServer

REQUESTS = 10
# A stalled reply takes the delayed ACK's 40 ms; one on loopback, a millisecond or two.
STALL_SECONDS = 0.040


@pytest.fixture
def model() -> Iterator[OfflineModelServer]:
    server = OfflineModelServer().start()
    yield server
    server.stop()


def test_posts_on_one_connection_are_not_held_by_delayed_acks(model: OfflineModelServer) -> None:
    seconds = []
    with httpx.Client(base_url=model.url) as client:
        for _ in range(REQUESTS):
            started = time.perf_counter()
            client.post("/_control/faults", json={"rules": []}).raise_for_status()
            seconds.append(time.perf_counter() - started)
    # The median: one slow request on a busy machine is not the stall, which hits every one
    # after the first.
    assert statistics.median(seconds) < STALL_SECONDS / 2, seconds
