"""The per-subject lease that keeps two events from both posting a PR's first comment."""

from __future__ import annotations

from dataclasses import dataclass, field

from hookwise.adapters.subject_lock import DynamoDBSubjectLock
from tests.conftest import Aws

SUBJECT = "github-pr-review acme/api#7"


class Clock:
    now = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Finished:
    """`finished` for `acquire`: the holders whose runs are over, and whom it was asked about."""

    over: set[str] = field(default_factory=set)
    asked: list[str] = field(default_factory=list)

    def __call__(self, holder: str) -> bool:
        self.asked.append(holder)
        return holder in self.over


def test_one_holder_at_a_time_until_release_or_lapse(aws: Aws) -> None:
    clock = Clock()
    lock = DynamoDBSubjectLock(aws.settings.table, clock=clock)
    running = Finished()
    assert lock.acquire(SUBJECT, "evt_a", 60, running)
    assert not lock.acquire(SUBJECT, "evt_b", 60, running)
    assert lock.acquire(SUBJECT, "evt_a", 60, running)  # our own lease renews
    assert lock.acquire("github-pr-review acme/api#8", "evt_b", 60, running)
    lock.release(SUBJECT, "evt_b")  # not ours: nothing happens
    assert not lock.acquire(SUBJECT, "evt_b", 60, running)
    lock.release(SUBJECT, "evt_a")
    assert lock.acquire(SUBJECT, "evt_b", 60, running)
    clock.now += 61
    assert lock.acquire(SUBJECT, "evt_c", 60, running)
    # Only a live lease held by another asks whether its run is over.
    assert running.asked == ["evt_a", "evt_a"]


def test_a_live_lease_is_taken_over_once_its_holder_is_finished(aws: Aws) -> None:
    lock = DynamoDBSubjectLock(aws.settings.table, clock=Clock())
    finished = Finished()
    assert lock.acquire(SUBJECT, "evt_a/1", 60, finished)
    assert not lock.acquire(SUBJECT, "evt_b/2", 60, finished)
    assert finished.asked == ["evt_a/1"]  # the refusal named who holds the lease
    finished.over.add("evt_a/1")
    assert lock.acquire(SUBJECT, "evt_b/2", 60, finished)
    assert lock.acquire(SUBJECT, "evt_b/2", 60, finished)  # and renews as its own
    # The lease is evt_b's now, live and unfinished: the holder taken over cannot come back.
    assert not lock.acquire(SUBJECT, "evt_a/1", 60, finished)
    assert finished.asked == ["evt_a/1", "evt_a/1", "evt_b/2"]


def test_of_two_takers_of_a_finished_holders_lease_only_one_wins(aws: Aws) -> None:
    clock = Clock()
    first = DynamoDBSubjectLock(aws.settings.table, clock=clock)
    second = DynamoDBSubjectLock(aws.settings.table, clock=clock)
    assert first.acquire(SUBJECT, "evt_a/1", 60, Finished())
    second_won: list[bool] = []

    def finished_while_another_takes_over(holder: str) -> bool:
        # The other taker judges the same holder finished and writes first.
        second_won.append(second.acquire(SUBJECT, "evt_c/3", 60, Finished({holder})))
        return True

    assert not first.acquire(SUBJECT, "evt_b/2", 60, finished_while_another_takes_over)
    assert second_won == [True]
    after = Finished()
    assert not first.acquire(SUBJECT, "evt_d/4", 60, after)
    assert after.asked == ["evt_c/3"]


def test_a_released_lease_is_free_without_asking(aws: Aws) -> None:
    lock = DynamoDBSubjectLock(aws.settings.table, clock=Clock())
    finished = Finished()
    assert lock.acquire(SUBJECT, "evt_a/1", 60, finished)
    lock.release(SUBJECT, "evt_a/1")
    assert lock.acquire(SUBJECT, "evt_b/2", 60, finished)
    assert finished.asked == []
