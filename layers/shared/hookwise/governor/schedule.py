"""The governor's arithmetic, pure: a GCRA token bucket per limit (requests, input tokens,
output tokens), booked slots a short horizon ahead, and a line per route for the rest.

GCRA keeps one number per bucket, the theoretical arrival time (TAT): when all capacity
granted so far will have been paid back at the configured rate. A call may start once every
bucket's backlog (TAT - now) is within its burst allowance; granting it moves each TAT on by
the call's cost times the bucket's interval. Two numbers travel with no clock of their own, so
instances with skewed clocks agree on the state and disagree only by their skew.

Limits in force: where the configuration sets a model's limits they are a ceiling, and lower
limits the API announces (its `anthropic-ratelimit-*-limit` headers) apply below it; where it
sets none, `default_limits` are only the starting point, replaced by the API's own as soon as it
announces them (a bucket it does not announce is then not limited). A change of rate rescales
what is booked and the lines, so capacity granted at the old rate is owed at the new one.

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
# Until the API has announced its limits, an event beyond the horizon comes back this soon
# rather than take a place in line spaced at the default limits (Tier 1 would space a burst
# minutes apart): the first answer's headers are in the shared state by then.
PROBE_SECONDS = 1.0
# A burst allowance learned smaller than this is none at all: calls one interval apart.
MIN_BURST_SECONDS = 0.05
# Past none, each further 429 pause spaces calls this share of a request's interval more,
# down to this share (a pace a fifth under the limit at most).
SLOWER_STEP = 0.05
SLOWEST = 0.25

# Per bucket: calls (or tokens) per minute.
Rates = dict[str, float]
# Per bucket: (per minute, where it came from: "configured", "announced" or "default").
InForce = dict[str, tuple[int, str]]


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


def in_force(
    limits: RateLimits, announced: dict[str, int] | None, *, configured: bool = True
) -> InForce:
    """The limits that hold, per bucket, and their source. Configured limits are a ceiling: an
    announced limit below one applies. Defaults hold only until the API announces its limits
    (Bedrock never does: `announced` is then empty, and the defaults stay)."""
    heard = announced or {}
    found: InForce = {}
    for bucket in BUCKETS:
        mine, theirs = per_minute(limits, bucket), heard.get(bucket)
        if not configured:
            if heard:
                mine = None
            elif mine:
                found[bucket] = (mine, "default")
                continue
        if theirs and (not mine or theirs < mine):
            found[bucket] = (theirs, "announced")
        elif mine:
            found[bucket] = (mine, "configured")
    return found


def rates_of(limits: InForce) -> Rates:
    return {bucket: float(rate) for bucket, (rate, _source) in limits.items()}


def intervals(rates: Rates, shards: int = 1) -> dict[str, float]:
    """Seconds of capacity one unit costs, per limited bucket (a shard holds 1/shards)."""
    return {bucket: SECONDS_PER_MINUTE * shards / rate for bucket, rate in rates.items() if rate}


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
    # The API's limits per bucket from its headers: None until an answer came back; empty if
    # answers carry none (Bedrock).
    announced: dict[str, int] | None = None
    # The rates the TATs and lines were booked at (a change rescales them).
    rates: Rates = field(default_factory=dict)
    # The burst allowance learned from 429s the governor did not expect (None: as configured):
    # the API enforcing its per-minute limits over a shorter interval.
    burst: float | None = None


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
    # The limits the decision was made under, and where each came from.
    limits: InForce = field(default_factory=dict)


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


def allowance(schedule: Schedule, burst: float) -> float:
    """The burst allowance in force: the configured one, or less where 429s taught so."""
    return burst if schedule.burst is None else min(burst, schedule.burst)


def retune(schedule: Schedule, rates: Rates, now: float, cost: Cost, output_ratio: float) -> None:
    """Rates changed (the API announced its limits, or other ones): what is booked is owed at
    the new rates, so each bucket's backlog and each line's are rescaled."""
    old = schedule.rates
    if old == rates:
        return
    if old:
        for bucket, tat in list(schedule.tat.items()):
            if bucket not in rates:
                del schedule.tat[bucket]
            elif bucket in old and tat > now:
                schedule.tat[bucket] = now + (tat - now) * old[bucket] / rates[bucket]
        before = _dearest(cost, intervals(old), output_ratio)[1]
        after = _dearest(cost, intervals(rates), output_ratio)[1]
        if before > 0:
            schedule.lines = {
                lane: now + (place - now) * after / before if place > now else place
                for lane, place in schedule.lines.items()
            }
    schedule.rates = dict(rates)


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
    configured: bool = True,
) -> Verdict:
    """Decide for one call and update `schedule` in place (the caller writes it back).
    `configured`: `limits` are the configuration's (a ceiling), not the defaults."""
    if schedule.paused_until > now:
        return Verdict(schedule.paused_until, False, line_at, schedule.paused_reason)
    limits_in_force = in_force(limits, schedule.announced, configured=configured)
    rates = rates_of(limits_in_force)
    retune(schedule, rates, now, cost, schedule.output_ratio)
    spacing = intervals(rates, shards)
    burst = allowance(schedule, burst)
    # What a line may use of the burst (a learned allowance below none slows the pace only).
    early = max(0.0, burst)
    # Lines that have emptied carry no bytes on the item, and only busy ones carry weight.
    schedule.lines = {
        other: place for other, place in schedule.lines.items() if place > now - early
    }
    dearest, seconds = _dearest(cost, spacing, schedule.output_ratio)
    place, line_end = line_at, None
    if place is None:
        waiting = sum(
            weight_of(other) for other, at in schedule.lines.items() if other != lane and at > now
        )
        share = weight / (weight + waiting)
        # A line that was empty may use the burst allowance too.
        place = max(schedule.lines.get(lane, now - early), now - early)
        line_end = place + seconds / share
    # Earliest start at which every bucket's backlog is within its burst allowance.
    reason, start = dearest, max(now, place)
    for bucket in spacing:
        ready = schedule.tat.get(bucket, now) - burst
        if ready > start:
            reason, start = bucket, ready
    if start - now > horizon and not configured and schedule.announced is None:
        # Nothing heard from the API yet: no place in a line spaced at the defaults.
        reason = f"{reason} (default limits until the API announces its own)"
        return Verdict(now + PROBE_SECONDS, False, line_at, reason, limits_in_force)
    if line_end is not None:
        schedule.lines[lane] = line_end
    if start - now > horizon:
        return Verdict(start, False, place, reason, limits_in_force)
    for bucket, interval in spacing.items():
        schedule.tat[bucket] = max(schedule.tat.get(bucket, now), start) + cost.of(bucket) * (
            interval
        )
    return Verdict(start, True, place, reason, limits_in_force)


