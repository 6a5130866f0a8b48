"""The per-subject lease that keeps two events from both posting a PR's first comment."""

from __future__ import annotations

from hookwise.adapters.subject_lock import DynamoDBSubjectLock
from tests.conftest import Aws


class Clock:
    now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_one_holder_at_a_time_until_release_or_lapse(aws: Aws) -> None:
    clock = Clock()
    lock = DynamoDBSubjectLock(aws.settings.table, clock=clock)
    subject = "github-pr-review acme/api#7"
    assert lock.acquire(subject, "evt_a", 60)
    assert not lock.acquire(subject, "evt_b", 60)
    assert lock.acquire(subject, "evt_a", 60)  # our own lease renews
    assert lock.acquire("github-pr-review acme/api#8", "evt_b", 60)
    lock.release(subject, "evt_b")  # not ours: nothing happens
    assert not lock.acquire(subject, "evt_b", 60)
    lock.release(subject, "evt_a")
    assert lock.acquire(subject, "evt_b", 60)
    clock.now += 61
    assert lock.acquire(subject, "evt_c", 60)
