"""The governor's arithmetic, pure: a GCRA token bucket per limit (requests, input tokens,
output tokens), booked slots a short horizon ahead, and a line per route for the rest.

GCRA keeps one number per bucket, the theoretical arrival time (TAT): when all capacity
granted so far will have been paid back at the configured rate. A call may start once every
bucket's backlog (TAT - now) is within its burst allowance; granting it moves each TAT on by
the call's cost times the bucket's interval. Two numbers travel with no clock of their own, so
instances with skewed clocks agree on the state and disagree only by their skew.

Fairness: an event first takes a place in its route's line, spaced by its cost over the
route's share of the capacity (its priority weight over the weights of the routes waiting now).
Only events whose place comes within the booking horizon book capacity; the rest come back at
their place. A flood therefore books at most a horizon ahead, and a newcomer on a quiet route
gets a place near the front of its own (empty) line, and so within a horizon of capacity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hookwise.config.models import RateLimits
from hookwise.llm.base import RateLimitStatus

BUCKETS = ("requests", "input_tokens", "output_tokens")
SECONDS_PER_MINUTE = 60.0
# How fast the expected share of max_tokens follows what calls really use.
LEARNING_RATE = 0.3
MIN_OUTPUT_RATIO = 0.05


@dataclass(frozen=True)
class Cost:
    """What one model call consumes, or is expected to (reserved before the call)."""

    requests: int = 1
    input_tokens: int = 0
    output_tokens: int = 0

    def of(self, bucket: str) -> int:
        return int(getattr(self, bucket))

    def minus(self, other: Cost) -> Cost:
        return Cost(
            self.requests - other.requests,
            self.input_tokens - other.input_tokens,
            self.output_tokens - other.output_tokens,
        )

    def plus(self, other: Cost) -> Cost:
        return self.minus(Cost(-other.requests, -other.input_tokens, -other.output_tokens))


NOTHING = Cost(0, 0, 0)


def per_minute(limits: RateLimits, bucket: str) -> int | None:
    return {
        "requests": limits.requests_per_minute,
        "input_tokens": limits.input_tokens_per_minute,
        "output_tokens": limits.output_tokens_per_minute,
    }[bucket]


def intervals(limits: RateLimits, shards: int = 1) -> dict[str, float]:
    """Seconds of capacity one unit costs, per limited bucket (a shard holds 1/shards)."""
    found: dict[str, float] = {}
    for bucket in BUCKETS:
        rate = per_minute(limits, bucket)
        if rate:
            found[bucket] = SECONDS_PER_MINUTE * shards / rate
    return found


@dataclass
class Schedule:
    """The shared state of one limit key (one DynamoDB item)."""

    tat: dict[str, float] = field(default_factory=dict)
    # The next free place in each route's line (epoch seconds).
    lines: dict[str, float] = field(default_factory=dict)
    # Set from a 429's retry-after or exhausted rate-limit headers: nobody calls before.
    paused_until: float = 0.0
    paused_reason: str = ""
    # Output really used over output reserved (max_tokens), learned from reconciliations:
    # places in line are spaced by what calls are expected to use, not by max_tokens.
    output_ratio: float = 1.0


@dataclass(frozen=True)
class Verdict:
    # When the call may start (<= now: at once).
    start: float
    # Capacity is reserved for `start`: come back then and call without asking again.
    booked: bool
    # The event's place in its route's line, kept across deferrals.
    line_at: float | None
    # What binds: a bucket name, "line", or the pause's reason.
    reason: str


def _dearest(cost: Cost, spacing: dict[str, float], output_ratio: float) -> tuple[str, float]:
    """The bucket a call costs most time in, and that time (output at its expected use)."""
    expected = {
        bucket: cost.of(bucket) * (output_ratio if bucket == "output_tokens" else 1.0)
        for bucket in spacing
    }
    return max(
        ((bucket, expected[bucket] * spacing[bucket]) for bucket in spacing),
        key=lambda pair: pair[1],
        default=("requests", 0.0),
    )


def admit(
    schedule: Schedule,
    limits: RateLimits,
    *,
    now: float,
    lane: str,
    weight: int,
    cost: Cost,
    line_at: float | None,
    horizon: float,
    burst: float,
    shards: int = 1,
) -> Verdict:
    """Decide for one call and update `schedule` in place (the caller writes it back)."""
    if schedule.paused_until > now:
        return Verdict(schedule.paused_until, False, line_at, schedule.paused_reason)
    spacing = intervals(limits, shards)
    # Lines that have emptied carry no bytes on the item, and only busy ones carry weight.
    schedule.lines = {
        other: place for other, place in schedule.lines.items() if place > now - burst
    }
    dearest, seconds = _dearest(cost, spacing, schedule.output_ratio)
    if line_at is None:
        waiting = sum(
            weight_of(other)
            for other, place in schedule.lines.items()
            if other != lane and place > now
        )
        share = weight / (weight + waiting)
        # A line that was empty may use the burst allowance too.
        line_at = max(schedule.lines.get(lane, now - burst), now - burst)
        schedule.lines[lane] = line_at + seconds / share
    # Earliest start at which every bucket's backlog is within its burst allowance.
    reason, start = dearest, max(now, line_at)
    for bucket in spacing:
        ready = schedule.tat.get(bucket, now) - burst
        if ready > start:
            reason, start = bucket, ready
    if start - now > horizon:
        return Verdict(start, False, line_at, reason)
    for bucket, interval in spacing.items():
        schedule.tat[bucket] = max(schedule.tat.get(bucket, now), start) + cost.of(bucket) * (
            interval
        )
    return Verdict(start, True, line_at, reason)


def observe(schedule: Schedule, statuses: RateLimitStatus, now: float, needed: Cost) -> None:
    """Learn from the API's `anthropic-ratelimit-*` headers ({bucket: (limit, remaining,
    reset)}): when a bucket cannot pay for another call like this one (someone else shares
    the organisation's limits), everyone pauses until it can, at the API's refill rate."""
    for bucket, (limit, remaining, _reset) in statuses.items():
        short = max(1, needed.of(bucket)) - remaining
        if short > 0 and limit > 0:
            pause(schedule, now + short * SECONDS_PER_MINUTE / limit, f"{bucket} (API headers)")


def weight_of(lane: str) -> int:
    """Lanes are stored as `<weight>:<route>` so the weights travel with the state."""
    head, _, _ = lane.partition(":")
    return int(head) if head.isdigit() else 1


def lane_for(route: str, weight: int) -> str:
    return f"{weight}:{route}"


def credit(
    schedule: Schedule, limits: RateLimits, unused: Cost, reserved: Cost, shards: int = 1
) -> None:
    """Give back capacity reserved but not used (max_tokens over the real output, an input
    estimate over the real count); a negative amount charges what was used beyond it."""
    for bucket, interval in intervals(limits, shards).items():
        if bucket in schedule.tat:
            schedule.tat[bucket] -= unused.of(bucket) * interval
    if reserved.output_tokens > 0:
        used = 1.0 - unused.output_tokens / reserved.output_tokens
        sample = min(1.0, max(MIN_OUTPUT_RATIO, used))
        schedule.output_ratio = (1 - LEARNING_RATE) * schedule.output_ratio + (
            LEARNING_RATE * sample
        )


def pause(schedule: Schedule, until: float, reason: str) -> None:
    """The API said no until `until` (a 429's retry-after, or no capacity left in a bucket)."""
    if until > schedule.paused_until:
        schedule.paused_until, schedule.paused_reason = until, reason
