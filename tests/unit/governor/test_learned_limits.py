"""Limits learned from the API: announced limits replace the defaults, stay under a configured
ceiling, rescale what is booked; and the burst allowance learned from unexpected 429s."""

from __future__ import annotations

import pytest

from hookwise.config.models import DEFAULT_LIMITS, RateLimits
from hookwise.governor.schedule import (
    PROBE_SECONDS,
    Cost,
    Schedule,
    Verdict,
    admit,
    in_force,
    lane_for,
    observe,
    refused,
)

NOW = 1_000_000.0
LANE = lane_for("flood", 2)
# One PR review: a request, its prompt, max_tokens reserved as output.
REVIEW = Cost(1, 800, 1_024)
# What the API announces: 300 requests a minute, generous token limits.
ANNOUNCED = {
    "requests": (300, 299, NOW + 1),
    "input_tokens": (2_000_000, 1_999_000, NOW + 1),
    "output_tokens": (400_000, 399_000, NOW + 1),
}


def ask(
    schedule: Schedule,
    now: float,
    limits: RateLimits = DEFAULT_LIMITS,
    *,
    configured: bool = False,
    burst: float = 1.0,
    line_at: float | None = None,
) -> Verdict:
    return admit(
        schedule,
        limits,
        now=now,
        lane=LANE,
        weight=2,
        cost=REVIEW,
        line_at=line_at,
        horizon=3.0,
        burst=burst,
        configured=configured,
    )


def test_defaults_hold_until_the_api_announces_then_its_limits_do() -> None:
    assert in_force(DEFAULT_LIMITS, None, configured=False) == {
        "requests": (50, "default"),
        "input_tokens": (30_000, "default"),
        "output_tokens": (8_000, "default"),
    }
    announced = {"requests": 300, "input_tokens": 2_000_000, "output_tokens": 400_000}
    # Above the defaults: the defaults were a starting point, not a ceiling.
    assert in_force(DEFAULT_LIMITS, announced, configured=False) == {
        "requests": (300, "announced"),
        "input_tokens": (2_000_000, "announced"),
        "output_tokens": (400_000, "announced"),
    }
    # A bucket the API does not announce is not limited by it.
    assert in_force(DEFAULT_LIMITS, {"requests": 300}, configured=False) == {
        "requests": (300, "announced")
    }
    # Bedrock sends no headers: its answers leave the defaults in force.
    assert in_force(DEFAULT_LIMITS, {}, configured=False)["output_tokens"] == (8_000, "default")


def test_configured_limits_are_a_ceiling_and_lower_announced_ones_apply_below_it() -> None:
    configured = RateLimits(requests_per_minute=120, output_tokens_per_minute=90_000)
    announced = {"requests": 300, "input_tokens": 50_000, "output_tokens": 40_000}
    assert in_force(configured, announced) == {
        "requests": (120, "configured"),  # the ceiling below what the API allows
        "input_tokens": (50_000, "announced"),  # not configured: the API's
        "output_tokens": (40_000, "announced"),  # the API allows less than configured
    }
    assert in_force(configured, None) == {
        "requests": (120, "configured"),
        "output_tokens": (90_000, "configured"),
    }


def test_a_burst_at_the_defaults_books_little_and_places_nobody_in_a_tier_1_line() -> None:
    schedule = Schedule()
    verdicts = [ask(schedule, NOW) for _ in range(10)]
    # 1,024 output tokens at 8,000 a minute: one call now, the next 7.7 s on.
    assert [v.booked for v in verdicts].count(True) == 1
    waiting = verdicts[1:]
    # The rest come back in a moment, with no place in a line spaced at Tier 1.
    assert {v.start for v in waiting} == {NOW + PROBE_SECONDS}
    assert {v.line_at for v in waiting} == {None}
    assert all("until the API announces" in v.reason for v in waiting)
    assert verdicts[0].limits["output_tokens"] == (8_000, "default")


