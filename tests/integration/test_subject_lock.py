"""The per-subject lease that keeps two events from both posting a PR's first comment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hookwise.adapters.subject_lock import POLL_MAX_SECONDS, DynamoDBSubjectLock
from tests.conftest import Aws

SUBJECT = "github-pr-review acme/api#7"


class Clock:
    now = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Waits:
    """`sleep` for the lock: moves the clock on, and runs `during` at each wait."""

    clock: Clock
    during: list[Callable[[], None]] = field(default_factory=list)
    slept: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.now += seconds
        if self.during:
            self.during.pop(0)()


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


def test_a_taker_waits_for_the_holder_to_finish_then_takes_the_lease(aws: Aws) -> None:
    clock = Clock()
    waits = Waits(clock)
    lock = DynamoDBSubjectLock(aws.settings.table, clock=clock, wait_seconds=5, sleep=waits)
    finished = Finished()
    assert lock.acquire(SUBJECT, "evt_a/1", 60, finished)
    # The holder records its outcome while the taker waits its third poll.
    waits.during = [lambda: None, lambda: None, lambda: finished.over.add("evt_a/1")]
    assert lock.acquire(SUBJECT, "evt_b/2", 60, finished)
    assert len(waits.slept) == 3
    assert finished.asked == ["evt_a/1"] * 4
    assert not DynamoDBSubjectLock(aws.settings.table, clock=clock).acquire(
        SUBJECT, "evt_c/3", 60, Finished()
    )


def test_a_taker_gives_up_after_its_wait_while_the_holder_still_acts(aws: Aws) -> None:
    clock = Clock()
    waits = Waits(clock)
    lock = DynamoDBSubjectLock(aws.settings.table, clock=clock, wait_seconds=2, sleep=waits)
    assert lock.acquire(SUBJECT, "evt_a/1", 60, Finished())
    started = clock.now
    assert not lock.acquire(SUBJECT, "evt_b/2", 60, Finished())
    assert 2 <= clock.now - started <= 2 + POLL_MAX_SECONDS * 1.5
    # The polls back off (0.1 s doubling up to 1 s, jittered): a few reads for a long wait.
    assert 4 <= len(waits.slept) <= 7


def test_a_lease_released_during_the_wait_is_taken_without_its_run_being_over(aws: Aws) -> None:
    clock = Clock()
    waits = Waits(clock)
    lock = DynamoDBSubjectLock(aws.settings.table, clock=clock, wait_seconds=5, sleep=waits)
    assert lock.acquire(SUBJECT, "evt_a/1", 60, Finished())
    # A failed run lets go at once; its outcome, `retrying`, never says it is over.
    waits.during = [lambda: lock.release(SUBJECT, "evt_a/1")]
    assert lock.acquire(SUBJECT, "evt_b/2", 60, Finished())
    assert len(waits.slept) == 1


def test_of_two_waiting_takers_the_loser_waits_for_the_winner(aws: Aws) -> None:
    clock = Clock()
    waits = Waits(clock)
    lock = DynamoDBSubjectLock(aws.settings.table, clock=clock, wait_seconds=5, sleep=waits)
    other = DynamoDBSubjectLock(aws.settings.table, clock=clock)
    finished = Finished({"evt_a/1"})
    assert lock.acquire(SUBJECT, "evt_a/1", 60, Finished())
    won: list[bool] = []

    def judged_while_another_takes_over(holder: str) -> bool:
        if not won:
            # The other taker judges evt_a finished too, and writes first.
            won.append(other.acquire(SUBJECT, "evt_c/3", 60, finished))
        return finished(holder)

    # The winner finishes during the loser's second wait.
    waits.during = [lambda: None, lambda: finished.over.add("evt_c/3")]
    assert lock.acquire(SUBJECT, "evt_b/2", 60, judged_while_another_takes_over)
    assert won == [True]
    # (evt_a asked about by both takers, then the winner by the loser until it is over.)
    assert finished.asked == ["evt_a/1", "evt_a/1", "evt_c/3", "evt_c/3"]
