"""The benchmark's arithmetic, and one small real measurement: a broken measurement fails."""

from __future__ import annotations

import pytest

from bench import cost, prices, prompts
from bench.stats import NoSamples, median, percentile, ratio
from hookwise.config import load_config


def test_percentiles_and_ratios_on_known_samples() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert median(samples) == 50.5
    assert percentile(samples, 99) == 99.0
    assert percentile(samples, 100) == 100.0
    assert ratio([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]) == 2.0


@pytest.mark.parametrize("broken", [[], [0.0, 0.0]])
def test_a_ratio_from_no_samples_or_a_zero_floor_raises(broken: list[float]) -> None:
    with pytest.raises(NoSamples):
        ratio([1.0], broken)
    with pytest.raises(NoSamples):
        median([])


def test_cost_per_million_from_known_inputs() -> None:
    footprint = {
        "log_bytes": 1024**3 // 1_000_000,
        "item_bytes": 3000,
        "usage": {
            "input_tokens": 1000,
            "output_tokens": 100,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    figures = cost.per_million(ingest_ms=10, worker_seconds_per_event=0.1, footprint=footprint)
    assert figures["api_gateway"] == pytest.approx(prices.HTTP_API_REQUEST * 1_000_000)
    # 3 KB items: four 3-unit writes and one memory write.
    assert figures["dynamodb"] == pytest.approx(
        (13 * prices.DYNAMODB_WRITE_UNIT + 0.5 * prices.DYNAMODB_READ_UNIT) * 1_000_000
    )
    # 1000 input and 100 output tokens at the default model's prices ($3 and $15 per million).
    assert figures["model_tokens"] == pytest.approx((1000 * 3 + 100 * 15) / 1_000_000 * 1_000_000)
    lambda_gb_s = 0.010 * 0.5 + 0.1 * 1.0
    assert figures["lambda"] == pytest.approx(
        (1.1 * prices.LAMBDA_REQUEST + lambda_gb_s * prices.LAMBDA_GB_SECOND_ARM) * 1_000_000
    )
    assert all(value > 0 for value in figures.values())


def test_prompt_economy_measures_real_prompts() -> None:
    figures = prompts.measure()
    pr = figures["pull_request.opened"]
    assert 0 < pr["prompt_bytes"] < pr["whole_payload_bytes"]
    assert pr["ratio"] <= 0.1
    assert set(figures) == set(prompts.EVENTS)


def test_a_small_ingest_run_gives_a_sane_ratio_and_prints_no_metrics(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import ingest

    # Past 100 deliveries Powertools prints a metric set (each delivery adds a value to a
    # metric), even with metrics disabled: `make bench` must print only its table.
    figures = ingest.measure(requests=120)
    assert figures["handler_ms"]["median"] > 0
    assert figures["ratio_median"] > 0.5
    assert '"_aws"' not in capsys.readouterr().out


def test_model_cost_by_mode_from_the_offline_models_token_counts() -> None:
    from bench import model_cost

    figures = model_cost.measure()
    shipped = {route.name for route in load_config(str(model_cost.CONFIG_PATH)).routes}
    assert shipped <= set(figures)
    for modes in figures.values():
        assert modes["batch"] <= modes["realtime"] / 2 + 1e-6
        assert modes["realtime_cached"] <= modes["realtime"] + 1e-6
    pr = figures["github-pr-review"]
    assert pr["batch"] <= pr["realtime"] / 2 + 1e-6
    # A prefix long enough to cache is read from the cache by all but the first event.
    long = figures[model_cost.LONG_PR_ROUTE]
    assert long["cacheable"]
    assert long["realtime_cached"] < long["realtime"] * 0.6
