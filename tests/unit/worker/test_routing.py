"""Routing: source, event-type globs and payload conditions; no match means skipped."""

from __future__ import annotations

from hookwise.config.loader import parse_config
from tests.conftest import CONFIG_PATH

CONFIG_TEXT = (
    CONFIG_PATH.read_text()
    + """
  - name: big-refunds
    match:
      source: standard
      event_types: ["refund.*"]
      where: {"data.amount_gt_1000": true, "data.currency": [EUR, USD]}
    system: Flag big refunds.
    output: event_summary
"""
)


def config():
    text = CONFIG_TEXT.replace("- name: standard-summary", "- name: standard-summary-last")
    # Make the catch-all come after the specific route: the first match wins.
    return parse_config(text)


def test_routes_match_on_source_type_glob_and_conditions() -> None:
    from hookwise.worker.routing import route_for

    routes = parse_config(CONFIG_TEXT)
    pr = route_for(routes, "github", "pull_request.opened", {})
    assert pr is not None
    assert pr.name == "github-pr-review"
    assert route_for(routes, "github", "pull_request.closed", {}) is None
    assert route_for(routes, "github", "push", {}) is None
    assert route_for(routes, "nope", "pull_request.opened", {}) is None


def test_first_matching_route_wins_and_conditions_filter() -> None:
    from hookwise.worker.routing import route_for

    routes = parse_config(CONFIG_TEXT)
    refund = {"data": {"amount_gt_1000": True, "currency": "EUR"}}
    # standard-summary ("*") comes first in the file, so it wins over big-refunds.
    first = route_for(routes, "standard", "refund.created", refund)
    assert first is not None
    assert first.name == "standard-summary"
    only_specific = parse_config(CONFIG_TEXT.replace('event_types: ["*"]', "event_types: [x]"))
    matched = route_for(only_specific, "standard", "refund.created", refund)
    assert matched is not None
    assert matched.name == "big-refunds"
    assert (
        route_for(
            only_specific,
            "standard",
            "refund.created",
            {"data": {"amount_gt_1000": True, "currency": "JPY"}},
        )
        is None
    )
    assert route_for(only_specific, "standard", "refund.created", {"data": {}}) is None
