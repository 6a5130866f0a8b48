"""Bursts over HTTP against `hookwise dev`, the offline model at its limit and the production
receive budget: every event completed, nothing in the DLQ, about one call per event, and a
few Stripe events served long before a GitHub flood drains. The bounds are loose (a busy
2-core machine); `make bench` measures the tight figures at full size."""

from __future__ import annotations

import pytest

from bench import burst

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("kind", ["requests", "input_tokens"])
def test_a_burst_at_the_models_limit_completes_with_nothing_in_the_dlq(kind: str) -> None:
    result = burst.run(50, 300, kind=kind)
    assert result["completed"] == 50, result
    assert result["dlq"] == 0, result
    assert result["calls_per_event"] <= 1.25, result
    assert result["drain_over_ideal"] <= 2.0, result


def test_the_shipped_configuration_runs_at_the_limits_the_model_announces() -> None:
    # No limits configured (Tier 1 defaults: about ten reviews a minute); the model announces
    # 300 requests a minute and enforces them as 5 a second. The governor adopts the announced
    # limits and learns the shorter interval from its first 429s.
    result = burst.announced_per_second(100)
    assert result["completed"] == 100, result
    assert result["dlq"] == 0, result
    assert result["calls_per_event"] <= 1.15, result
    assert result["drain_over_ideal"] <= 1.5, result


def test_a_flood_on_one_route_does_not_starve_another() -> None:
    # At 150/min the flood outlasts its own posting (the local gateway shares one process
    # with the worker), so the Stripe events arrive with most of it still to run.
    result = burst.run(80, 150, stripe=5)
    assert result["completed"] == 85, result
    # Behind a FIFO queue they would wait for all that is left of the flood (a ratio near 1).
    assert result["fairness"]["stripe_p95_over_github_left"] <= 0.5, result