def test_once_announced_the_same_burst_runs_at_the_apis_limits_and_what_was_booked_rescales() -> (
    None
):
    schedule = Schedule()
    first = ask(schedule, NOW)
    assert first.booked
    observe(schedule, ANNOUNCED, NOW + 0.1, REVIEW, 1.0)
    later = NOW + 1.0
    verdicts = [ask(schedule, later) for _ in range(20)]
    # 300 a minute with a second of burst: the 5.7 s of line the first call still held at
    # Tier 1 (7.7 s of output) are 0.15 s at the new rates, so the burst starts at once.
    assert all(v.booked for v in verdicts[:15])
    assert verdicts[0].start - later == pytest.approx(5.68 * 0.2 / 7.68)
    assert verdicts[14].start - later <= 3.0
    assert verdicts[0].limits == {
        "requests": (300, "announced"),
        "input_tokens": (2_000_000, "announced"),
        "output_tokens": (400_000, "announced"),
    }
    # Places in line are spaced at the new rates: 0.2 s a call.
    beyond = [v for v in verdicts if not v.booked]
    assert beyond
    assert beyond[1].line_at - beyond[0].line_at == pytest.approx(0.2)  # type: ignore[operator]


def test_a_configured_ceiling_below_the_announced_limits_is_honoured() -> None:
    schedule = Schedule()
    ceiling = RateLimits(requests_per_minute=60)
    observe(schedule, ANNOUNCED, NOW, REVIEW, 0.0)
    starts = [ask(schedule, NOW, ceiling, configured=True, burst=0.0).start for _ in range(3)]
    assert starts == pytest.approx([NOW, NOW + 1.0, NOW + 2.0], abs=1e-6)


def test_announced_limits_below_the_configured_ones_slow_the_governor_down() -> None:
    schedule = Schedule()
    configured = RateLimits(requests_per_minute=600)
    fast = [ask(schedule, NOW, configured, configured=True, burst=0.0).start for _ in range(3)]
    assert fast == pytest.approx([NOW, NOW + 0.1, NOW + 0.2], abs=1e-6)
    observe(schedule, {"requests": (60, 50, NOW + 1)}, NOW, REVIEW, 0.0)
    later = NOW + 10.0
    slow = [ask(schedule, later, configured, configured=True, burst=0.0) for _ in range(3)]
    assert [v.start for v in slow] == pytest.approx([later, later + 1.0, later + 2.0], abs=1e-6)
    assert slow[0].limits["requests"] == (60, "announced")


def test_an_unexpected_429_halves_the_burst_once_per_pause() -> None:
    schedule = Schedule()
    # A full second of burst at 5 a second: six calls at once.
    five = RateLimits(requests_per_minute=300)
    at_once = [ask(schedule, NOW, five, configured=True).start for _ in range(8)]
    assert at_once.count(NOW) == 6
    # The API holds only 5 at once: the sixth is refused, and the calls refused with it
    # in the same pause teach nothing more.
    for _ in range(3):
        refused(schedule, NOW, NOW + 1.0, "model answered 429, retry-after", 1.0)
    assert schedule.burst == pytest.approx(0.5)
    assert schedule.paused_until == NOW + 1.0
    later = NOW + 60.0
    starts = [ask(schedule, later, five, configured=True).start for _ in range(6)]
    # Half a second of burst: three at once, then one every 0.2 s.
    assert starts.count(later) == 3
    # Each further pause halves it again, down to none at all: calls one interval apart.
    for step in range(1, 5):
        refused(schedule, later + step * 10, later + step * 10 + 1, "model answered 429", 1.0)
    assert schedule.burst == 0.0
    # Past none, the pace slows a little at each further pause, to a fifth under the limit.
    refused(schedule, later + 100, later + 101, "model answered 429", 1.0)
    assert schedule.burst == pytest.approx(-0.01)
    for step in range(10):
        refused(schedule, later + 200 + step * 10, later + 201 + step * 10, "429", 1.0)
    assert schedule.burst == pytest.approx(-0.05)
    slowest = later + 1_000
    starts = [ask(schedule, slowest, five, configured=True).start - slowest for _ in range(3)]
    # After a quiet spell the first goes at once; the next are 0.25 s apart, not 0.2.
    assert starts == pytest.approx([0.0, 0.25, 0.5], abs=1e-6)


def test_a_429_during_a_pause_from_the_headers_still_teaches() -> None:
    schedule = Schedule()
    schedule.paused_until, schedule.paused_reason = NOW + 0.5, "requests (API headers)"
    refused(schedule, NOW, NOW + 1.0, "model answered 429, retry-after", 1.0)
    assert schedule.burst == pytest.approx(0.5)
