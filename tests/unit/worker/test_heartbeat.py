"""The lease heartbeat beats while a call runs, and never after it ends."""

from __future__ import annotations

import time

from hookwise.worker.heartbeat import Heartbeat


def test_beats_while_the_block_runs_and_stops_after() -> None:
    beats: list[float] = []
    with Heartbeat(0.05, lambda: beats.append(time.monotonic())):
        time.sleep(0.28)
    during = len(beats)
    time.sleep(0.15)
    assert 3 <= during <= 6
    assert len(beats) == during


def test_a_quick_block_never_beats_and_a_failing_beat_does_not_stop_it() -> None:
    calls: list[int] = []
    with Heartbeat(1.0, lambda: calls.append(1)):
        pass
    assert calls == []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("visibility change failed")

    with Heartbeat(0.05, broken):
        time.sleep(0.2)
    assert len(calls) >= 2
