"""The governor's arithmetic: reserve, refill, burst, booking horizon, lines, reconcile,
pauses and clock skew between instances."""

from __future__ import annotations

import pytest

from hookwise.config.models import RateLimits
from hookwise.governor.schedule import (
    Cost,
    Schedule,
    Verdict,
    admit,
    credit,
    lane_for,
    observe,
    pause,
)

FIVE_PER_SECOND = RateLimits(requests_per_minute=300)
TOKENS = RateLimits(
    requests_per_minute=6_000, input_tokens_per_minute=60_000, output_tokens_per_minute=6_000
)
NOW = 1_000_000.0
LANE = lane_for("flood", 2)
ONE_CALL = Cost()


def ask(
    schedule: Schedule,
    now: float,
    *,
    limits: RateLimits = FIVE_PER_SECOND,
    lane: str = LANE,
    cost: Cost = ONE_CALL,
    line_at: float | None = None,
    horizon: float = 5.0,
    burst: float = 1.0,
) -> Verdict:
    return admit(
        schedule,
        limits,
        now=now,
        lane=lane,
        weight=int(lane.split(":")[0]),
        cost=cost,
        line_at=line_at,
        horizon=horizon,
        burst=burst,
    )


def test_a_quiet_model_admits_a_burst_at_once_then_paces_at_the_limit() -> None:
    schedule = Schedule()
    starts = [ask(schedule, NOW).start for _ in range(10)]
    # One second of burst at 5/s: six calls at once (the sixth fills the allowance)...
    assert starts[:6] == [NOW] * 6
    # ...then one every 0.2 s.
    assert starts[6:] == pytest.approx([NOW + 0.2, NOW + 0.4, NOW + 0.6, NOW + 0.8], abs=1e-6)


def test_capacity_refills_with_time() -> None:
    schedule = Schedule()
    for _ in range(10):
        ask(schedule, NOW)
    later = NOW + 10.0
    assert ask(schedule, later).start == later


def test_beyond_the_horizon_nothing_is_booked_and_the_line_spreads_the_returns() -> None:
    schedule = Schedule()
    verdicts = [ask(schedule, NOW, horizon=2.0) for _ in range(40)]
    booked = [v for v in verdicts if v.booked]
    waiting = [v for v in verdicts if not v.booked]
    # Six at once, then 2 s of bookings at 0.2 s apart (the last exactly at the horizon).
    assert len(booked) == 6 + 10
    assert all(v.start - NOW <= 2.0 for v in booked)
    # The others come back at their places in the route's line, one interval apart.
    places = [v.line_at for v in waiting]
    assert places == sorted(places)
    assert places[1] - places[0] == pytest.approx(0.2)
    assert all(v.start > NOW + 2.0 for v in waiting)


def test_an_event_back_at_its_place_books_without_taking_a_new_place() -> None:
    schedule = Schedule()
    for _ in range(40):
        ask(schedule, NOW, horizon=2.0)
    line_end = schedule.lines[LANE]
    returned = ask(schedule, NOW + 4.0, line_at=NOW + 4.0, horizon=2.0)
    assert returned.booked
    assert schedule.lines[LANE] == line_end


def test_a_newcomer_on_a_quiet_route_is_not_queued_behind_a_flood() -> None:
    schedule = Schedule()
    flood = [ask(schedule, NOW, horizon=2.0) for _ in range(400)]
    assert max(v.line_at or 0 for v in flood) > NOW + 70  # the flood's line: 80 s long
    stripe = ask(schedule, NOW + 1.0, lane=lane_for("stripe", 4), horizon=2.0)
    assert stripe.booked
    assert stripe.start - (NOW + 1.0) <= 2.0


