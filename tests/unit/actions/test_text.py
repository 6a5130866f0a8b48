"""Model text made safe to post, and our own comment found again by its marker.

GitHub's side is checked on the text as a CommonMark renderer (markdown-it) reads it: GitHub
finds mentions in the rendered text, so that is where none may be left."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from hookwise.actions.text import (
    ZERO_WIDTH_SPACE,
    neutralise_mentions,
    render_result,
    safe_github,
    safe_slack,
)
from hookwise.providers.markers import comment_marker, find_marked, is_our_answer, stamp_of

Z = ZERO_WIDTH_SPACE
# GitHub's mention: "@login" or "@org/team" after the start of a text node or an ASCII non-word
# character.
GITHUB_MENTION = re.compile(
    r"(?:^|(?<=[^A-Za-z0-9_]))@([A-Za-z0-9][A-Za-z0-9-]*)(/[A-Za-z0-9][A-Za-z0-9-]*)?"
)
# Slack's control sequences (a user, a channel, a broadcast, a date, a link) and, were
# `link_names` on, plain "@name" and "#channel".
SLACK_SEQUENCE = re.compile(r"<[^<>]*>")
SLACK_PLAIN_MENTION = re.compile(r"(?:^|(?<=[^A-Za-z0-9]))[@#][A-Za-z0-9]")
# GitHub's own extensions that change what is live: tables (cells split before inline parsing).
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def rendered(markdown: str) -> list[Any]:
    """The inline tokens a CommonMark renderer makes of `markdown`, block HTML included."""
    tokens: list[Any] = []
    for token in MARKDOWN.parse(markdown):
        tokens.append(token)
        tokens.extend(token.children or [])
    return tokens


def github_mentions(markdown: str) -> list[str]:
    """Who GitHub would notify: the mentions in the rendered text (code is never searched)."""
    return [
        match.group(1) + (match.group(2) or "")
        for token in rendered(markdown)
        if token.type == "text"
        for match in GITHUB_MENTION.finditer(token.content)
    ]


def shown_text(markdown: str) -> str:
    return "".join(t.content for t in rendered(markdown) if t.type in ("text", "code_inline"))


def assert_plain_github(markdown: str, allowed: str | None = None) -> None:
    kinds = {token.type for token in rendered(markdown)}
    assert not kinds & {"image", "link_open", "html_inline", "html_block"}, (markdown, kinds)
    assert all(m.lower() == (allowed or "").lower() for m in github_mentions(markdown)), markdown


def assert_plain_slack(text: str, allowed: str | None = None) -> None:
    sequences = SLACK_SEQUENCE.findall(text)
    assert all(sequence == f"<@{allowed}>" for sequence in sequences), text
    # Around the sequences left (only the allowed mention, each read as a word of its own:
    # "@<@UOK>img" mentions no "@img"), no plain mention, and `&`, `<`, `>` escaped.
    outside = SLACK_SEQUENCE.sub(" ", text)
    assert not SLACK_PLAIN_MENTION.findall(outside), text
    assert re.fullmatch(r"(?:[^&<>]|&amp;|&lt;|&gt;)*", outside, re.DOTALL), text


@pytest.mark.parametrize(
    "text",
    [
        "thanks @octocat",
        "ping @channel, @here and @everyone",
        "cc @acme/platform-team",
        "é@alice",  # GitHub's word characters are ASCII: a mention
        "_@alice_",  # emphasis: the rendered text starts "@alice"
        "**@alice**",
        "&#64;alice &commat;bob",  # entities render as "@"
        "\\@alice",
        "<b>@alice</b>",
    ],
)
def test_no_mention_reaches_github(text: str) -> None:
    assert github_mentions(text), "the example must mention someone as it stands"
    safe = safe_github(text)
    assert github_mentions(safe) == []
    assert "alice" in shown_text(safe) or "octocat" in shown_text(safe) or "@" in safe


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("![logo](https://beacon.example/p.gif)", "https://beacon.example/p.gif"),
        ("[re-auth](https://evil.example/login)", "https://evil.example/login"),
        ('[re-auth](https://evil.example "Sign in")', "https://evil.example"),
        ("[re-auth][1]\n\n[1]: https://evil.example", "https://evil.example"),
        ("[re-auth]\n\n[re-auth]: https://evil.example", "https://evil.example"),
        ('<img src="https://beacon.example/p.gif">', "https://beacon.example/p.gif"),
        ('<a href="https://evil.example">re-auth</a>', "https://evil.example"),
        ("<https://evil.example>", "https://evil.example"),
        ("\\\\[re-auth](https://evil.example)", "https://evil.example"),
        # A code span that a renderer pairs otherwise (across lines, or cut by table cells).
        ("`a\nb`<img src=https://beacon.example>`", "https://beacon.example"),
        ("a|b\n-|-\n`x|<img src=https://beacon.example>|y`", "https://beacon.example"),
    ],
)
def test_images_links_and_html_reach_github_as_text_with_the_url_visible(
    text: str, url: str
) -> None:
    before = {token.type for token in rendered(text)}
    assert before & {"image", "link_open", "html_inline", "html_block"}, "must be live as is"
    safe = safe_github(text)
    assert_plain_github(safe)
    assert url in shown_text(safe)


def test_a_model_backslash_cannot_undo_an_escape() -> None:
    assert_plain_github(safe_github("\\[re-auth](https://evil.example) \\<img src=x>"))


def test_the_text_still_reads_as_written() -> None:
    text = "Use `items[0]` or `List<T>` & check a < b; mail ops@example.com (see #12)."
    safe = safe_github(text)
    assert "`items[0]`" in safe
    assert "`List<T>`" in safe
    assert shown_text(safe) == text.replace("`", "")


def test_a_route_may_allow_the_author_and_only_the_author() -> None:
    text = "@Octocat please look; not @octocat-bot, @octocat/team or @hubot"
    assert github_mentions(safe_github(text, allow_mention="octocat")) == ["Octocat"]
    assert github_mentions(safe_github(text)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U012ABC> look", f"@{Z}U012ABC look"),
        ("<@U012ABC|alice> look", f"@{Z}alice look"),
        ("see <#C123>", f"see #{Z}C123"),
        ("see <#C123|general>", f"see #{Z}general"),
        ("<!here> and <!channel|channel>", f"@{Z}here and @{Z}channel"),
        ("<!subteam^S123|@oncall> fix", f"@{Z}oncall fix"),
        ("<!subteam^S123> fix", f"@{Z}team fix"),
        ("due <!date^1392734382^{date}|Feb 18, 2014>", "due Feb 18, 2014"),
        ("<https://evil.example|re-auth>", "re-auth (https://evil.example)"),
        ("<https://ok.example>", "https://ok.example"),
        ("a & b < c > d", "a &amp; b &lt; c &gt; d"),
        ("already &lt;escaped&gt;", "already &amp;lt;escaped&amp;gt;"),
        ("mail ops@example.com", "mail ops@example.com"),
    ],
)
def test_slack_text_mentions_no_one_and_shows_where_links_go(text: str, expected: str) -> None:
    assert safe_slack(text) == expected
    assert_plain_slack(expected)


def test_slack_may_mention_the_author_and_only_the_author() -> None:
    text = "<@U777> asked; <@U777|me> again; <@U888> not"
    assert safe_slack(text, allow_mention="U777") == f"<@U777> asked; <@U777> again; @{Z}U888 not"


def test_rendered_result_is_safe_in_each_dialect() -> None:
    result = {"summary": "Tell <!here> and @org/sec ![x](https://b)", "questions": ["@bob?"]}
    github = render_result(result, [])
    assert github.startswith("**Summary**: ")
    assert_plain_github(github)
    slack = render_result(result, [], "slack")
    assert slack.startswith("*Summary*: ")
    assert_plain_slack(slack)


def test_labels_shown_in_events_are_inert() -> None:
    assert neutralise_mentions("@acme/sec") == f"@{Z}acme/sec"


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


# Text a payload could steer a model into writing: the syntax of mentions, links, images,
# HTML and entities in both dialects, cut and joined at random.
FRAGMENTS = [
    "@",
    "@alice",
    "@Alice",
    "@alice-x",
    "@alice/team",
    "@here",
    "#",
    "#C1",
    "<",
    ">",
    "<@U1>",
    "<@UOK>",
    "<@UOK|x>",
    "<#C1|general>",
    "<!here>",
    "<!subteam^S1|@ops>",
    "<!date^1^{date}|x>",
    "<https://e.x|go>",
    "|",
    "!",
    "[",
    "]",
    "(",
    ")",
    "](https://e.x)",
    "![",
    "[1]: https://e.x",
    "\\",
    "&",
    "&#64;",
    "&commat;",
    "&lt;",
    ";",
    "_",
    "*",
    "`",
    "é",
    "\n",
    "\n\n",
    " ",
    "<img src=https://b.x>",
    "<a href=https://e.x>",
    "</a>",
    "<!--",
    "`",
    "``",
    "|",
    "\n-|-\n",
]
MODEL_TEXT = st.lists(
    st.sampled_from(FRAGMENTS) | st.text(alphabet="aAU0-_.:/ ", max_size=3), max_size=24
).map("".join)


@settings(max_examples=500)
@given(MODEL_TEXT)
def test_property_no_notifying_mention_image_link_or_html_reaches_github(text: str) -> None:
    assert_plain_github(render_result({"summary": text, "notes": [text]}, []))


@settings(max_examples=500)
@given(MODEL_TEXT)
def test_property_only_the_allowed_author_is_mentioned_on_github(text: str) -> None:
    assert_plain_github(safe_github(text, allow_mention="alice"), allowed="alice")


@settings(max_examples=500)
@given(MODEL_TEXT)
def test_property_no_notifying_mention_or_disguised_link_reaches_slack(text: str) -> None:
    assert_plain_slack(render_result({"summary": text, "notes": [text]}, [], "slack"))


@settings(max_examples=500)
@given(MODEL_TEXT)
def test_property_only_the_allowed_author_is_mentioned_on_slack(text: str) -> None:
    assert_plain_slack(safe_slack(text, allow_mention="UOK"), allowed="UOK")