def observe(
    schedule: Schedule, statuses: RateLimitStatus, now: float, needed: Cost, burst: float
) -> None:
    """Learn from the API's `anthropic-ratelimit-*` headers ({bucket: (limit, remaining,
    reset)}) after a call costing `needed`: the limits the API announces, and where a bucket
    cannot pay for another such call (someone else shares the organisation's limits, or the
    API counts a shorter interval), that bucket is as full as the API says: the next call
    starts once it can pay, at the API's refill rate. Booked that way rather than paused,
    the calls behind it take the next slots instead of all coming back later."""
    schedule.announced = {bucket: limit for bucket, (limit, _, _) in statuses.items() if limit > 0}
    for bucket, (limit, remaining, _reset) in statuses.items():
        short = max(1, needed.of(bucket)) - remaining
        if short > 0 and limit > 0:
            full = now + allowance(schedule, burst) + short * SECONDS_PER_MINUTE / limit
            schedule.tat[bucket] = max(schedule.tat.get(bucket, now), full)


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
    estimate over the real count); a negative amount charges what was used beyond it. At the
    rates it was booked at (`limits` for a state booked before rates were kept)."""
    rates = schedule.rates or rates_of(in_force(limits, None))
    for bucket, interval in intervals(rates, shards).items():
        if bucket in schedule.tat:
            schedule.tat[bucket] -= unused.of(bucket) * interval
    if reserved.output_tokens > 0:
        used = 1.0 - unused.output_tokens / reserved.output_tokens
        sample = min(1.0, max(MIN_OUTPUT_RATIO, used))
        schedule.output_ratio = (1 - LEARNING_RATE) * schedule.output_ratio + (
            LEARNING_RATE * sample
        )


def pause(schedule: Schedule, until: float, reason: str) -> None:
    """The API said no until `until` (a 429's or a 529's retry-after)."""
    if until > schedule.paused_until:
        schedule.paused_until, schedule.paused_reason = until, reason


def refused(schedule: Schedule, now: float, until: float, reason: str, burst: float) -> None:
    """A 429 for a call the governor had given capacity: the API enforces its per-minute
    limits over a shorter interval than the burst allowance assumed (60 RPM as one request a
    second), or calls reach it later than booked and bunch up. The allowance halves, once per
    429 pause (the calls of one burst refused together teach one lesson), down to none; past
    that it goes below none, a twentieth of a request's interval at a time down to a quarter
    of one: calls that much further apart, the pace a little under the limit, so calls that
    reach the API late find room. Everyone pauses as asked."""
    if schedule.paused_until <= now or schedule.paused_reason != reason:
        current = allowance(schedule, burst)
        request = intervals(schedule.rates).get("requests", 0.0)
        if current >= MIN_BURST_SECONDS:
            halved = current / 2
            schedule.burst = halved if halved >= MIN_BURST_SECONDS else 0.0
        else:
            step, floor = SLOWER_STEP * request, -SLOWEST * request
            schedule.burst = max(floor, min(current, 0.0) - step)
    pause(schedule, until, reason)
