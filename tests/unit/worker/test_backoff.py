"""The queue is the retry engine: how long a failed message stays hidden."""

from __future__ import annotations

from hookwise.worker.backoff import SQS_MAX_VISIBILITY, retry_delay


def test_retry_after_is_honoured_even_beyond_the_sdks_cap() -> None:
    assert retry_delay(1, retry_after=120, max_backoff=900) == 120
    assert retry_delay(1, retry_after=0.2, max_backoff=900) == 1
    assert retry_delay(1, retry_after=10**9, max_backoff=900) == SQS_MAX_VISIBILITY


def test_backoff_grows_with_receives_is_jittered_and_capped() -> None:
    ceilings = [retry_delay(n, None, max_backoff=60, rand=lambda: 1.0) for n in range(1, 9)]
    assert ceilings == [2, 4, 8, 16, 32, 60, 60, 60]
    assert retry_delay(5, None, max_backoff=60, rand=lambda: 0.0) == 1
    assert retry_delay(5, None, max_backoff=60, rand=lambda: 0.5) == 16
