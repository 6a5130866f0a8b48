"""`hookwise config check` says which limits the governor starts each model at, and why."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from hookwise.cli.config_check import config, model_limits
from hookwise.config import load_config
from tests.conftest import CONFIG_PATH


def test_the_shipped_defaults_are_shown_as_a_starting_point(tmp_path: Path) -> None:
    rows = {row.model: row for row in model_limits(load_config(str(CONFIG_PATH)))}
    sonnet = rows["claude-sonnet-4-5"]
    assert sonnet.key == "anthropic:claude-sonnet-4-5"
    assert sonnet.limits["output_tokens"] == (8_000, "default")
    assert not sonnet.configured
    assert sonnet.note() == "until the API's first answer announces the organisation's limits"
    result = CliRunner().invoke(
        config, ["check", "--config", str(CONFIG_PATH)], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    table = result.output.split("model rate limits")[1]
    line = next(row for row in table.splitlines() if "claude-sonnet-4-5" in row)
    assert "8,000" in line
    assert line.split("│")[6].strip() == "default"
    assert "default: until the API's first answer announces the organisation's limits." in (table)


def test_configured_limits_are_shown_as_a_ceiling(tmp_path: Path) -> None:
    path = tmp_path / "hookwise.yaml"
    path.write_text(
        CONFIG_PATH.read_text().replace(
            "    min_cacheable_tokens: 1024\n",
            "    min_cacheable_tokens: 1024\n    limits: {anthropic: {requests_per_minute: 900}}\n",
            1,
        )
    )
    rows = {row.model: row for row in model_limits(load_config(str(path)))}
    sonnet = rows["claude-sonnet-4-5"]
    assert sonnet.limits == {"requests": (900, "configured")}
    assert sonnet.note() == "a ceiling: lower limits the API announces apply below it"
    # Bedrock is limited apart: the Anthropic API's limits do not apply to it.
    bedrock = tmp_path / "bedrock.yaml"
    bedrock.write_text(path.read_text().replace("  provider: anthropic", "  provider: bedrock", 1))
    rows = {row.model: row for row in model_limits(load_config(str(bedrock)))}
    assert rows["claude-sonnet-4-5"].note() == "Bedrock announces no limits: these hold"
