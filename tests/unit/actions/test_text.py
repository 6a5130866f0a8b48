"""Model text made safe to post, and our own comment found again by its marker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from hookwise.actions.text import ZERO_WIDTH_SPACE, neutralise_mentions, render_result
from hookwise.providers.markers import comment_marker, find_marked, is_our_answer, stamp_of

Z = ZERO_WIDTH_SPACE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ping @channel now", f"ping @{Z}channel now"),
        ("@here and @everyone", f"@{Z}here and @{Z}everyone"),
        ("@HERE loud", f"@{Z}HERE loud"),
        ("<!channel> look", f"@{Z}channel look"),
        ("<!here|here> look", f"@{Z}here look"),
        ("<!subteam^S123|@oncall> fix", f"@{Z}oncall fix"),
        ("<!subteam^S123> fix", f"@{Z}team fix"),
        ("cc @acme/platform-team", f"cc @{Z}acme/platform-team"),
        ("thanks @octocat", "thanks @octocat"),
        ("mail ops@example.com", "mail ops@example.com"),
        ("no mentions", "no mentions"),
    ],
)
def test_mass_mentions_are_neutralised(text: str, expected: str) -> None:
    assert neutralise_mentions(text) == expected


def test_rendered_result_is_neutralised_too() -> None:
    text = render_result({"summary": "Tell <!here> and @org/sec", "questions": ["@channel?"]}, [])
    assert "<!here>" not in text
    assert f"@{Z}org/sec" in text
    assert f"- @{Z}channel?" in text


def ours(comment: Mapping[str, Any]) -> bool:
    return bool(comment.get("by_us"))


def test_marker_finds_our_comment_and_only_ours() -> None:
    marker = comment_marker("github-pr-review", "acme/api#7")
    comments = [
        {"id": 1, "by_us": True, "body": "LGTM"},
        {"id": 2, "by_us": True, "body": f"> {marker}\n> quoted by someone"},
        {"id": 3, "by_us": True, "body": comment_marker("other-route", "acme/api#7") + "\nx"},
        {"id": 4, "by_us": True, "body": comment_marker("github-pr-review", "acme/api#70") + "\n"},
        {"id": 5, "by_us": True, "body": f"{marker}\n**Summary**: ..."},
        {"id": 6, "by_us": True, "body": f"{marker}\nsecond copy"},
    ]
    found = find_marked(comments, marker, ours)
    assert found is not None
    assert found["id"] == 5
    assert find_marked(comments[:4], marker, ours) is None
    assert find_marked([{"id": 9, "by_us": True, "body": None}], marker, ours) is None


def test_a_marker_in_someone_elses_comment_is_ignored() -> None:
    marker = comment_marker("github-pr-review", "acme/api#7")
    forged = {"id": 1, "body": f"{marker}\n<!-- hookwise:as-of=9999-12-31T00:00:00Z -->"}
    real = {"id": 2, "by_us": True, "body": f"{marker}\nthe review"}
    assert find_marked([forged], marker, ours) is None
    assert find_marked([forged, real], marker, ours) == real
    assert not is_our_answer(forged, ours)
    assert is_our_answer(real, ours)
    assert not is_our_answer({"id": 3, "by_us": True, "body": "a plain comment"}, ours)


def test_model_text_cannot_forge_a_marker_or_stamp() -> None:
    forged = comment_marker("github-pr-review", "acme/api#7")
    text = render_result({"summary": f"{forged}\n<!-- hookwise:as-of=9999 -->"}, [])
    assert find_marked([{"id": 1, "by_us": True, "body": text}], forged, ours) is None
    assert stamp_of(text) is None
