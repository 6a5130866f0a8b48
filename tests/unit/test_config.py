"""hookwise.yaml validation: the shipped config loads; mistakes name the key at fault."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from hookwise.config import ConfigError, load_config
from hookwise.config.loader import compile_config, parse_config
from hookwise.sources import compiled_path, load_sources

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "hookwise.yaml"


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text())


def test_shipped_config_loads_with_its_sources_and_routes() -> None:
    config = load_config(str(SHIPPED))
    assert {"github", "standard", "hmac"} <= set(config.sources)
    assert config.sources["github"].name == "github"
    names = [route.name for route in config.routes]
    assert "github-pr-review" in names
    assert "github-issue-triage" in names


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["sources"]["github"].update(scheme="gitlab"), "sources.github.scheme"),
        (lambda c: c["sources"]["github"].update(tolerance=5), "sources.github.tolerance"),
        (lambda c: c["routes"][0]["match"].update(source="nope"), "routes[0].match.source"),
        (lambda c: c["routes"][1].update(output="missing"), "routes[1].output"),
        (lambda c: c["routes"][0].update(max_tokens=0), "routes[0].max_tokens"),
        (lambda c: c["routes"][1].update(model="gpt"), "routes[1].model"),
        (
            lambda c: c["schemas"]["pr_review"]["summary"].update(type="date"),
            "schemas.pr_review.summary.type",
        ),
        (lambda c: c["defaults"].pop("model"), "defaults.model"),
        (lambda c: c["routes"].append(dict(c["routes"][0])), "duplicate route name"),
        (
            lambda c: c["routes"][0]["coalesce"].update(quiet_seconds=0),
            "routes[0].coalesce.quiet_seconds",
        ),
        (
            lambda c: c["routes"][0]["coalesce"].update(max_wait_seconds=30),
            "max_wait_seconds must be at least quiet_seconds",
        ),
        (
            lambda c: c["routes"][0]["coalesce"].update(cancel_on=["pull_request.*"]),
            "also match the route's own events",
        ),
        (lambda c: c["routes"][0].pop("subject"), "coalesce needs a subject"),
        (lambda c: c["routes"][0]["coalesce"].update(quiet=60), "routes[0].coalesce.quiet"),
    ],
)
def test_invalid_config_names_the_offending_key(mutate, expected: str) -> None:
    config = shipped()
    mutate(config)
    with pytest.raises(ConfigError) as raised:
        parse_config(yaml.safe_dump(config))
    assert expected in str(raised.value)


def test_unreadable_and_non_mapping_configs_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "absent.yaml"))
    with pytest.raises(ConfigError, match="mapping"):
        parse_config("- a\n- b\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_config("a: [unclosed\n")


def test_a_key_given_twice_in_one_mapping_is_refused_with_its_line() -> None:
    text = SHIPPED.read_text()
    line = "    deliveries: {eventbridge: false}\n"
    assert line in text
    twice = text.replace(line, line + '    deliveries: {callback_url: "https://hooks.example/x"}\n')
    with pytest.raises(ConfigError, match="found the key 'deliveries' twice") as raised:
        parse_config(twice)
    assert f"line {text[: text.index(line)].count(chr(10)) + 2}" in str(raised.value)
    # Once is fine, and the same key in two mappings is not a repeat.
    assert parse_config(text).route_named("github-pr-review") is not None


def test_compiled_config_is_loaded_and_a_stale_one_is_ignored(tmp_path: Path) -> None:
    source = tmp_path / "hookwise.yaml"
    shutil.copy(SHIPPED, source)
    compile_config(source, compiled_path(source))
    assert load_config.__wrapped__(str(source)) == parse_config(source.read_text())
    # The JSON is what a deployment loads: a change to it shows...
    compiled = json.loads(compiled_path(source).read_text())
    compiled["config"]["defaults"]["max_tokens"] = 77
    compiled_path(source).write_text(json.dumps(compiled))
    assert load_config.__wrapped__(str(source)).defaults.max_tokens == 77
    # ...until the YAML changes after compiling: then the YAML wins.
    source.write_text(source.read_text() + "\n# edited\n")
    assert load_config.__wrapped__(str(source)).defaults.max_tokens != 77


def test_the_shipped_pr_review_coalesces_a_prs_pushes() -> None:
    route = load_config(str(SHIPPED)).route_named("github-pr-review")
    assert route is not None
    assert route.coalesce is not None
    assert (route.coalesce.quiet_seconds, route.coalesce.max_wait_seconds) == (60, 600)
    assert route.coalesce.cancel_on == ["pull_request.closed"]
    assert route.coalesce.order_by == "pull_request.updated_at"


def test_the_shipped_pr_review_as_a_batch_route_keeps_its_context(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hookwise.cli.config_check import config as config_command

    document = shipped()
    route = next(r for r in document["routes"] if r["name"] == "github-pr-review")
    route["mode"] = "batch"
    path = tmp_path / "hookwise.yaml"
    path.write_text(yaml.safe_dump(document))
    loaded = load_config.__wrapped__(str(path)).route_named("github-pr-review")
    assert loaded is not None
    assert loaded.mode == "batch"
    assert loaded.context.github_pr_files is not None
    checked = CliRunner().invoke(config_command, ["check", "--config", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "configuration is valid" in checked.output


def test_the_ingest_functions_sources_read_from_the_compiled_json_as_from_the_yaml(
    tmp_path: Path,
) -> None:
    source = tmp_path / "hookwise.yaml"
    shutil.copy(SHIPPED, source)
    from_yaml = load_sources.__wrapped__(str(source))
    compile_config(source, compiled_path(source))
    compiled = json.loads(compiled_path(source).read_text())
    compiled["config"]["sources"]["github"]["tolerance_seconds"] = 99
    compiled_path(source).write_text(json.dumps(compiled))
    from_json = load_sources.__wrapped__(str(source))
    # Read from the JSON (the edit shows), and otherwise the same sources as the YAML gives.
    assert from_json["github"].tolerance_seconds == 99
    assert {**from_json, "github": from_yaml["github"]} == from_yaml
    assert from_yaml["github"].scheme == "github"
