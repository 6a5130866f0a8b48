"""Model text made safe to post. A payload can steer what the model writes, so whatever it
writes is shown as plain text: it mentions no one, embeds no image and disguises no link (a
link shows its URL), in GitHub Markdown and Slack mrkdwn alike. The one mention a route may
allow is the author of the PR, issue or message, whose name comes from the payload."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

Dialect = Literal["github", "slack"]

# A zero-width space after "@" keeps the text readable and stops the provider's mention parser.
ZERO_WIDTH_SPACE = "\u200b"

# A GitHub mention: "@" then a login (or org/team), after the start or any character that is
# not an ASCII word character (GitHub's `\W` is ASCII: "é@alice" mentions alice). After "_"
# too: GitHub finds mentions in the rendered text, where `_@alice_` is emphasis around "@alice".
GITHUB_AT = re.compile(r"(?<![A-Za-z0-9])@(?=[A-Za-z0-9])")
GITHUB_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
# Backslash-escaped in GitHub Markdown, so model text can open no link, image, link reference
# definition, footnote, raw HTML (`<img>`, `<a href>`, our hidden `<!--` markers) or autolink;
# the backslash itself first, so a model's own backslash cannot undo ours.
GITHUB_ESCAPED = re.compile(r"[\\\[\]<>]")
# An entity spelled out (`&#64;`, `&commat;`) renders as its character, and GitHub finds mentions
# in the rendered text: escaped, it shows as typed.
GITHUB_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
BACKTICKS = re.compile(r"`+")

# Slack's control sequences: `<@U1>`, `<#C1|name>`, `<!here>`, `<!date^...|text>`, `<url|text>`.
SLACK_SEQUENCE = re.compile(r"<([^<>]*)>")
BROADCASTS = frozenset({"here", "channel", "everyone"})
SLACK_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def neutralise_mentions(text: str, *, allow: str | None = None) -> str:
    """Every GitHub mention in `text` made inert (`@alice`, `@org/team`, `@here`), but for
    `allow`'s own login when a route allows mentioning the author."""

    def at(match: re.Match[str]) -> str:
        login = GITHUB_LOGIN.match(text, match.end())
        assert login is not None  # the lookahead saw its first character
        following = text[login.end() : login.end() + 1]
        # `@alice/team` is a team of the org alice, not alice herself.
        if allow and login.group().lower() == allow.lower() and following != "/":
            return "@"
        return "@" + ZERO_WIDTH_SPACE

    return GITHUB_AT.sub(at, text)


def _code_spans(text: str) -> list[tuple[int, int]]:
    """The inline code spans (`x`, ``x``) of `text` that every CommonMark renderer reads as
    code, where nothing is a link, an image, HTML or a mention and escapes would show. Each
    must open and close on one line, as a renderer pairs backtick runs (left to right, equal
    lengths); a run left unpaired on its line could pair across lines and shift every span
    after it, so then none is trusted. A span holding `|` may be cells of a table: not one."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        runs = [(m.start() + offset, m.end() + offset) for m in BACKTICKS.finditer(line)]
        index = 0
        while index < len(runs):
            start, end = runs[index]
            closer = next(
                (j for j in range(index + 1, len(runs)) if runs[j][1] - runs[j][0] == end - start),
                None,
            )
            if closer is None:
                return []
            spans.append((start, runs[closer][1]))
            index = closer + 1
        offset += len(line) + 1
    return [(start, end) for start, end in spans if "|" not in text[start:end]]


def safe_github(text: str, *, allow_mention: str | None = None) -> str:
    """Model text as GitHub Markdown that renders it as typed, mentions made inert (code
    spans as they are: nothing in them is live, and an escape there would show)."""

    def escaped(part: str) -> str:
        part = GITHUB_ESCAPED.sub(lambda match: "\\" + match.group(), part)
        return GITHUB_ENTITY.sub(r"\\&", part)

    parts: list[str] = []
    done = 0
    for start, end in _code_spans(text):
        parts += [escaped(text[done:start]), text[start:end]]
        done = end
    parts.append(escaped(text[done:]))
    return neutralise_mentions("".join(parts), allow=allow_mention)


def safe_slack(text: str, *, allow_mention: str | None = None) -> str:
    """Model text as Slack mrkdwn: no control sequence but `<@allow_mention>`; a link shows its
    URL, a mention or channel its name, inert; `&`, `<` and `>` escaped as Slack asks."""
    kept: list[str] = []

    def sequence(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if allow_mention and target == f"@{allow_mention}":
            kept.append(f"<{target}>")
            return f"\x00{len(kept) - 1}\x00"
        kind = target[:1]
        if kind == "!":
            name = target[1:].partition("^")[0].lower()
            if name in BROADCASTS:
                return "@" + name
            if name == "subteam":
                return "@" + (label or "team").lstrip("@")
            # A date (or a command Slack adds later): the fallback text it carries.
            return label or target[1:]
        if kind in ("@", "#"):
            # A user or a channel: its name (else its id), inert.
            return kind + (label or target[1:]).lstrip("@#")
        if ":" in target:
            # A link: its text, and where it really goes.
            return f"{label} ({target})" if label else target
        # Not a sequence Slack acts on ("a < b > c"): shown as typed, escaped below.
        return match.group()

    text = SLACK_SEQUENCE.sub(sequence, text.replace("\x00", ""))
    text = re.sub(r"[&<>]", lambda match: SLACK_ESCAPES[match.group()], text)
    # Slack parses no plain `@name` here (`link_names` is off); made inert for a later change.
    text = re.sub(r"(?<![A-Za-z0-9])([@#])(?=[A-Za-z0-9])", r"\1" + ZERO_WIDTH_SPACE, text)
    return re.sub("\x00([0-9]+)\x00", lambda match: kept[int(match.group(1))], text)


def _heading(field: str) -> str:
    return field.replace("_", " ").capitalize()


def render_result(
    result: Mapping[str, Any],
    fields: list[str],
    dialect: Dialect = "github",
    *,
    allow_mention: str | None = None,
) -> str:
    """The result as GitHub Markdown (or Slack mrkdwn, which bolds with one `*`), the chosen
    fields in order (all of them when none are chosen), each value made safe."""
    bold = "**" if dialect == "github" else "*"
    safe: Callable[..., str] = safe_github if dialect == "github" else safe_slack

    def shown(value: Any) -> str:
        return safe(str(value), allow_mention=allow_mention)

    lines: list[str] = []
    for field in fields or list(result):
        value = result.get(field)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            lines.append(f"{bold}{_heading(field)}{bold}")
            lines.extend(f"- {shown(item)}" for item in value)
        else:
            lines.append(f"{bold}{_heading(field)}{bold}: {shown(value)}")
        lines.append("")
    return "\n".join(lines).strip()
