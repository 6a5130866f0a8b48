"""Caching that pays: the prefix estimate, the minimum, the break-even arithmetic, the prices."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hookwise.cli.config_check import cacheability, config
from hookwise.config import ModelSpec, load_config
from hookwise.llm.base import ModelUsage, ToolSpec
from hookwise.llm.caching import break_even, cacheable, cost_usd, prefix_tokens

SHIPPED = Path(__file__).resolve().parents[3] / "hookwise.yaml"
SONNET = ModelSpec(
    input=3.0, output=15.0, cache_write=3.75, cache_read=0.30, min_cacheable_tokens=1024
)
TOOL = ToolSpec(name="record", description="Record.", input_schema={"type": "object"})


def test_the_prefix_counts_the_tool_definition_and_the_system_prompt() -> None:
    bare = prefix_tokens("", TOOL, 4.0)
    assert bare > 0
    assert prefix_tokens("x" * 4000, TOOL, 4.0) == bare + 1000


def test_a_prefix_is_cacheable_from_the_models_minimum() -> None:
    assert not cacheable(SONNET, 1023)
    assert cacheable(SONNET, 1024)
    assert cacheable(None, 1024)  # the API's most common minimum when a model is unlisted


@pytest.mark.parametrize(("ttl", "write", "reads"), [("5m", 1.25, 1), ("1h", 2.0, 2)])
def test_break_even_is_the_first_read_count_that_costs_less(
    ttl: str, write: float, reads: int
) -> None:
    found = break_even(SONNET, ttl)  # type: ignore[arg-type]
    assert found.write == pytest.approx(write)
    assert found.read == pytest.approx(0.1)
    assert found.reads_to_pay == reads
    # Checked against the definition: n reads cost write + n * read, uncached n + 1.
    n = reads
    assert found.write + n * found.read < 1 + n
    assert found.write + (n - 1) * found.read >= n


def test_a_cache_that_costs_no_more_than_input_pays_at_once() -> None:
    free_write = SONNET.model_copy(update={"cache_write": 3.0})
    assert break_even(free_write, "5m").reads_to_pay == 0


def test_cost_prices_cache_writes_by_lifetime_and_batches_at_the_discount() -> None:
    usage = ModelUsage(
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_creation_input_tokens=1_000_000,
        cache_read_input_tokens=1_000_000,
    )
    five_minutes = 3.0 + 1.5 + 3.75 + 0.30
    assert cost_usd(SONNET, usage) == pytest.approx(five_minutes)
    assert cost_usd(SONNET, usage, cache_ttl="1h") == pytest.approx(five_minutes - 3.75 + 6.0)
    assert cost_usd(SONNET, usage, batch=True) == pytest.approx(five_minutes / 2)
    assert cost_usd(None, usage) == 0.0


def test_config_check_reports_each_routes_prefix_against_the_minimum() -> None:
    loaded = load_config(str(SHIPPED))
    rows = {row.route: row for row in cacheability(loaded)}
    assert set(rows) == {route.name for route in loaded.routes}
    pr = rows["github-pr-review"]
    assert pr.minimum_tokens == 1024
    assert pr.cacheable is (pr.prefix_tokens >= 1024)
    assert rows["github-issue-triage"].minimum_tokens == 4096
    assert pr.verdict() == f"no: {1024 - pr.prefix_tokens} short"
    assert pr.arithmetic() == "write 1.25x, read 0.1x: pays from 2 events per 5m"


def test_config_check_prints_the_caching_table(tmp_path: Path) -> None:
    long_route = SHIPPED.read_text().replace(
        "      You review pull requests for a software team.",
        "      " + "You review pull requests for a software team. " * 100,
        1,
    )
    path = tmp_path / "hookwise.yaml"
    path.write_text(long_route)
    result = CliRunner().invoke(config, ["check", "--config", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    caching = result.output.split("prompt caching")[1]
    rows = {line.split()[1]: line for line in caching.splitlines() if line.startswith("│")}
    assert rows["github-pr-review"].split("│")[5].strip() == "yes"
    assert "pays from 2 events per 5m" in rows["github-pr-review"]
    assert "no:" in rows["github-issue-triage"]
