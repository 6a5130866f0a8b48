"""Route `context:`, `actions:` and `dry_run` in hookwise.yaml: typos and bad references are
errors that name the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hookwise.config import ConfigError
from hookwise.config.loader import parse_config

SHIPPED = Path(__file__).resolve().parents[3] / "hookwise.yaml"


def route(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in config["routes"] if r["name"] == name)


def load(mutate: Callable[[dict[str, Any]], None]) -> None:
    config = yaml.safe_load(SHIPPED.read_text())
    mutate(config)
    parse_config(yaml.safe_dump(config))


def test_shipped_routes_declare_their_context_and_actions() -> None:
    config = yaml.safe_load(SHIPPED.read_text())
    parsed = parse_config(yaml.safe_dump(config))
    review = parsed.route_named("github-pr-review")
    assert review is not None
    assert review.context.github_pr_files is not None
    assert review.actions.github_comment is not None
    triage = parsed.route_named("github-issue-triage")
    assert triage is not None
    assert triage.actions.github_labels is not None
    assert "bug" in triage.actions.github_labels.allow
    slack = parsed.route_named("slack-mentions")
    assert slack is not None
    assert slack.actions.slack_reply is not None


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda c: route(c, "github-pr-review")["actions"].update({"github.coment": {}}),
            "github.coment",
        ),
        (
            lambda c: route(c, "github-pr-review")["context"]["github_pr_files"].update(budget=5),
            "budget",
        ),
        (
            lambda c: route(c, "github-issue-triage")["actions"]["github.labels"].update(
                fields=["nope"]
            ),
            "'nope' is not in schema",
        ),
        (
            lambda c: route(c, "github-issue-triage")["actions"]["github.labels"].update(allow=[]),
            "allow",
        ),
        (
            lambda c: route(c, "github-pr-review").update(
                actions={"http": {"url": "https://a.example"}},
                deliveries={"callback_url": "https://b.example"},
            ),
            "not both",
        ),
        (lambda c: route(c, "github-pr-review").update(dry_run="sometimes"), "dry_run"),
        (
            lambda c: route(c, "github-pr-review")["actions"]["github.comment"].update(
                mention_author="the reviewers"
            ),
            "mention_author",
        ),
        (
            lambda c: route(c, "slack-mentions")["actions"]["slack.reply"].update(
                mention_authors=True
            ),
            "mention_authors",
        ),
    ],
)
def test_mistakes_name_the_key(mutate: Callable[[dict[str, Any]], None], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load(mutate)


def test_a_route_may_allow_mentioning_the_author() -> None:
    config = yaml.safe_load(SHIPPED.read_text())
    route(config, "github-pr-review")["actions"]["github.comment"]["mention_author"] = True
    parsed = parse_config(yaml.safe_dump(config)).route_named("github-pr-review")
    assert parsed is not None
    assert parsed.actions.github_comment is not None
    assert parsed.actions.github_comment.mention_author
    slack = parse_config(SHIPPED.read_text()).route_named("slack-mentions")
    assert slack is not None
    assert slack.actions.slack_reply is not None
    assert not slack.actions.slack_reply.mention_author


def test_the_older_callback_url_is_the_http_action() -> None:
    config = yaml.safe_load(SHIPPED.read_text())
    route(config, "github-pr-review")["deliveries"] = {"callback_url": "https://hooks.example/x"}
    parsed = parse_config(yaml.safe_dump(config)).route_named("github-pr-review")
    assert parsed is not None
    assert parsed.http_action is not None
    assert parsed.http_action.url == "https://hooks.example/x"
