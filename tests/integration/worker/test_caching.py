"""A route whose prefix reaches the model's minimum is marked with its lifetime and read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hookwise.config import load_config
from hookwise.llm.base import ModelUsage
from hookwise.llm.caching import cost_usd
from tests.integration.worker.conftest import Configs, Pipeline


def long_instructions(configs: Configs, ttl: str) -> Path:
    """The pipeline on its config with the PR route's instructions past Sonnet's 1,024
    tokens, cached for `ttl`."""

    def lengthen(route: dict[str, Any]) -> None:
        route["system"] += " Be careful." * 500
        route["cache"] = {"ttl": ttl}

    return configs.edit_route("github-pr-review", lengthen)


@pytest.mark.parametrize("ttl", ["5m", "1h"])
def test_a_long_prefix_is_written_once_then_read_at_the_routes_lifetime(
    pipeline: Pipeline, configs: Configs, ttl: str
) -> None:
    config = long_instructions(configs, ttl)
    first = pipeline.deliver(delivery="a")
    pipeline.poll()
    second = pipeline.deliver(delivery="b", fixture="pull_request.synchronize")
    pipeline.poll()
    mark = pipeline.model.model.requests[-1]["system"][-1]["cache_control"]
    assert mark.get("ttl", "5m") == ttl
    written, read = pipeline.record(first).usage, pipeline.record(second).usage
    assert written is not None
    assert read is not None
    assert written.cache_creation_input_tokens > 1024
    assert read.cache_read_input_tokens == written.cache_creation_input_tokens
    spec = load_config(str(config)).models["claude-sonnet-4-5"]
    tokens = {k: v for k, v in written.as_dict().items() if k != "cost_usd"}
    assert written.cost_usd == cost_usd(spec, ModelUsage(**tokens), cache_ttl=ttl)  # type: ignore[arg-type]
    assert read.cost_usd < written.cost_usd


def route_cache_records(out: str) -> list[dict[str, object]]:
    """The per-route cache metric records Powertools printed (one JSON object a line)."""
    records = [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]
    return [
        r for r in records if "route" in r and ("CacheWriteTokens" in r or "CacheReadTokens" in r)
    ]


def test_per_route_cache_metrics_only_for_calls_that_touch_the_cache(
    pipeline: Pipeline,
    configs: Configs,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    pipeline.deliver(delivery="short")
    pipeline.poll()
    assert route_cache_records(capsys.readouterr().out) == []  # too short to cache: no records
    long_instructions(configs, "5m")
    pipeline.deliver(delivery="long")
    pipeline.poll()
    written = route_cache_records(capsys.readouterr().out)
    assert {name for r in written for name in r if name.startswith("Cache")} == {
        "CacheWriteTokens",
        "CacheReadTokens",
    }
    assert all(r["route"] == "github-pr-review" for r in written)