def test_shares_follow_the_weights_of_the_routes_waiting() -> None:
    schedule = Schedule()
    ask(schedule, NOW, lane=lane_for("flood", 1), line_at=None, horizon=0.0)
    for _ in range(50):
        ask(schedule, NOW, lane=lane_for("flood", 1), horizon=0.0)
    high = lane_for("payments", 3)
    first = ask(schedule, NOW, lane=high, horizon=0.0)
    second = ask(schedule, NOW, lane=high, horizon=0.0)
    # With the flood's line busy, a weight-3 route gets 3/4 of the capacity: 0.2 s / 0.75.
    assert (second.line_at or 0) - (first.line_at or 0) == pytest.approx(0.2 / 0.75)


def test_input_tokens_bind_when_prompts_are_large() -> None:
    schedule = Schedule()
    # 1,000 input tokens at 1,000 a second: a call a second, whatever the request limit.
    cost = Cost(1, 1_000, 10)
    starts = [ask(schedule, NOW, limits=TOKENS, cost=cost, burst=0.0).start for _ in range(3)]
    assert starts == pytest.approx([NOW, NOW + 1.0, NOW + 2.0], abs=1e-6)
    verdict = ask(schedule, NOW, limits=TOKENS, cost=cost, burst=0.0)
    assert verdict.reason == "input_tokens"


def test_reconciling_gives_back_what_was_reserved_but_not_used() -> None:
    schedule = Schedule()
    reserved = Cost(1, 100, 1_000)  # max_tokens reserved as output
    ask(schedule, NOW, limits=TOKENS, cost=reserved, burst=0.0)
    blocked = ask(schedule, NOW, limits=TOKENS, cost=reserved, burst=0.0)
    assert not blocked.booked
    assert blocked.start == pytest.approx(NOW + 10.0, abs=1e-6)  # 1,000 output tokens at 100/s
    credit(schedule, TOKENS, reserved.minus(Cost(1, 100, 50)), reserved)
    # Only the 50 tokens really used still count: capacity is back after half a second.
    after = ask(schedule, NOW, limits=TOKENS, lane=lane_for("other", 2), cost=reserved, burst=0)
    assert after.start == pytest.approx(NOW + 0.5, abs=1e-6)
    # And places in line are spaced by what calls are seen to use, not by max_tokens.
    credit(schedule, TOKENS, reserved.minus(Cost(1, 100, 50)), reserved)
    assert schedule.output_ratio < 0.6


def test_a_pause_holds_everyone_until_it_ends() -> None:
    schedule = Schedule()
    pause(schedule, NOW + 30, "model answered 429, retry-after")
    held = ask(schedule, NOW)
    assert not held.booked
    assert held.start == NOW + 30
    assert held.reason == "model answered 429, retry-after"
    assert ask(schedule, NOW + 31).booked


def test_rate_limit_headers_hold_a_bucket_back_only_when_the_api_has_less_than_a_call_left() -> (
    None
):
    schedule = Schedule()
    observe(schedule, {"requests": (300, 10, NOW + 2)}, NOW, Cost(), 1.0)
    assert schedule.tat == {}
    observe(schedule, {"input_tokens": (60_000, 200, NOW + 60)}, NOW, Cost(1, 1_200, 10), 1.0)
    # 1,000 tokens short at 1,000 tokens a second: the next call a second from now, booked
    # (not everyone paused and sent back to the queue).
    assert schedule.paused_until == 0.0
    verdict = ask(schedule, NOW, limits=TOKENS, cost=Cost(1, 1_200, 10))
    assert verdict.booked
    assert verdict.start == pytest.approx(NOW + 1.0, abs=1e-6)
    assert verdict.reason == "input_tokens"


def test_clock_skew_between_instances_costs_at_most_the_skew() -> None:
    """Two instances share the state; one's clock runs 0.5 s ahead. Over 10 s of steady
    demand the calls granted exceed the limit by no more than the skew's worth."""
    schedule = Schedule()
    granted = 0
    for step in range(100):
        real = NOW + step * 0.1
        for skew in (0.0, 0.5):
            verdict = ask(schedule, real + skew, horizon=0.0)
            granted += verdict.booked and verdict.start <= real + skew
    allowed = 10.0 * 5 + 1.0 * 5 + 1  # the rate for 10 s, the burst, the first call
    assert granted <= allowed + 0.5 * 5
